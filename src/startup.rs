//! Building the application: the one path `main` and the integration tests both take.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::config::Settings;
use crate::db::{self, Pool};
use crate::devdb;
use crate::error::Error;
use crate::routes::embed::EmbedScript;
use crate::routes::operations::{Operations, SecurityError};
use crate::routes::response_cache::ResponseCache;
use crate::routes::state::{AppState, Keys, Readiness};
use crate::routes::{self, extract, middleware, openapi};

/// The first retry waits this long, each later one twice as long, up to the maximum.
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    LocalDatabase(#[from] devdb::LocalDbError),
    /// Migrating, or loading the keys kept in the database.
    #[error("could not prepare the database ({target}): {cause}")]
    Preparation { target: String, cause: String },
    #[error("start-up was interrupted while finding the database: {0}")]
    Interrupted(String),
    #[error("could not listen on {addr}: {cause}")]
    Listen { addr: String, cause: std::io::Error },
    #[error("the documented security cannot be enforced: {0}")]
    Security(#[from] SecurityError),
}

/// Where the database is: `DATABASE_URL`, or a local server found or started for us.
pub struct Database {
    pub url: String,
    /// Held while Beacon runs when it found or started a local PostgreSQL.
    pub local: Option<devdb::LocalServer>,
}

impl Database {
    /// Blocking: may start a PostgreSQL cluster. The log says which database was chosen.
    pub fn resolve(settings: &Settings) -> Result<Self, StartupError> {
        if let Some(url) = &settings.database_url {
            tracing::info!("using the database from DATABASE_URL");
            return Ok(Self {
                url: url.clone(),
                local: None,
            });
        }
        let options = devdb::LocalOptions {
            data_dir: settings.data_dir.clone(),
            ..devdb::LocalOptions::default()
        };
        let server = devdb::find_server(&options)?;
        let url = server.ensure_database("beacon")?;
        tracing::info!(
            database = "beacon",
            "DATABASE_URL is not set; using the {}",
            server.describe()
        );
        Ok(Self {
            url,
            local: Some(server),
        })
    }

    /// Stops a private cluster this process started, unless another process still uses it.
    pub fn release(self) {
        if let Some(local) = self.local {
            local.release();
        }
    }

    /// Safe to log: the URL without its password.
    pub fn describe(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut url) => {
                let _ = url.set_password(None);
                url.to_string()
            }
            Err(_) => "the configured database".to_owned(),
        }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    /// The keyless metrics listener of `BEACON_METRICS_ADDR`, with its port.
    metrics: Option<(u16, Server)>,
    database: Database,
    workers: Workers,
    preparation: Preparation,
}

/// Background loops, started with the server and stopped with it.
struct Workers {
    pool: Pool,
    settings: Settings,
    /// Where the `LISTEN` connections go.
    listen_url: String,
    cache: web::Data<ResponseCache>,
}

impl Workers {
    fn start(self) -> Vec<actix_web::rt::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        if let Some(every) = self.settings.events.scan_interval {
            tasks.push(actix_web::rt::spawn(crate::workers::events::scan(
                self.pool.clone(),
                every,
            )));
        }
        // One listener wakes every delivery loop (the Meta lead fetches run unless a test turns them off); without
        // it they still poll, only later.
        let listener =
            crate::db::notify::Listener::start(&self.listen_url, &[crate::db::events::CHANNEL])
                .map_err(|error| tracing::warn!(%error, "delivery workers will poll only"))
                .ok()
                .map(std::sync::Arc::new);
        tasks.extend(self.start_webhooks(listener.as_ref()));
        tasks.extend(self.start_mail(listener.as_ref()));
        tasks.extend(self.start_meta(listener.as_ref()));
        tasks.extend(self.start_cache_invalidation());
        if let Some(every) = self.settings.leads.prune_interval {
            tasks.push(actix_web::rt::spawn(crate::workers::prune::run(
                self.pool.clone(),
                self.settings.leads.clone(),
                every,
            )));
        }
        let retention = crate::workers::retention::Retention {
            leads: self.settings.leads.retention,
            events: self.settings.events.retention,
        };
        if retention.leads.is_some() || retention.events.is_some() {
            tasks.push(actix_web::rt::spawn(crate::workers::retention::run(
                self.pool,
                self.settings.leads,
                retention,
            )));
        }
        tasks
    }

    /// Clears the response cache whenever any process commits a write to the content (and when
    /// the listener reconnects, since notifications sent meanwhile were lost).
    fn start_cache_invalidation(&self) -> Option<actix_web::rt::task::JoinHandle<()>> {
        use crate::db::notify::{CONTENT_CHANNEL, Listener, Wake};
        self.settings.content.response_cache.as_ref()?;
        // Without it, other processes' writes reach this cache only through its TTL.
        let listener = Listener::start(&self.listen_url, &[CONTENT_CHANNEL])
            .map_err(|error| tracing::warn!(%error, "the response cache will rely on its TTL"))
            .ok()?;
        let mut waiter = listener.waiter(CONTENT_CHANNEL).ok()?;
        let cache = self.cache.clone();
        Some(actix_web::rt::spawn(async move {
            let _listener = listener;
            loop {
                let quiet = actix_web::rt::time::sleep(Duration::from_secs(3600));
                if waiter.wait(quiet).await == Wake::Notified {
                    cache.invalidate();
                }
            }
        }))
    }

    /// `BEACON_WEBHOOK_WORKERS` delivery loops, woken by one listener on `beacon_events`.
    fn start_webhooks(
        &self,
        listener: Option<&std::sync::Arc<crate::db::notify::Listener>>,
    ) -> Vec<actix_web::rt::task::JoinHandle<()>> {
        use crate::workers::webhooks::{self, Delivery};
        let count = self.settings.events.webhook_workers;
        if count == 0 {
            return Vec::new();
        }
        let events = &self.settings.events;
        let client = match webhooks::client(events.allow_private_targets, &events.extra_tls_roots) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "webhook delivery is off: no HTTP client");
                return Vec::new();
            }
        };
        (0..count)
            .map(|_| {
                let waiter =
                    listener.and_then(|listener| listener.waiter(crate::db::events::CHANNEL).ok());
                let keep = listener.cloned();
                let delivery = Delivery {
                    pool: self.pool.clone(),
                    client: client.clone(),
                    schedule: self.settings.events.retry_schedule.clone(),
                    allow_private_targets: self.settings.events.allow_private_targets,
                    disable_after: self.settings.events.disable_after,
                };
                actix_web::rt::spawn(async move {
                    // The listener lives as long as a worker waits on it.
                    let _listener = keep;
                    webhooks::run(delivery, waiter).await;
                })
            })
            .collect()
    }
}

impl Workers {
    /// One loop fetching the leads Meta announces: each is a quick Graph call.
    fn start_meta(
        &self,
        listener: Option<&std::sync::Arc<crate::db::notify::Listener>>,
    ) -> Option<actix_web::rt::task::JoinHandle<()>> {
        use crate::workers::meta::{self, Fetcher};
        let graph = self.settings.meta.clone();
        if !graph.fetch {
            return None;
        }
        let client = crate::workers::webhooks::client(graph.allow_private_graph, &[])
            .map_err(|error| tracing::error!(%error, "meta lead fetches are off: no HTTP client"))
            .ok()?;
        let fetcher = Fetcher {
            pool: self.pool.clone(),
            client,
            graph,
            schedule: self.settings.events.retry_schedule.clone(),
            intake: crate::services::meta_leads::Intake {
                settings: self.settings.leads.clone(),
                suppression_key: self.settings.leads.suppression_secret.clone(),
            },
        };
        let waiter = listener.and_then(|listener| listener.waiter(crate::db::events::CHANNEL).ok());
        let keep = listener.cloned();
        Some(actix_web::rt::spawn(async move {
            let _listener = keep;
            meta::run(fetcher, waiter).await;
        }))
    }

    /// One e-mail loop while `BEACON_SMTP_URL` is set: e-mails are few, one sender keeps up.
    fn start_mail(
        &self,
        listener: Option<&std::sync::Arc<crate::db::notify::Listener>>,
    ) -> Option<actix_web::rt::task::JoinHandle<()>> {
        use crate::services::notifications::Style;
        use crate::workers::mail::{self, Mailer};
        let notify = &self.settings.notify;
        let url = notify.smtp.as_ref()?;
        let style = Style {
            zone: self.settings.leads.calendar.time_zone(),
            lead_url: notify.lead_url.clone(),
        };
        let mailer = Mailer::new(
            self.pool.clone(),
            url,
            &notify.from,
            self.settings.events.retry_schedule.clone(),
            style,
        )
        .map_err(|error| tracing::error!(%error, "staff e-mail is off"))
        .ok()?;
        let waiter = listener.and_then(|listener| listener.waiter(crate::db::events::CHANNEL).ok());
        let keep = listener.cloned();
        Some(actix_web::rt::spawn(async move {
            let _listener = keep;
            mail::run(mailer, waiter).await;
        }))
    }
}

impl Application {
    /// Finds the database, binds the listener and builds the server (not yet run). With
    /// `DATABASE_URL` set, a database that is down or not migrated does not stop start-up:
    /// Beacon serves 503s and prepares the database in the background once it answers.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let resolve_settings = settings.clone();
        let database = web::block(move || Database::resolve(&resolve_settings))
            .await
            .map_err(|e| StartupError::Interrupted(e.to_string()))??;
        warn_about_stored_secrets(&settings);
        crate::telemetry::metrics::install();
        let pool = db::pool(&database.url, &settings.database);
        let preparation = Preparation {
            pool: pool.clone(),
            settings: settings.clone(),
            readiness: Readiness::default(),
        };
        // One attempt now, so a reachable database is ready before the first request.
        if let Err(error) = preparation.attempt().await {
            if settings.database_url.is_none() {
                // The local server was just found or started: a failure is not an outage.
                return Err(StartupError::Preparation {
                    target: database.describe(),
                    cause: error.to_string(),
                });
            }
            tracing::warn!(
                cause = %error,
                "the database is not ready; serving 503 until it is"
            );
        }

        let listener = TcpListener::bind(settings.addr).map_err(|cause| StartupError::Listen {
            addr: settings.addr.to_string(),
            cause,
        })?;
        let port = listener
            .local_addr()
            .map_err(|cause| StartupError::Listen {
                addr: settings.addr.to_string(),
                cause,
            })?
            .port();
        let cache = web::Data::new(ResponseCache::new(settings.content.response_cache.clone()));
        let workers = Workers {
            pool: pool.clone(),
            settings: settings.clone(),
            // `LISTEN` needs a session of its own: past a transaction-mode pooler if there is one.
            listen_url: settings
                .listen_database_url
                .clone()
                .unwrap_or_else(|| database.url.clone()),
            cache: cache.clone(),
        };
        // r2d2 pools are shared handles: without a replica both names are the one pool.
        let read_pool = match &settings.read_database_url {
            Some(url) => db::pool(url, &settings.database),
            None => pool.clone(),
        };
        let state = web::Data::new(AppState {
            pool,
            read_pool,
            settings,
            readiness: preparation.readiness.clone(),
        });
        let metrics = match state.settings.metrics_addr {
            Some(addr) => Some(metrics_server(addr, state.clone())?),
            None => None,
        };
        let server = server(listener, state, cache, port)?;
        Ok(Self {
            port,
            server,
            metrics,
            database,
            workers,
            preparation,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the keyless metrics listener, when `BEACON_METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until SIGINT/SIGTERM, letting in-flight requests finish (at most the shutdown
    /// timeout), then releases the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let mut background = self.workers.start();
        if !self.preparation.readiness.is_ready() {
            background.push(actix_web::rt::spawn(self.preparation.until_ready()));
        }
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        let result = self.server.await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        for task in background {
            task.abort();
        }
        let database = self.database;
        let _ = web::block(move || database.release()).await;
        result
    }
}

/// Start-up's database work: migrate, then load the keys that live in the database.
struct Preparation {
    pool: Pool,
    settings: Settings,
    readiness: Readiness,
}

impl Preparation {
    async fn attempt(&self) -> Result<(), Error> {
        let applied = db::run(&self.pool, db::migrate).await?;
        tracing::info!(applied, "database migrated");
        // Every replica must verify every other's tokens and hash numbers alike, so an unset
        // key lives in the database.
        let preview = match &self.settings.content.preview_secret {
            Some(key) => key.clone(),
            None => db::run(&self.pool, crate::services::articles::stored_preview_key).await?,
        };
        // New events queue e-mails for these recipients (nobody while SMTP is not set up).
        let recipients = match self.settings.notify.smtp {
            Some(_) => self.settings.notify.recipients.clone(),
            None => Vec::new(),
        };
        db::run(&self.pool, move |conn| {
            crate::services::notifications::set_recipients(conn, &recipients)
        })
        .await?;
        let suppression = match &self.settings.leads.suppression_secret {
            Some(key) => key.clone(),
            None => db::run(&self.pool, crate::services::suppression::stored_key).await?,
        };
        self.readiness.set_ready(Keys {
            preview,
            suppression,
        });
        tracing::info!("the database is ready");
        Ok(())
    }

    /// Retries with a growing pause until the database is ready. Causes are logged; they name
    /// the server but never the URL's password.
    async fn until_ready(self) {
        let mut pause = FIRST_RETRY;
        loop {
            actix_web::rt::time::sleep(pause).await;
            match self.attempt().await {
                Ok(()) => return,
                Err(error) => tracing::warn!(
                    cause = %error,
                    retry_in_ms = pause.as_millis(),
                    "the database is still not ready"
                ),
            }
            pause = (pause * 2).min(MAX_RETRY);
        }
    }
}

/// A key kept in the database is in every dump and backup of it: say so at every start.
fn warn_about_stored_secrets(settings: &Settings) {
    if settings.content.preview_secret.is_none() {
        tracing::warn!(
            "BEACON_PREVIEW_SECRET is not set, so the preview-token key is stored in the \
             database: anyone with a dump or backup of it can forge preview tokens and read \
             unpublished articles. Set BEACON_PREVIEW_SECRET (the same on every replica) to at \
             least 32 random characters, e.g. from `openssl rand -base64 48`."
        );
    }
    if settings.leads.suppression_secret.is_none() {
        tracing::warn!(
            "BEACON_SUPPRESSION_SECRET is not set, so the opt-out key is stored in the database: \
             anyone with a dump or backup of it can test phone numbers against the opt-out list \
             and learn who opted out. Set BEACON_SUPPRESSION_SECRET (the same on every replica) \
             to at least 32 random characters, e.g. from `openssl rand -base64 48`; changing it \
             later makes earlier opt-outs unrecognisable."
        );
    }
}

fn server(
    listener: TcpListener,
    state: web::Data<AppState>,
    cache: web::Data<ResponseCache>,
    port: u16,
) -> Result<Server, StartupError> {
    let spec = openapi::spec();
    let operations = web::Data::new(Operations::from_spec(&spec)?);
    let settings = state.settings.clone();
    let http = settings.http.clone();
    let embed = web::Data::new(EmbedScript::new(&settings.leads));
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(routes::response_cache::serve))
            .wrap(cors(&settings.cors_origins))
            .wrap(from_fn(middleware::wait_for_database))
            .wrap(from_fn(middleware::observe))
            .app_data(state.clone())
            .app_data(operations.clone())
            .app_data(cache.clone())
            .app_data(embed.clone())
            .app_data(web::PayloadConfig::new(settings.max_body_bytes))
            .app_data(web::QueryConfig::default().error_handler(extract::query_error))
            .app_data(web::PathConfig::default().error_handler(extract::path_error))
            .into_utoipa_app()
            .configure(routes::configure)
            .into_app()
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url("/openapi.json", spec.clone())
                    .config(
                        // No validator badge: the docs page must not call anything but Beacon.
                        SwaggerConfig::from("/openapi.json")
                            .validator_url("none")
                            .try_it_out_enabled(true),
                    ),
            )
            .route("/docs", web::get().to(redirect_to_docs))
            .default_service(web::to(routes::fallback::fallback))
    })
    .client_request_timeout(http.header_read_timeout)
    .client_disconnect_timeout(http.disconnect_timeout)
    .keep_alive(Some(http.keep_alive).filter(|idle| !idle.is_zero()))
    .shutdown_timeout(http.shutdown_timeout.as_secs())
    .listen(listener)
    .map_err(|cause| StartupError::Listen {
        addr: format!("port {port}"),
        cause,
    })?
    .run();
    Ok(server)
}

/// `GET /metrics` alone, without a key, for Prometheus on a private address. Its scrapes are
/// not counted as HTTP requests; anything else is a bare 404.
fn metrics_server(
    addr: SocketAddr,
    state: web::Data<AppState>,
) -> Result<(u16, Server), StartupError> {
    let listen_error = |cause| StartupError::Listen {
        addr: addr.to_string(),
        cause,
    };
    let listener = TcpListener::bind(addr).map_err(listen_error)?;
    let port = listener.local_addr().map_err(listen_error)?.port();
    let http = state.settings.http.clone();
    let server = HttpServer::new(move || {
        App::new().app_data(state.clone()).route(
            "/metrics",
            web::get().to(routes::metrics::get_metrics_unkeyed),
        )
    })
    .workers(1)
    .client_request_timeout(http.header_read_timeout)
    .client_disconnect_timeout(http.disconnect_timeout)
    .shutdown_timeout(http.shutdown_timeout.as_secs())
    .listen(listener)
    .map_err(listen_error)?
    .run();
    tracing::info!(%addr, port, "serving GET /metrics without a key");
    Ok((port, server))
}

async fn redirect_to_docs() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// Browsers may call the API only from the configured origins. Other origins get no CORS
/// headers (the browser then refuses the response) rather than an error.
fn cors(origins: &[String]) -> Cors {
    let cors = origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin));
    cors.allowed_methods([
        Method::GET,
        Method::POST,
        Method::PATCH,
        Method::PUT,
        Method::DELETE,
    ])
    .allowed_headers([
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        header::IF_MATCH,
        header::IF_NONE_MATCH,
        header::HeaderName::from_static("idempotency-key"),
        middleware::REQUEST_ID,
    ])
    .expose_headers([
        header::ETAG,
        header::LOCATION,
        header::LINK,
        header::RETRY_AFTER,
        header::HeaderName::from_static(routes::leads::IDEMPOTENT_REPLAYED),
        middleware::REQUEST_ID,
    ])
    .block_on_origin_mismatch(false)
    .max_age(3600)
}
