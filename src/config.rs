//! Typed settings read once from the environment and validated at start-up.
//!
//! Every variable, its default and what it expects is listed in `README.md` and `.env.example`;
//! keep the three in step.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::email::Email;
use crate::domain::meta::GraphVersion;
use crate::domain::notification::SmtpUrl;
use crate::domain::preview::PreviewKey;
use crate::domain::share::SiteUrls;
use crate::domain::text;
use crate::domain::webhook::RetrySchedule;
use chrono::TimeDelta;
use phonenumber::country;

use crate::domain::client_ip::TrustedProxies;
use crate::domain::contact_deadline::{BusinessCalendar, CalendarError};
use crate::domain::crisis::CrisisResources;
// The embed's consent wording is sent back with every enquiry, so it is held to intake's limit.
use crate::domain::lead::{CONSENT_TEXT_MAX_CHARS, FORM_FIELDS, HTML_FORM_FIELDS};
use crate::domain::origin::Origin;
use crate::domain::phone;
use crate::domain::rate_limit::FixedWindow;
use crate::domain::suppression::SuppressionKey;

/// Everything Beacon can be configured with.
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`; when absent Beacon finds or starts a local PostgreSQL.
    pub database_url: Option<String>,
    /// `BEACON_LISTEN_DATABASE_URL`: where the `LISTEN` connections go, when `DATABASE_URL`
    /// passes through a pooler in transaction mode (which cannot keep a `LISTEN`).
    pub listen_database_url: Option<String>,
    /// `DATABASE_READ_URL`: a read replica for public (keyless) reads of articles, tags and
    /// interests; writes and keyed reads stay on `DATABASE_URL`. Unset: one pool for all.
    pub read_database_url: Option<String>,
    /// `BEACON_ADDR`: where the HTTP server listens.
    pub addr: SocketAddr,
    /// `BEACON_METRICS_ADDR`: a second listener serving only `GET /metrics`, without a key
    /// (bind it where only Prometheus reaches); `None` leaves metrics to the keyed main one.
    pub metrics_addr: Option<SocketAddr>,
    pub database: DatabaseSettings,
    /// `BEACON_DATA_DIR`: where a private PostgreSQL cluster lives when one has to be started.
    pub data_dir: PathBuf,
    /// `BEACON_CORS_ORIGINS`: origins allowed to call the API from a browser.
    pub cors_origins: Vec<String>,
    /// `BEACON_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `BEACON_MAX_BODY_BYTES`: larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    pub http: HttpSettings,
    pub content: ContentSettings,
    pub leads: LeadSettings,
    pub events: EventSettings,
    pub notify: NotifySettings,
    pub meta: MetaSettings,
}

/// Where Meta lead ads are fetched from.
#[derive(Clone, Debug)]
pub struct MetaSettings {
    /// `BEACON_META_GRAPH_URL`: the Graph API's base (https).
    pub graph_url: url::Url,
    /// `BEACON_META_GRAPH_VERSION`: the Graph API version in each fetch's path.
    pub graph_version: GraphVersion,
    /// Lets fetches reach a private or loopback Graph address. Not read from the environment:
    /// only tests set it, for their local fake Graph server.
    pub allow_private_graph: bool,
    /// Runs the fetch loop (on by default). Not read from the environment: a test that holds
    /// the whole pool turns it off, so the loop's polling does not take part in what it counts.
    pub fetch: bool,
}

/// Staff e-mail notifications (a new lead, a missed contact deadline).
#[derive(Clone, Debug)]
pub struct NotifySettings {
    /// `BEACON_SMTP_URL`: where e-mails are sent; unset, none are queued or sent.
    pub smtp: Option<SmtpUrl>,
    /// `BEACON_NOTIFY_EMAILS`: who gets each e-mail (required with `BEACON_SMTP_URL`).
    pub recipients: Vec<Email>,
    /// `BEACON_NOTIFY_FROM`: the sender address.
    pub from: Email,
    /// `BEACON_NOTIFY_LEAD_URL`: where staff read a lead, `{id}` standing for its id.
    pub lead_url: String,
}

/// The outbox's background work.
#[derive(Clone, Debug)]
pub struct EventSettings {
    /// `BEACON_EVENT_SCAN_SECS`: how often time-based events (a scheduled article going live, a
    /// lead past its deadline) are looked for; `None` (`0`) turns the scan off in this process.
    pub scan_interval: Option<Duration>,
    /// `BEACON_WEBHOOK_WORKERS`: webhook delivery loops in this process; 0 turns delivery off.
    pub webhook_workers: usize,
    /// `BEACON_WEBHOOK_RETRY_SCHEDULE`: the wait before each attempt of a delivery.
    pub retry_schedule: RetrySchedule,
    /// `BEACON_WEBHOOK_ALLOW_PRIVATE_TARGETS`: deliver to private, loopback and link-local
    /// addresses too (local receivers in development and tests).
    pub allow_private_targets: bool,
    /// `BEACON_WEBHOOK_SECRET_OVERLAP`: how long a rotated-out secret still signs.
    pub secret_overlap: Duration,
    /// `BEACON_WEBHOOK_DISABLE_AFTER`: a subscription whose attempts have all failed this long
    /// is disabled.
    pub disable_after: Duration,
    /// Extra roots (DER) trusted for https deliveries besides the system's. Not read from the
    /// environment: only tests set it, for a local receiver's self-signed certificate.
    pub extra_tls_roots: Vec<Vec<u8>>,
    /// `BEACON_EVENT_RETENTION_DAYS`: events older than this are deleted once no delivery
    /// needs them; `None` (`0`) keeps them.
    pub retention: Option<TimeDelta>,
}

/// How articles are served and linked.
#[derive(Clone, Debug)]
pub struct ContentSettings {
    /// `BEACON_SITE_URL` and `BEACON_ARTICLE_PATH`: the public site, for absolute article URLs
    /// in share blocks, canonical URLs and preview links.
    pub site: SiteUrls,
    /// `BEACON_PUBLIC_CACHE_CONTROL`: `Cache-Control` of public article and tag reads.
    pub public_cache_control: String,
    /// `BEACON_PREVIEW_SECRET`: signs preview tokens. When unset, start-up uses a random key
    /// created once in the database and shared by every replica.
    pub preview_secret: Option<PreviewKey>,
    /// `BEACON_PREVIEW_TTL_SECS`: how long a preview token works unless the request says less.
    pub preview_ttl: Duration,
    /// `BEACON_CACHE*`: the in-memory cache of public reads; `None` when turned off.
    pub response_cache: Option<ResponseCacheSettings>,
}

/// Limits of the in-memory cache of public article, tag and interest reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseCacheSettings {
    /// `BEACON_CACHE_TTL_SECS`: the longest an answer is reused; writes clear the cache sooner.
    pub ttl: Duration,
    /// `BEACON_CACHE_MAX_ENTRIES`.
    pub max_entries: usize,
    /// `BEACON_CACHE_MAX_MB`, in bytes: bodies, keys and headers together.
    pub max_bytes: usize,
}

/// Limits on slow clients and on shutdown.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// `BEACON_HEADER_READ_TIMEOUT_SECS`: the request head must arrive within this (408 and
    /// the connection is closed otherwise).
    pub header_read_timeout: Duration,
    /// `BEACON_BODY_READ_TIMEOUT_SECS`: a request body must arrive within this (408).
    pub body_read_timeout: Duration,
    /// `BEACON_KEEP_ALIVE_SECS`: an idle keep-alive connection is closed after this; zero
    /// turns keep-alive off.
    pub keep_alive: Duration,
    /// `BEACON_CLIENT_DISCONNECT_TIMEOUT_SECS`: how long a closing connection may linger.
    pub disconnect_timeout: Duration,
    /// `BEACON_SHUTDOWN_TIMEOUT_SECS`: after SIGTERM, requests in flight get this long to
    /// finish; then the process exits anyway.
    pub shutdown_timeout: Duration,
}

/// Pool and query limits.
#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `BEACON_DB_POOL_SIZE`.
    pub pool_size: u32,
    /// `BEACON_DB_CONNECT_TIMEOUT_SECS`: how long a request waits for a connection.
    pub connect_timeout: Duration,
    /// `BEACON_DB_STATEMENT_TIMEOUT_SECS`: PostgreSQL cancels statements running longer.
    pub statement_timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// A variable that is set but unusable; the message names it and what it expects.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}={value:?} is not valid: expected {expected}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub expected: Cow<'static, str>,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        Ok(Self {
            database_url: env.get("DATABASE_URL"),
            listen_database_url: env.get("BEACON_LISTEN_DATABASE_URL"),
            read_database_url: env.get("DATABASE_READ_URL"),
            addr: env.parse(
                "BEACON_ADDR",
                "127.0.0.1:8080",
                "a socket address such as 127.0.0.1:8080 or 0.0.0.0:8080",
            )?,
            metrics_addr: env.optional(
                "BEACON_METRICS_ADDR",
                "a socket address such as 127.0.0.1:9464",
            )?,
            database: DatabaseSettings {
                pool_size: env.bounded("BEACON_DB_POOL_SIZE", 10, 1..=200)?,
                connect_timeout: Duration::from_secs(env.bounded(
                    "BEACON_DB_CONNECT_TIMEOUT_SECS",
                    5,
                    1..=120,
                )?),
                statement_timeout: Duration::from_secs(env.bounded(
                    "BEACON_DB_STATEMENT_TIMEOUT_SECS",
                    15,
                    1..=3600,
                )?),
            },
            data_dir: PathBuf::from(
                env.get("BEACON_DATA_DIR")
                    .unwrap_or_else(|| ".beacon".into()),
            ),
            cors_origins: env.origins("BEACON_CORS_ORIGINS")?,
            log_format: env.log_format("BEACON_LOG_FORMAT")?,
            max_body_bytes: env.bounded("BEACON_MAX_BODY_BYTES", 1_048_576, 1_024..=67_108_864)?,
            http: HttpSettings {
                header_read_timeout: env.seconds("BEACON_HEADER_READ_TIMEOUT_SECS", 5, 1..=300)?,
                body_read_timeout: env.seconds("BEACON_BODY_READ_TIMEOUT_SECS", 15, 1..=600)?,
                keep_alive: env.seconds("BEACON_KEEP_ALIVE_SECS", 5, 0..=600)?,
                disconnect_timeout: env.seconds(
                    "BEACON_CLIENT_DISCONNECT_TIMEOUT_SECS",
                    1,
                    1..=60,
                )?,
                shutdown_timeout: env.seconds("BEACON_SHUTDOWN_TIMEOUT_SECS", 30, 1..=3600)?,
            },
            content: ContentSettings {
                site: env.site()?,
                public_cache_control: env.cache_control("BEACON_PUBLIC_CACHE_CONTROL")?,
                preview_secret: env.secret("BEACON_PREVIEW_SECRET", PreviewKey::new)?,
                preview_ttl: Duration::from_secs(env.bounded(
                    "BEACON_PREVIEW_TTL_SECS",
                    86_400,
                    60..=2_592_000,
                )?),
                response_cache: env.response_cache()?,
            },
            leads: LeadSettings::from_env(&env)?,
            events: EventSettings {
                scan_interval: Some(env.seconds("BEACON_EVENT_SCAN_SECS", 15, 0..=86_400)?)
                    .filter(|every| !every.is_zero()),
                webhook_workers: env.bounded("BEACON_WEBHOOK_WORKERS", 2, 0..=64)?,
                retry_schedule: env.retry_schedule("BEACON_WEBHOOK_RETRY_SCHEDULE")?,
                allow_private_targets: env.parse(
                    "BEACON_WEBHOOK_ALLOW_PRIVATE_TARGETS",
                    "false",
                    "true or false",
                )?,
                secret_overlap: env.wait("BEACON_WEBHOOK_SECRET_OVERLAP", "24h")?,
                disable_after: env.wait("BEACON_WEBHOOK_DISABLE_AFTER", "5d")?,
                extra_tls_roots: Vec::new(),
                retention: Some(env.bounded("BEACON_EVENT_RETENTION_DAYS", 90, 0..=36_500)?)
                    .filter(|days| *days > 0)
                    .map(TimeDelta::days),
            },
            notify: env.notify()?,
            meta: env.meta()?,
        })
    }
}

impl std::fmt::Debug for Settings {
    // The database URL may carry a password, so only its presence is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field(
                "listen_database_url",
                &self.listen_database_url.as_ref().map(|_| "<set>"),
            )
            .field(
                "read_database_url",
                &self.read_database_url.as_ref().map(|_| "<set>"),
            )
            .field("addr", &self.addr)
            .field("metrics_addr", &self.metrics_addr)
            .field("database", &self.database)
            .field("data_dir", &self.data_dir)
            .field("cors_origins", &self.cors_origins)
            .field("log_format", &self.log_format)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("http", &self.http)
            .field("content", &self.content)
            .field("leads", &self.leads)
            .field("events", &self.events)
            .field("notify", &self.notify)
            .field("meta", &self.meta)
            .finish()
    }
}

struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    /// A set but blank variable counts as unset, as shells and compose files often produce them.
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|value| !value.trim().is_empty())
    }

    fn error(
        &self,
        variable: &'static str,
        value: &str,
        expected: impl Into<Cow<'static, str>>,
    ) -> ConfigError {
        ConfigError {
            variable,
            value: value.to_owned(),
            expected: expected.into(),
        }
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: &str,
        expected: &'static str,
    ) -> Result<T, ConfigError> {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        value
            .trim()
            .parse()
            .map_err(|_| self.error(name, &value, expected))
    }

    fn optional<T: std::str::FromStr>(
        &self,
        name: &'static str,
        expected: &'static str,
    ) -> Result<Option<T>, ConfigError> {
        self.get(name)
            .map(|value| {
                value
                    .trim()
                    .parse()
                    .map_err(|_| self.error(name, &value, expected))
            })
            .transpose()
    }

    fn bounded<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd,
    {
        let Some(value) = self.get(name) else {
            return Ok(default);
        };
        match value.trim().parse::<T>() {
            Ok(parsed) if range.contains(&parsed) => Ok(parsed),
            _ => Err(self.error(name, &value, "a whole number within the documented range")),
        }
    }

    fn seconds(
        &self,
        name: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Duration, ConfigError> {
        self.bounded(name, default, range).map(Duration::from_secs)
    }

    /// Off with `BEACON_CACHE=off` or `BEACON_CACHE_TTL_SECS=0`; the limits are checked either way.
    fn response_cache(&self) -> Result<Option<ResponseCacheSettings>, ConfigError> {
        let on = match self.get("BEACON_CACHE").as_deref().map(str::trim) {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => return Err(self.error("BEACON_CACHE", other, "on or off")),
        };
        let ttl = self.seconds("BEACON_CACHE_TTL_SECS", 30, 0..=3_600)?;
        let max_entries = self.bounded("BEACON_CACHE_MAX_ENTRIES", 10_000, 1..=1_000_000)?;
        let max_mb: usize = self.bounded("BEACON_CACHE_MAX_MB", 64, 1..=16_384)?;
        Ok((on && !ttl.is_zero()).then_some(ResponseCacheSettings {
            ttl,
            max_entries,
            max_bytes: max_mb * 1024 * 1024,
        }))
    }

    fn retry_schedule(&self, name: &'static str) -> Result<RetrySchedule, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(RetrySchedule::default());
        };
        RetrySchedule::parse(&value).map_err(|e| self.error(name, &value, e.to_string()))
    }

    /// A duration written like a retry schedule's entries (`30s`, `24h`, `5d`; at most 7 days).
    fn wait(&self, name: &'static str, default: &str) -> Result<Duration, ConfigError> {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        crate::domain::webhook::parse_duration(value.trim()).ok_or_else(|| {
            self.error(
                name,
                &value,
                "must be a duration such as 30s, 24h or 5d (at most 7d)".to_owned(),
            )
        })
    }

    fn origins(&self, name: &'static str) -> Result<Vec<String>, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(Vec::new());
        };
        value
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                Origin::parse(origin).map(String::from).map_err(|_| {
                    self.error(
                        name,
                        &value,
                        "comma-separated origins such as https://clinic.example,http://localhost:3000",
                    )
                })
            })
            .collect()
    }

    fn site(&self) -> Result<SiteUrls, ConfigError> {
        const SITE: &str = "BEACON_SITE_URL";
        const PATH: &str = "BEACON_ARTICLE_PATH";
        let site = self
            .get(SITE)
            .unwrap_or_else(|| "http://localhost:3000".to_owned());
        let site_url = text::http_url(&site)
            .ok()
            .filter(|url| !url.contains(['?', '#']))
            .ok_or_else(|| {
                self.error(
                    SITE,
                    &site,
                    "an absolute http(s) URL without query, e.g. https://clinic.example",
                )
            })?;
        let path = self.get(PATH).unwrap_or_else(|| "/blog/{slug}".to_owned());
        SiteUrls::new(&site_url, path.trim()).ok_or_else(|| {
            self.error(
                PATH,
                &path,
                "a path starting with / holding {slug} once, e.g. /blog/{slug}",
            )
        })
    }

    fn cache_control(&self, name: &'static str) -> Result<String, ConfigError> {
        let value = self
            .get(name)
            .unwrap_or_else(|| "public, max-age=60, stale-while-revalidate=300".to_owned());
        let value = value.trim();
        let valid = value.is_ascii() && !value.chars().any(|c| c.is_ascii_control());
        if valid {
            Ok(value.to_owned())
        } else {
            Err(self.error(
                name,
                value,
                "a Cache-Control value such as public, max-age=60, stale-while-revalidate=300",
            ))
        }
    }

    /// An optional signing secret; `key` refuses one too short to be safe.
    fn secret<K>(
        &self,
        name: &'static str,
        key: impl FnOnce(Vec<u8>) -> Option<K>,
    ) -> Result<Option<K>, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        // The value is a secret: the error never repeats it.
        key(value.trim().as_bytes().to_vec())
            .map(Some)
            .ok_or_else(|| {
                self.error(
                    name,
                    "<redacted>",
                    "at least 32 characters of random text, e.g. from `openssl rand -base64 48`",
                )
            })
    }

    fn meta(&self) -> Result<MetaSettings, ConfigError> {
        const URL: &str = "BEACON_META_GRAPH_URL";
        const VERSION: &str = "BEACON_META_GRAPH_VERSION";
        let raw = self
            .get(URL)
            .unwrap_or_else(|| "https://graph.facebook.com".to_owned());
        let graph_url = url::Url::parse(raw.trim())
            .ok()
            .filter(|url| {
                url.scheme() == "https"
                    && url.host().is_some()
                    && url.query().is_none()
                    && url.username().is_empty()
                    && url.password().is_none()
            })
            .ok_or_else(|| {
                // A URL with credentials in it is not repeated into the logs.
                let shown = if raw.contains('@') {
                    "<hidden>"
                } else {
                    raw.as_str()
                };
                self.error(URL, shown, "an https URL without credentials or a query")
            })?;
        let graph_version = match self.get(VERSION) {
            None => GraphVersion::default(),
            Some(value) => GraphVersion::parse(value.trim())
                .ok_or_else(|| self.error(VERSION, &value, "a Graph API version such as v21.0"))?,
        };
        Ok(MetaSettings {
            graph_url,
            graph_version,
            allow_private_graph: false,
            fetch: true,
        })
    }

    fn notify(&self) -> Result<NotifySettings, ConfigError> {
        const SMTP: &str = "BEACON_SMTP_URL";
        const TO: &str = "BEACON_NOTIFY_EMAILS";
        const FROM: &str = "BEACON_NOTIFY_FROM";
        const LEAD_URL: &str = "BEACON_NOTIFY_LEAD_URL";
        // The URL may hold a password: an error never repeats it.
        let smtp = self
            .get(SMTP)
            .map(|url| {
                SmtpUrl::parse(&url).map_err(|e| self.error(SMTP, "<redacted>", e.to_string()))
            })
            .transpose()?;
        let listed = self.get(TO).unwrap_or_default();
        let recipients = listed
            .split(',')
            .map(str::trim)
            .filter(|address| !address.is_empty())
            .map(|address| {
                Email::parse(address)
                    .map_err(|_| self.error(TO, &listed, "comma-separated e-mail addresses"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if smtp.is_some() && recipients.is_empty() {
            return Err(self.error(
                TO,
                &listed,
                "at least one e-mail address while BEACON_SMTP_URL is set",
            ));
        }
        let from = self
            .get(FROM)
            .unwrap_or_else(|| "beacon@localhost.localdomain".to_owned());
        let from = Email::parse(&from).map_err(|_| self.error(FROM, &from, "an e-mail address"))?;
        let lead_url = self
            .get(LEAD_URL)
            .unwrap_or_else(|| "GET /v1/leads/{id}".to_owned());
        if !lead_url.contains("{id}") || lead_url.chars().any(char::is_control) {
            return Err(self.error(
                LEAD_URL,
                &lead_url,
                "a URL holding {id}, e.g. https://crm.example/leads/{id}",
            ));
        }
        Ok(NotifySettings {
            smtp,
            recipients,
            from,
            lead_url: lead_url.trim().to_owned(),
        })
    }

    fn log_format(&self, name: &'static str) -> Result<LogFormat, ConfigError> {
        match self.get(name).as_deref().map(str::trim) {
            None | Some("human") => Ok(LogFormat::Human),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(self.error(name, other, "`human` or `json`")),
        }
    }
}

/// How leads are taken in: phone region, the clinic's calendar, dedupe, spam and abuse guards,
/// and what people in crisis are shown.
#[derive(Clone, Debug)]
pub struct LeadSettings {
    /// `BEACON_DEFAULT_REGION`: how phone numbers without a country code are read.
    pub default_region: country::Id,
    /// `BEACON_CLINIC_TIME_ZONE`, `BEACON_BUSINESS_HOURS`, `BEACON_BUSINESS_DAYS`,
    /// `BEACON_HOLIDAYS`: the calendar `contact_by` is computed on, parsed once here.
    pub calendar: BusinessCalendar,
    /// `BEACON_LEAD_DEDUPE_DAYS`: a repeat enquiry from a number within this time of its last
    /// one joins the existing lead. Zero turns dedupe off.
    pub dedupe_window: TimeDelta,
    /// `BEACON_HONEYPOT_FIELD`: a body field people never see; bots that fill it are quarantined.
    pub honeypot_field: String,
    /// `BEACON_MIN_FILL_SECONDS`: a form sent sooner after `form_rendered_at` is quarantined.
    pub min_fill: Duration,
    /// `BEACON_LEAD_RATE_PER_IP`: accepted enquiries per client network per minute.
    pub rate_per_ip: FixedWindow,
    /// `BEACON_LEAD_RATE_PER_PHONE`: accepted enquiries per phone number per hour.
    pub rate_per_phone: FixedWindow,
    /// `BEACON_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// `BEACON_CRISIS_RESOURCES`: JSON shown to people who report suicidal thoughts.
    pub crisis_resources: CrisisResources,
    /// `BEACON_FORM_THANKS_URL`: where a plain HTML form is sent (303) after an enquiry; unset,
    /// Beacon answers a small thank-you page itself.
    pub form_thanks_url: Option<String>,
    /// `BEACON_FORM_CRISIS_URL`: where a plain HTML form reporting suicidal thoughts is sent
    /// instead; unset, Beacon answers a page listing the crisis resources itself.
    pub form_crisis_url: Option<String>,
    /// `BEACON_CONSENT_TEXT` and `BEACON_CONSENT_VERSION`: the consent box the embeddable form
    /// shows; unset, it shows none.
    pub consent: Option<ConsentWording>,
    /// `BEACON_SUPPRESSION_SECRET`: keys the HMAC of opted-out numbers. When unset, start-up
    /// uses a random key created once in the database and shared by every replica.
    pub suppression_secret: Option<SuppressionKey>,
    /// `BEACON_OPT_OUT_RATE_PER_IP`: opt-out requests per client network per minute.
    pub opt_out_rate_per_ip: FixedWindow,
    /// `BEACON_LEAD_RETENTION_DAYS`: when set, a background task erases leads whose latest
    /// enquiry is older than this. Unset: leads are kept until erased.
    pub retention: Option<TimeDelta>,
    /// How often the retention task runs (every hour; tests shorten it).
    pub retention_interval: Duration,
    /// How often old rate windows and idempotency keys are pruned (every 2 s; a test that
    /// holds the whole pool turns it off so the sweep takes no part in what it counts).
    pub prune_interval: Option<Duration>,
}

impl LeadSettings {
    fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            default_region: env.region("BEACON_DEFAULT_REGION")?,
            calendar: env.calendar()?,
            dedupe_window: TimeDelta::days(env.bounded("BEACON_LEAD_DEDUPE_DAYS", 30, 0..=365)?),
            honeypot_field: env.honeypot_field("BEACON_HONEYPOT_FIELD")?,
            min_fill: Duration::from_secs(env.bounded("BEACON_MIN_FILL_SECONDS", 3, 0..=600)?),
            rate_per_ip: FixedWindow::per_minute(env.bounded(
                "BEACON_LEAD_RATE_PER_IP",
                10,
                0..=1_000_000,
            )?),
            rate_per_phone: FixedWindow::per_hour(env.bounded(
                "BEACON_LEAD_RATE_PER_PHONE",
                5,
                0..=1_000_000,
            )?),
            trusted_proxies: env.trusted_proxies("BEACON_TRUSTED_PROXIES")?,
            crisis_resources: env.crisis_resources("BEACON_CRISIS_RESOURCES")?,
            form_thanks_url: env.optional_url("BEACON_FORM_THANKS_URL")?,
            form_crisis_url: env.optional_url("BEACON_FORM_CRISIS_URL")?,
            consent: env.consent()?,
            suppression_secret: env.secret("BEACON_SUPPRESSION_SECRET", SuppressionKey::new)?,
            opt_out_rate_per_ip: FixedWindow::per_minute(env.bounded(
                "BEACON_OPT_OUT_RATE_PER_IP",
                5,
                0..=1_000_000,
            )?),
            retention: env
                .optional_bounded("BEACON_LEAD_RETENTION_DAYS", 1..=36_500)?
                .map(TimeDelta::days),
            retention_interval: Duration::from_secs(3_600),
            prune_interval: Some(Duration::from_secs(2)),
        })
    }
}

/// The consent wording a form shows beside its box, and the version that names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentWording {
    pub text: String,
    pub version: Option<String>,
}

const CONSENT_VERSION_MAX_CHARS: usize = 100;

impl Env<'_> {
    fn consent(&self) -> Result<Option<ConsentWording>, ConfigError> {
        const TEXT: &str = "BEACON_CONSENT_TEXT";
        const VERSION: &str = "BEACON_CONSENT_VERSION";
        let version = self
            .get(VERSION)
            .map(|value| {
                text::single_line(&value, CONSENT_VERSION_MAX_CHARS)
                    .map_err(|e| self.error(VERSION, &value, format!("one line of text ({e})")))
            })
            .transpose()?;
        let Some(wording) = self.get(TEXT) else {
            return match version {
                Some(version) => Err(self.error(
                    VERSION,
                    &version,
                    "to be set only together with BEACON_CONSENT_TEXT",
                )),
                None => Ok(None),
            };
        };
        let text = text::multi_line(&wording, CONSENT_TEXT_MAX_CHARS)
            .map_err(|e| self.error(TEXT, &wording, format!("the consent wording ({e})")))?;
        Ok(Some(ConsentWording { text, version }))
    }

    fn region(&self, name: &'static str) -> Result<country::Id, ConfigError> {
        let value = self.get(name).unwrap_or_else(|| "US".to_owned());
        phone::parse_region(&value)
            .map_err(|_| self.error(name, &value, "a two-letter country code such as US or GB"))
    }

    /// Each part is its own variable; an error names the one at fault.
    fn calendar(&self) -> Result<BusinessCalendar, ConfigError> {
        const ZONE: &str = "BEACON_CLINIC_TIME_ZONE";
        const HOURS: &str = "BEACON_BUSINESS_HOURS";
        const DAYS: &str = "BEACON_BUSINESS_DAYS";
        const HOLIDAYS: &str = "BEACON_HOLIDAYS";
        let zone = self
            .get(ZONE)
            .unwrap_or_else(|| "America/New_York".to_owned());
        let hours = self.get(HOURS).unwrap_or_else(|| "09:00-17:00".to_owned());
        let days = self.get(DAYS).unwrap_or_else(|| "mon-fri".to_owned());
        // Blank is a real choice here (no holidays), so only an unset variable takes the default.
        let holidays = (self.0)(HOLIDAYS).unwrap_or_else(|| "us-federal".to_owned());
        BusinessCalendar::parse(&zone, &hours, &days, &holidays).map_err(|error| {
            let (variable, value) = match &error {
                CalendarError::UnknownTimeZone(_) => (ZONE, &zone),
                CalendarError::HoursFormat(_) | CalendarError::HoursOrder(_) => (HOURS, &hours),
                CalendarError::UnknownWeekday(_) | CalendarError::NoBusinessDays => (DAYS, &days),
                CalendarError::InvalidHoliday(_) => (HOLIDAYS, &holidays),
            };
            self.error(variable, value, error.to_string())
        })
    }

    fn honeypot_field(&self, name: &'static str) -> Result<String, ConfigError> {
        let value = self.get(name).unwrap_or_else(|| "website".to_owned());
        let field = value.trim();
        let well_formed = field.len() <= 64
            && field.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && field
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !well_formed || FORM_FIELDS.contains(&field) || HTML_FORM_FIELDS.contains(&field) {
            return Err(self.error(
                name,
                &value,
                "a field name the lead form does not otherwise use, such as website",
            ));
        }
        Ok(field.to_owned())
    }

    /// A whole number within `range`, or `None` when unset.
    fn optional_bounded(
        &self,
        name: &'static str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.bounded(name, *range.start(), range).map(Some),
        }
    }

    /// An absolute http(s) URL, or `None` when unset or blank.
    fn optional_url(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => text::http_url(&value)
                .map(Some)
                .map_err(|error| self.error(name, &value, format!("an http(s) URL ({error})"))),
        }
    }

    fn trusted_proxies(&self, name: &'static str) -> Result<TrustedProxies, ConfigError> {
        let value = self.get(name).unwrap_or_default();
        TrustedProxies::parse(&value).map_err(|error| self.error(name, &value, error.to_string()))
    }

    fn crisis_resources(&self, name: &'static str) -> Result<CrisisResources, ConfigError> {
        match self.get(name) {
            None => Ok(CrisisResources::us_default()),
            Some(value) => CrisisResources::from_json(&value).map_err(|error| {
                self.error(
                    name,
                    &value,
                    format!("JSON such as {{\"message\": \"…\", \"resources\": [{{\"label\": \"Call or text 988\", \"href\": \"tel:988\"}}]}} ({error})"),
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn webhook_overlap_and_disable_after_default_to_a_day_and_five_days() {
        let defaults = settings(&[]).unwrap().events;
        assert_eq!(defaults.secret_overlap, Duration::from_secs(86_400));
        assert_eq!(defaults.disable_after, Duration::from_secs(5 * 86_400));
        let set = settings(&[
            ("BEACON_WEBHOOK_SECRET_OVERLAP", "90s"),
            ("BEACON_WEBHOOK_DISABLE_AFTER", "2h"),
        ])
        .unwrap()
        .events;
        assert_eq!(set.secret_overlap, Duration::from_secs(90));
        assert_eq!(set.disable_after, Duration::from_secs(7_200));
        for bad in ["1.5h", "8d", "soon"] {
            let error = settings(&[("BEACON_WEBHOOK_DISABLE_AFTER", bad)]).unwrap_err();
            assert!(
                error.to_string().contains("BEACON_WEBHOOK_DISABLE_AFTER"),
                "{bad}"
            );
        }
    }

    #[test]
    fn meta_is_fetched_from_meta_over_https_unless_set_and_never_from_a_private_address() {
        let defaults = settings(&[]).unwrap().meta;
        assert_eq!(defaults.graph_url.as_str(), "https://graph.facebook.com/");
        assert_eq!(defaults.graph_version.as_str(), "v21.0");
        assert!(!defaults.allow_private_graph);
        let set = settings(&[
            ("BEACON_META_GRAPH_URL", "https://graph.example.com/proxy/"),
            ("BEACON_META_GRAPH_VERSION", "v23.0"),
        ])
        .unwrap()
        .meta;
        assert_eq!(set.graph_url.as_str(), "https://graph.example.com/proxy/");
        assert_eq!(set.graph_version.as_str(), "v23.0");
        assert!(
            !set.allow_private_graph,
            "no variable allows private addresses"
        );
        for (name, bad) in [
            ("BEACON_META_GRAPH_URL", "http://graph.facebook.com"),
            (
                "BEACON_META_GRAPH_URL",
                "https://user:pw@graph.facebook.com",
            ),
            ("BEACON_META_GRAPH_URL", "https://graph.facebook.com/?x=1"),
            ("BEACON_META_GRAPH_VERSION", "21.0"),
        ] {
            let error = settings(&[(name, bad)]).unwrap_err();
            assert_eq!(error.variable, name, "{bad}");
        }
    }

    #[test]
    fn an_empty_environment_gives_the_documented_defaults() {
        let settings = settings(&[]).unwrap();
        assert_eq!(settings.database_url, None);
        assert_eq!(settings.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.database.pool_size, 10);
        assert_eq!(settings.database.connect_timeout, Duration::from_secs(5));
        assert_eq!(settings.log_format, LogFormat::Human);
        assert!(settings.cors_origins.is_empty());
        assert_eq!(settings.data_dir, PathBuf::from(".beacon"));
    }

    #[test]
    fn the_event_scan_runs_every_15_seconds_unless_set_and_zero_turns_it_off() {
        let every = |vars: &[(&str, &str)]| settings(vars).unwrap().events.scan_interval;
        assert_eq!(every(&[]), Some(Duration::from_secs(15)));
        assert_eq!(
            every(&[("BEACON_EVENT_SCAN_SECS", "60")]),
            Some(Duration::from_secs(60))
        );
        assert_eq!(every(&[("BEACON_EVENT_SCAN_SECS", "0")]), None);
        let error = settings(&[("BEACON_EVENT_SCAN_SECS", "soon")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_EVENT_SCAN_SECS");
        assert!(settings(&[("BEACON_EVENT_SCAN_SECS", "86401")]).is_err());
    }

    #[test]
    fn events_are_kept_90_days_unless_set_and_zero_keeps_them() {
        let kept = |vars: &[(&str, &str)]| settings(vars).unwrap().events.retention;
        assert_eq!(kept(&[]), Some(TimeDelta::days(90)));
        assert_eq!(
            kept(&[("BEACON_EVENT_RETENTION_DAYS", "7")]),
            Some(TimeDelta::days(7))
        );
        assert_eq!(kept(&[("BEACON_EVENT_RETENTION_DAYS", "0")]), None);
        assert!(settings(&[("BEACON_EVENT_RETENTION_DAYS", "-1")]).is_err());
    }

    #[test]
    fn staff_email_is_off_by_default_and_its_url_never_shows_its_password() {
        let notify = settings(&[]).unwrap().notify;
        assert!(notify.smtp.is_none() && notify.recipients.is_empty());
        assert_eq!(notify.lead_url, "GET /v1/leads/{id}");

        let notify = settings(&[
            ("BEACON_SMTP_URL", "smtps://beacon:hunter2@mail.example"),
            (
                "BEACON_NOTIFY_EMAILS",
                " a@clinic.example, b@clinic.example ,",
            ),
        ])
        .unwrap()
        .notify;
        assert_eq!(notify.recipients.len(), 2);
        assert!(!format!("{notify:?}").contains("hunter2"));

        let error =
            settings(&[("BEACON_SMTP_URL", "http://beacon:hunter2@mail.example")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_SMTP_URL");
        assert!(!error.to_string().contains("hunter2"));
        let error = settings(&[("BEACON_SMTP_URL", "smtp://mail.example")]).unwrap_err();
        assert_eq!(
            error.variable, "BEACON_NOTIFY_EMAILS",
            "addresses are required"
        );
        let error = settings(&[("BEACON_NOTIFY_LEAD_URL", "https://crm.example/")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_NOTIFY_LEAD_URL");
    }

    #[test]
    fn a_bad_value_names_the_variable_and_what_it_expects() {
        let error = settings(&[("BEACON_DB_POOL_SIZE", "lots")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_DB_POOL_SIZE");
        assert!(error.to_string().contains("BEACON_DB_POOL_SIZE=\"lots\""));

        let error = settings(&[("BEACON_ADDR", "8080")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_ADDR");
    }

    #[test]
    fn a_value_outside_its_range_is_refused() {
        assert!(settings(&[("BEACON_DB_POOL_SIZE", "0")]).is_err());
        assert!(settings(&[("BEACON_DB_POOL_SIZE", "200")]).is_ok());
    }

    #[test]
    fn cors_origins_are_a_comma_separated_list_of_http_origins() {
        let settings = settings(&[(
            "BEACON_CORS_ORIGINS",
            "https://clinic.example, http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(
            settings.cors_origins,
            ["https://clinic.example", "http://localhost:3000"]
        );
        assert!(super::tests::settings(&[("BEACON_CORS_ORIGINS", "clinic.example")]).is_err());
        assert!(super::tests::settings(&[("BEACON_CORS_ORIGINS", "https://a.example/")]).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_database_url() {
        let settings = settings(&[
            ("DATABASE_URL", "postgres://u:pa55word@db/beacon"),
            (
                "BEACON_LISTEN_DATABASE_URL",
                "postgres://u:pa55word@db:5432/beacon",
            ),
            ("DATABASE_READ_URL", "postgres://u:pa55word@replica/beacon"),
        ])
        .unwrap();
        assert!(settings.read_database_url.is_some());
        assert!(!format!("{settings:?}").contains("pa55word"));
    }

    #[test]
    fn content_settings_default_to_a_local_front_end_and_a_short_public_cache() {
        let content = settings(&[]).unwrap().content;
        assert_eq!(
            content.site.article("ketamine"),
            "http://localhost:3000/blog/ketamine"
        );
        assert_eq!(
            content.public_cache_control,
            "public, max-age=60, stale-while-revalidate=300"
        );
        assert!(content.preview_secret.is_none());
        assert_eq!(content.preview_ttl, Duration::from_secs(86_400));
    }

    #[test]
    fn the_response_cache_is_on_by_default_and_turned_off_by_either_setting() {
        assert_eq!(
            settings(&[]).unwrap().content.response_cache,
            Some(ResponseCacheSettings {
                ttl: Duration::from_secs(30),
                max_entries: 10_000,
                max_bytes: 64 * 1024 * 1024,
            })
        );
        assert!(
            settings(&[("BEACON_CACHE", "off")])
                .unwrap()
                .content
                .response_cache
                .is_none()
        );
        assert!(
            settings(&[("BEACON_CACHE_TTL_SECS", "0")])
                .unwrap()
                .content
                .response_cache
                .is_none()
        );
        for (name, value) in [
            ("BEACON_CACHE", "no"),
            ("BEACON_CACHE_TTL_SECS", "3601"),
            ("BEACON_CACHE_MAX_ENTRIES", "0"),
            ("BEACON_CACHE_MAX_MB", "lots"),
        ] {
            assert_eq!(settings(&[(name, value)]).unwrap_err().variable, name);
        }
    }

    #[test]
    fn the_site_url_and_article_path_make_article_urls() {
        let content = settings(&[
            ("BEACON_SITE_URL", "https://clinic.example/"),
            ("BEACON_ARTICLE_PATH", "/articles/{slug}/"),
        ])
        .unwrap()
        .content;
        assert_eq!(
            content.site.article("a"),
            "https://clinic.example/articles/a/"
        );
        for (name, value) in [
            ("BEACON_SITE_URL", "clinic.example"),
            ("BEACON_SITE_URL", "javascript:alert(1)"),
            ("BEACON_SITE_URL", "https://clinic.example/?x=1"),
            ("BEACON_ARTICLE_PATH", "blog/{slug}"),
            ("BEACON_ARTICLE_PATH", "/blog"),
        ] {
            assert_eq!(settings(&[(name, value)]).unwrap_err().variable, name);
        }
    }

    #[test]
    fn the_public_cache_control_is_configurable() {
        let content = settings(&[("BEACON_PUBLIC_CACHE_CONTROL", "public, max-age=300")])
            .unwrap()
            .content;
        assert_eq!(content.public_cache_control, "public, max-age=300");
        assert!(settings(&[("BEACON_PUBLIC_CACHE_CONTROL", "public\u{7}")]).is_err());
        assert!(settings(&[("BEACON_PUBLIC_CACHE_CONTROL", "max-age=60 ü")]).is_err());
    }

    #[test]
    fn a_preview_secret_must_be_long_and_is_never_shown() {
        let secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t";
        let settings_ = settings(&[("BEACON_PREVIEW_SECRET", secret)]).unwrap();
        assert!(settings_.content.preview_secret.is_some());
        assert!(!format!("{settings_:?}").contains("s3cr3t"));

        let error = settings(&[("BEACON_PREVIEW_SECRET", "short-secret")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_PREVIEW_SECRET");
        assert!(!error.to_string().contains("short-secret"));
        assert!(settings(&[("BEACON_PREVIEW_TTL_SECS", "10")]).is_err());
    }

    #[test]
    fn the_metrics_listener_is_off_unless_an_address_is_given() {
        assert_eq!(settings(&[]).unwrap().metrics_addr, None);
        assert_eq!(
            settings(&[("BEACON_METRICS_ADDR", "127.0.0.1:9464")])
                .unwrap()
                .metrics_addr,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        let error = settings(&[("BEACON_METRICS_ADDR", "9464")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_METRICS_ADDR");
    }

    #[test]
    fn the_log_format_is_human_or_json() {
        assert_eq!(
            settings(&[("BEACON_LOG_FORMAT", "json")])
                .unwrap()
                .log_format,
            LogFormat::Json
        );
        assert!(settings(&[("BEACON_LOG_FORMAT", "xml")]).is_err());
    }

    #[test]
    fn lead_settings_default_to_a_us_clinic_with_guards_on() {
        let leads = settings(&[]).unwrap().leads;
        assert_eq!(leads.default_region, country::US);
        assert_eq!(leads.calendar, BusinessCalendar::us_default());
        assert_eq!(leads.dedupe_window, TimeDelta::days(30));
        assert_eq!(leads.honeypot_field, "website");
        assert_eq!(leads.min_fill, Duration::from_secs(3));
        assert_eq!(leads.rate_per_ip, FixedWindow::per_minute(10));
        assert_eq!(leads.rate_per_phone, FixedWindow::per_hour(5));
        assert_eq!(leads.trusted_proxies, TrustedProxies::default());
        assert_eq!(leads.crisis_resources, CrisisResources::us_default());
    }

    #[test]
    fn privacy_settings_default_to_a_stored_key_no_retention_and_a_limited_opt_out() {
        let leads = settings(&[]).unwrap().leads;
        assert!(leads.suppression_secret.is_none());
        assert!(leads.retention.is_none());
        assert_eq!(leads.opt_out_rate_per_ip, FixedWindow::per_minute(5));
        assert_eq!(leads.retention_interval, Duration::from_secs(3_600));

        let leads = settings(&[
            ("BEACON_LEAD_RETENTION_DAYS", "730"),
            ("BEACON_OPT_OUT_RATE_PER_IP", "0"),
        ])
        .unwrap()
        .leads;
        assert_eq!(leads.retention, Some(TimeDelta::days(730)));
        assert!(leads.opt_out_rate_per_ip.is_off());
        for bad in ["0", "-1", "36501", "forever"] {
            let error = settings(&[("BEACON_LEAD_RETENTION_DAYS", bad)]).unwrap_err();
            assert_eq!(error.variable, "BEACON_LEAD_RETENTION_DAYS", "{bad}");
        }
    }

    #[test]
    fn a_suppression_secret_must_be_long_and_is_never_shown() {
        let secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t";
        let settings_ = settings(&[("BEACON_SUPPRESSION_SECRET", secret)]).unwrap();
        assert!(settings_.leads.suppression_secret.is_some());
        assert!(!format!("{settings_:?}").contains("s3cr3t"));
        let error = settings(&[("BEACON_SUPPRESSION_SECRET", "short-secret")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_SUPPRESSION_SECRET");
        assert!(!error.to_string().contains("short-secret"));
    }

    #[test]
    fn the_default_phone_region_is_a_country_code() {
        let leads = settings(&[("BEACON_DEFAULT_REGION", "gb")]).unwrap().leads;
        assert_eq!(leads.default_region, country::GB);
        let error = settings(&[("BEACON_DEFAULT_REGION", "Narnia")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_DEFAULT_REGION");
    }

    #[test]
    fn the_clinic_calendar_is_parsed_once_and_errors_name_the_variable_at_fault() {
        let leads = settings(&[
            ("BEACON_CLINIC_TIME_ZONE", "Europe/London"),
            ("BEACON_BUSINESS_HOURS", "08:30-18:00"),
            ("BEACON_BUSINESS_DAYS", "mon-sat"),
            ("BEACON_HOLIDAYS", "2026-12-24"),
        ])
        .unwrap()
        .leads;
        assert_eq!(
            leads.calendar,
            BusinessCalendar::parse("Europe/London", "08:30-18:00", "mon-sat", "2026-12-24")
                .unwrap()
        );
        for (variable, value) in [
            ("BEACON_CLINIC_TIME_ZONE", "Mars/Olympus"),
            ("BEACON_BUSINESS_HOURS", "17:00-09:00"),
            ("BEACON_BUSINESS_DAYS", "someday"),
            ("BEACON_HOLIDAYS", "christmas"),
        ] {
            let error = settings(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable);
        }
    }

    #[test]
    fn a_blank_holiday_list_means_no_holidays() {
        let leads = settings(&[("BEACON_HOLIDAYS", "")]).unwrap().leads;
        assert_eq!(
            leads.calendar,
            BusinessCalendar::parse("America/New_York", "09:00-17:00", "mon-fri", "").unwrap()
        );
    }

    #[test]
    fn the_dedupe_window_is_whole_days_and_zero_turns_it_off() {
        let days = |value| settings(&[("BEACON_LEAD_DEDUPE_DAYS", value)]);
        assert_eq!(days("7").unwrap().leads.dedupe_window, TimeDelta::days(7));
        assert_eq!(days("0").unwrap().leads.dedupe_window, TimeDelta::zero());
        assert!(days("366").is_err());
        assert!(days("a month").is_err());
    }

    #[test]
    fn the_honeypot_must_not_reuse_a_real_form_field() {
        let field = |value| settings(&[("BEACON_HONEYPOT_FIELD", value)]);
        assert_eq!(
            field("fax_number").unwrap().leads.honeypot_field,
            "fax_number"
        );
        for bad in ["phone", "name", "two words", "1st", "x".repeat(65).as_str()] {
            assert_eq!(
                field(bad).unwrap_err().variable,
                "BEACON_HONEYPOT_FIELD",
                "{bad}"
            );
        }
    }

    #[test]
    fn the_minimum_fill_time_is_bounded_seconds() {
        let fill = |value| settings(&[("BEACON_MIN_FILL_SECONDS", value)]);
        assert_eq!(fill("0").unwrap().leads.min_fill, Duration::ZERO);
        assert!(fill("601").is_err());
    }

    #[test]
    fn rate_limits_are_per_minute_per_ip_and_per_hour_per_phone_and_zero_is_off() {
        let leads = settings(&[
            ("BEACON_LEAD_RATE_PER_IP", "0"),
            ("BEACON_LEAD_RATE_PER_PHONE", "3"),
        ])
        .unwrap()
        .leads;
        assert!(leads.rate_per_ip.is_off());
        assert_eq!(leads.rate_per_phone, FixedWindow::per_hour(3));
        let error = settings(&[("BEACON_LEAD_RATE_PER_PHONE", "-1")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_LEAD_RATE_PER_PHONE");
    }

    #[test]
    fn trusted_proxies_are_addresses_and_cidr_blocks() {
        let leads = settings(&[("BEACON_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7, ::1")])
            .unwrap()
            .leads;
        assert!(
            leads
                .trusted_proxies
                .contains("10.20.30.40".parse().unwrap())
        );
        assert!(leads.trusted_proxies.contains("::1".parse().unwrap()));
        let error = settings(&[("BEACON_TRUSTED_PROXIES", "10.0.0.0/99")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_TRUSTED_PROXIES");
        assert!(error.to_string().contains("10.0.0.0/99"));
    }

    #[test]
    fn form_pages_are_optional_http_urls_checked_at_start() {
        let leads = settings(&[]).unwrap().leads;
        assert_eq!((leads.form_thanks_url, leads.form_crisis_url), (None, None));
        let leads = settings(&[("BEACON_FORM_THANKS_URL", "https://clinic.example/thanks")])
            .unwrap()
            .leads;
        assert_eq!(
            leads.form_thanks_url.as_deref(),
            Some("https://clinic.example/thanks")
        );
        let error = settings(&[("BEACON_FORM_CRISIS_URL", "javascript:alert(1)")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_FORM_CRISIS_URL");
    }

    #[test]
    fn crisis_resources_are_configurable_json_checked_at_start() {
        let json = r#"{"message": "Help is here.", "resources": [{"label": "Call 116 123", "href": "tel:116123"}]}"#;
        let leads = settings(&[("BEACON_CRISIS_RESOURCES", json)])
            .unwrap()
            .leads;
        assert_eq!(leads.crisis_resources.message, "Help is here.");
        let error = settings(&[(
            "BEACON_CRISIS_RESOURCES",
            r#"{"message": "Hi", "resources": []}"#,
        )])
        .unwrap_err();
        assert_eq!(error.variable, "BEACON_CRISIS_RESOURCES");
        assert!(error.to_string().contains("1 to 20"), "{error}");
    }

    #[test]
    fn the_consent_wording_is_optional_and_its_version_needs_it() {
        assert_eq!(settings(&[]).unwrap().leads.consent, None);
        let leads = settings(&[
            (
                "BEACON_CONSENT_TEXT",
                " I agree that the clinic may call me. ",
            ),
            ("BEACON_CONSENT_VERSION", "2026-03"),
        ])
        .unwrap()
        .leads;
        assert_eq!(
            leads.consent,
            Some(ConsentWording {
                text: "I agree that the clinic may call me.".to_owned(),
                version: Some("2026-03".to_owned()),
            })
        );
        let error = settings(&[("BEACON_CONSENT_VERSION", "2026-03")]).unwrap_err();
        assert_eq!(error.variable, "BEACON_CONSENT_VERSION");
        let error = settings(&[("BEACON_CONSENT_TEXT", &"x".repeat(5_001))]).unwrap_err();
        assert_eq!(error.variable, "BEACON_CONSENT_TEXT");
    }
}
