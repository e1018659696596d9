//! Building the application: the one path `main` and the integration tests both take.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::config::Settings;
use crate::db::{self, Pool, local};
use crate::middleware;
use crate::openapi;
use crate::routes::{self, extract, fallback::RouteTable};

/// What every handler can reach.
pub struct AppState {
    pub pool: Pool,
    pub settings: Settings,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Database(#[from] local::LocalDbError),
    #[error("could not prepare the database ({target}): {cause}")]
    Migration { target: String, cause: String },
    #[error("could not listen on {addr}: {cause}")]
    Listen { addr: String, cause: std::io::Error },
}

/// Where the database is: `DATABASE_URL`, or a local server found or started for us.
pub struct Database {
    pub url: String,
    /// Held while Beacon runs when it found or started a local PostgreSQL.
    pub local: Option<local::LocalServer>,
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
        let options = local::LocalOptions {
            data_dir: settings.data_dir.clone(),
            ..local::LocalOptions::default()
        };
        let server = local::find_server(&options)?;
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
    database: Database,
    workers: Workers,
}

/// Background loops, started with the server and stopped with it.
struct Workers {
    pool: Pool,
    settings: Settings,
}

impl Workers {
    fn start(self) -> Vec<actix_web::rt::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        if let Some(older_than) = self.settings.leads.retention {
            tasks.push(actix_web::rt::spawn(crate::workers::retention::run(
                self.pool,
                self.settings.leads,
                older_than,
            )));
        }
        tasks
    }
}

impl Application {
    /// Finds the database, migrates it, binds the listener and builds the server (not yet run).
    pub async fn build(mut settings: Settings) -> Result<Self, StartupError> {
        let resolve_settings = settings.clone();
        let database = web::block(move || Database::resolve(&resolve_settings))
            .await
            .map_err(|e| StartupError::Migration {
                target: "local PostgreSQL".to_owned(),
                cause: e.to_string(),
            })??;
        let pool = db::pool(&database.url, &settings.database);
        let applied =
            db::run(&pool, db::migrate)
                .await
                .map_err(|error| StartupError::Migration {
                    target: database.describe(),
                    cause: error.to_string(),
                })?;
        tracing::info!(applied, "database migrated");
        if settings.content.preview_key.is_none() {
            // Every replica must verify every other's tokens, so the key lives in the database.
            let key = db::run(&pool, crate::services::articles::stored_preview_key)
                .await
                .map_err(|error| StartupError::Migration {
                    target: database.describe(),
                    cause: error.to_string(),
                })?;
            settings.content.preview_key = Some(key);
        }
        if settings.leads.suppression_key.is_none() {
            // Every replica must hash numbers alike, so the key lives in the database too.
            let key = db::run(&pool, crate::services::opt_out::stored_key)
                .await
                .map_err(|error| StartupError::Migration {
                    target: database.describe(),
                    cause: error.to_string(),
                })?;
            settings.leads.suppression_key = Some(key);
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
        let workers = Workers {
            pool: pool.clone(),
            settings: settings.clone(),
        };
        let server = server(listener, settings, pool).map_err(|cause| StartupError::Listen {
            addr: format!("port {port}"),
            cause,
        })?;
        Ok(Self {
            port,
            server,
            database,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, letting in-flight requests finish, then releases the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let background = self.workers.start();
        let result = self.server.await;
        for task in background {
            task.abort();
        }
        let database = self.database;
        let _ = web::block(move || database.release()).await;
        result
    }
}

fn server(listener: TcpListener, settings: Settings, pool: Pool) -> std::io::Result<Server> {
    let spec = openapi::spec();
    let routes = web::Data::new(RouteTable::from_spec(&spec));
    let state = web::Data::new(AppState {
        pool,
        settings: settings.clone(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .wrap(cors(&settings.cors_origins))
            .wrap(from_fn(middleware::observe))
            .app_data(state.clone())
            .app_data(routes.clone())
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
    .listen(listener)?
    .shutdown_timeout(30)
    .run();
    Ok(server)
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
