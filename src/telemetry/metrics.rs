//! Prometheus metrics: one process-wide recorder (the `metrics` crate's macros feed it from any
//! layer), rendered by `GET /metrics` through its handle. Every label value comes from a fixed
//! set (a method, a route template, a status class, an outcome): never a raw path, an id, or
//! anything a person sent.
//!
//! Gauges that describe the database rather than this process (pool state, overdue leads, the
//! webhook backlog) are set just before a scrape renders, under one lock, so a scrape reports
//! the values its own app read even when a process runs several apps (the tests do).

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::domain::lead::SpamReason;

pub const HTTP_REQUESTS: &str = "beacon_http_requests_total";
pub const HTTP_DURATION: &str = "beacon_http_request_duration_seconds";
pub const DB_POOL_CONNECTIONS: &str = "beacon_db_pool_connections";
pub const DB_POOL_IDLE: &str = "beacon_db_pool_idle_connections";
pub const DB_POOL_MAX: &str = "beacon_db_pool_max_connections";
pub const DB_POOL_WAITING: &str = "beacon_db_pool_waiting";
pub const DB_POOL_WAIT: &str = "beacon_db_pool_wait_seconds";
pub const DB_POOL_TIMEOUTS: &str = "beacon_db_pool_checkout_failures_total";
/// Counted where diesel errors become ours (`error.rs`), which cannot name this module.
pub const DB_QUERY_ERRORS: &str = "beacon_db_query_errors_total";
pub const LEAD_SUBMISSIONS: &str = "beacon_lead_submissions_total";
pub const LEAD_SPAM: &str = "beacon_lead_spam_total";
pub const LEADS_OVERDUE: &str = "beacon_leads_overdue";
pub const WEBHOOK_DELIVERIES: &str = "beacon_webhook_deliveries";
pub const WEBHOOK_OLDEST_PENDING: &str = "beacon_webhook_oldest_pending_age_seconds";
pub const SCRAPE_DATABASE_UP: &str = "beacon_metrics_database_up";
pub const META_LEAD_FETCHES: &str = "beacon_meta_lead_fetches_total";

/// The label of a request no route matched (a 404 of the router): its path is never a label.
pub const UNMATCHED: &str = "unmatched";

/// Seconds: from a cached read (~1 ms) to a request near its statement timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Histograms keep samples until drained; scrapes drain them too, so this only bounds memory
/// when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Serialises "set the scrape-time gauges, render" so two scrapes never interleave.
static RENDERING: Mutex<()> = Mutex::new(());

/// Installs the process-wide recorder on first use; later calls (every app the tests build)
/// share it. If another recorder was installed first, Beacon's metrics go to that one and
/// `/metrics` shows only the scrape-time gauges; start-up logs it.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = match PrometheusBuilder::new().set_buckets(LATENCY_BUCKETS) {
            Ok(builder) => builder,
            Err(error) => {
                tracing::error!(%error, "latency buckets refused; histograms become summaries");
                PrometheusBuilder::new()
            }
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(error) = metrics::set_global_recorder(recorder) {
            tracing::warn!(%error, "another metrics recorder is installed; /metrics is partial");
        }
        describe();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "no metrics upkeep thread; histograms drain only on scrapes");
        }
        handle
    })
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by method, route template and status class"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency by method, route template and status class"
    );
    describe_gauge!(DB_POOL_CONNECTIONS, "Open database connections of the pool");
    describe_gauge!(DB_POOL_IDLE, "Idle database connections of the pool");
    describe_gauge!(DB_POOL_MAX, "The pool's size (BEACON_DB_POOL_SIZE)");
    describe_gauge!(DB_POOL_WAITING, "Work waiting for a pool connection now");
    describe_histogram!(
        DB_POOL_WAIT,
        Unit::Seconds,
        "How long work waited for a pool connection"
    );
    describe_counter!(
        DB_POOL_TIMEOUTS,
        "Work that got no pool connection within BEACON_DB_CONNECT_TIMEOUT_SECS"
    );
    describe_counter!(
        DB_QUERY_ERRORS,
        "Failed database queries by kind (statement_timeout, closed_connection, ...)"
    );
    describe_counter!(
        LEAD_SUBMISSIONS,
        "Enquiries by source kind and outcome (accepted, merged, spam, rate_limited, replayed)"
    );
    describe_counter!(
        LEAD_SPAM,
        "Enquiries quarantined as spam, by kind and reason"
    );
    describe_gauge!(
        LEADS_OVERDUE,
        "Leads still new past their contact_by deadline (read from the database at scrape)"
    );
    describe_gauge!(
        WEBHOOK_DELIVERIES,
        "Webhook deliveries by state (read from the database at scrape)"
    );
    describe_gauge!(
        WEBHOOK_OLDEST_PENDING,
        Unit::Seconds,
        "Age of the oldest pending webhook delivery; 0 when none is pending"
    );
    describe_counter!(
        META_LEAD_FETCHES,
        "Graph API fetches of Meta leads by outcome (recorded, refused, retried, failed)"
    );
    describe_gauge!(
        SCRAPE_DATABASE_UP,
        "1 when this scrape could read the database-wide gauges; 0 leaves them NaN"
    );
    // Recorded by the response cache of public reads.
    describe_counter!(
        "beacon_cache_hits_total",
        "Public reads answered from the cache"
    );
    describe_counter!(
        "beacon_cache_misses_total",
        "Public reads the cache could not answer"
    );
    describe_counter!(
        "beacon_cache_invalidations_total",
        "Cache entries dropped after a change"
    );
}

/// One finished HTTP request. `route` is actix's matched pattern (`/v1/articles/{article}`), or
/// `None` when no route matched.
pub fn http_request(method: &str, route: Option<String>, status: u16, elapsed: Duration) {
    let labels = [
        ("method", method_label(method)),
        ("route", route.unwrap_or_else(|| UNMATCHED.to_owned())),
        ("status", status_class(status).to_owned()),
    ];
    counter!(HTTP_REQUESTS, &labels).increment(1);
    histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// Methods outside the usual set share one label, so made-up methods cannot add series.
fn method_label(method: &str) -> String {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("OTHER")
        .to_owned()
}

fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        5 => "5xx",
        _ => "other",
    }
}

/// A pool checkout in progress: counted as waiting until dropped, then its wait is recorded.
#[must_use]
pub struct Checkout {
    started: Instant,
}

pub fn checkout() -> Checkout {
    gauge!(DB_POOL_WAITING).increment(1.0);
    Checkout {
        started: Instant::now(),
    }
}

impl Checkout {
    /// The pool gave no connection in time (or could not open one).
    pub fn failed(self) {
        counter!(DB_POOL_TIMEOUTS).increment(1);
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        gauge!(DB_POOL_WAITING).decrement(1.0);
        histogram!(DB_POOL_WAIT).record(self.started.elapsed().as_secs_f64());
    }
}

/// Where an enquiry came from. Only the public form today; issue 11 adds more.
#[derive(Clone, Copy, Debug)]
pub enum LeadKind {
    Form,
}

impl LeadKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Form => "form",
        }
    }
}

/// What became of an enquiry, counted once its transaction committed (or was refused).
#[derive(Clone, Copy, Debug)]
pub enum LeadOutcome {
    /// A lead of its own.
    Accepted,
    /// Joined a recent lead of the same number.
    Merged,
    Spam(SpamReason),
    /// Refused with a 429: the sender's network sent too many.
    RateLimited,
    /// An `Idempotency-Key`'s earlier answer, sent again.
    Replayed,
}

pub fn lead_submission(kind: LeadKind, outcome: LeadOutcome) {
    let name = match outcome {
        LeadOutcome::Accepted => "accepted",
        LeadOutcome::Merged => "merged",
        LeadOutcome::Spam(_) => "spam",
        LeadOutcome::RateLimited => "rate_limited",
        LeadOutcome::Replayed => "replayed",
    };
    counter!(LEAD_SUBMISSIONS, "kind" => kind.as_str(), "outcome" => name).increment(1);
    if let LeadOutcome::Spam(reason) = outcome {
        counter!(LEAD_SPAM, "kind" => kind.as_str(), "reason" => reason.as_str()).increment(1);
    }
}

/// What became of one attempt to fetch a Meta lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaFetchOutcome {
    /// Fetched and recorded through the intake (or found recorded already).
    Recorded,
    /// Fetched, but the intake refused its answers (no usable phone, say): failed for good.
    Refused,
    /// Graph was down, slow or busy: due again on the queue's schedule.
    Retried,
    /// Graph refused for good (a bad token), or the last attempt failed: failed.
    Failed,
}

impl MetaFetchOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Refused => "refused",
            Self::Retried => "retried",
            Self::Failed => "failed",
        }
    }
}

pub fn meta_fetch(outcome: MetaFetchOutcome) {
    counter!(META_LEAD_FETCHES, "outcome" => outcome.as_str()).increment(1);
}

/// The pool as the scraping app sees it.
#[derive(Clone, Copy, Debug)]
pub struct PoolGauges {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// What waits in the database: read once per scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Backlog {
    pub overdue_leads: i64,
    pub deliveries_pending: i64,
    pub deliveries_delivered: i64,
    pub deliveries_failed: i64,
    /// Zero when nothing is pending.
    pub oldest_pending_secs: f64,
}

/// The Prometheus text of everything recorded, with the scrape-time gauges set first. Without a
/// `backlog` (the database did not answer) its gauges are NaN, so a graph shows a gap rather
/// than a stale number.
pub fn render(pool: PoolGauges, backlog: Option<Backlog>) -> String {
    let handle = install();
    let _rendering = RENDERING.lock().unwrap_or_else(PoisonError::into_inner);
    gauge!(DB_POOL_CONNECTIONS).set(pool.connections);
    gauge!(DB_POOL_IDLE).set(pool.idle);
    gauge!(DB_POOL_MAX).set(pool.max);
    gauge!(SCRAPE_DATABASE_UP).set(if backlog.is_some() { 1.0 } else { 0.0 });
    let read = backlog.is_some();
    let backlog = backlog.unwrap_or_default();
    // Row counts stay far below 2^53, where f64 would start to round.
    let or_nan = |value: f64| if read { value } else { f64::NAN };
    gauge!(LEADS_OVERDUE).set(or_nan(backlog.overdue_leads as f64));
    for (state, count) in [
        ("pending", backlog.deliveries_pending),
        ("delivered", backlog.deliveries_delivered),
        ("failed", backlog.deliveries_failed),
    ] {
        gauge!(WEBHOOK_DELIVERIES, "state" => state).set(or_nan(count as f64));
    }
    gauge!(WEBHOOK_OLDEST_PENDING).set(or_nan(backlog.oldest_pending_secs));
    handle.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_labelled_by_class() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(304), "3xx");
        assert_eq!(status_class(404), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(99), "other");
    }

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PATCH"), "PATCH");
        assert_eq!(method_label("BREW"), "OTHER");
        assert_eq!(method_label("get"), "OTHER");
    }

    #[test]
    fn a_rendered_scrape_carries_the_gauges_it_was_given() {
        let pool = PoolGauges {
            connections: 3,
            idle: 2,
            max: 7,
        };
        let backlog = Backlog {
            overdue_leads: 5,
            deliveries_pending: 2,
            oldest_pending_secs: 42.5,
            ..Backlog::default()
        };

        let text = render(pool, Some(backlog));

        assert!(
            text.contains("beacon_db_pool_max_connections 7\n"),
            "{text}"
        );
        assert!(text.contains("beacon_leads_overdue 5\n"), "{text}");
        assert!(text.contains("beacon_webhook_deliveries{state=\"pending\"} 2\n"));
        assert!(text.contains("beacon_webhook_oldest_pending_age_seconds 42.5\n"));
        assert!(text.contains("beacon_metrics_database_up 1\n"));
    }

    #[test]
    fn without_the_database_its_gauges_are_nan_not_stale() {
        let pool = PoolGauges {
            connections: 0,
            idle: 0,
            max: 1,
        };
        render(
            pool,
            Some(Backlog {
                overdue_leads: 9,
                ..Backlog::default()
            }),
        );

        let text = render(pool, None);

        assert!(text.contains("beacon_leads_overdue NaN\n"), "{text}");
        assert!(text.contains("beacon_metrics_database_up 0\n"), "{text}");
    }
}
