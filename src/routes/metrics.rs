//! `GET /metrics`: Prometheus metrics, with an `admin` key on the main listener, or without one
//! on the listener of `BEACON_METRICS_ADDR` (started in `startup`).

use actix_web::{HttpResponse, get, web};
use chrono::Utc;

use crate::db;
use crate::domain::api_key::Caller;
use crate::routes::state::AppState;
use crate::services::health;
use crate::telemetry::metrics::{self, PoolGauges};

/// The Prometheus text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Prometheus metrics
///
/// The Prometheus text format: HTTP requests and latency by method, route template
/// (`/v1/articles/{article}`; `unmatched` when no route matched) and status class; the database
/// pool (open, idle, waiting, checkout waits and failures) and failed queries by kind (such as
/// `statement_timeout`); enquiries by source kind and outcome (accepted, merged, spam with its
/// reason, rate_limited, replayed); and, read from the database at each scrape, overdue `new`
/// leads and webhook deliveries by state with the age of the oldest pending one. Labels are
/// fixed sets: never a path as sent, an id or anything a person sent. Counters are per process
/// (sum them over replicas); database-wide gauges are the same on every replica (take the
/// max). With `BEACON_METRICS_ADDR` set, the same text is also served without a key on that
/// address.
#[utoipa::path(
    tag = "metrics",
    responses(
        (status = 200, description = "The metrics in the Prometheus text format",
            content_type = "text/plain", body = String,
            example = "# TYPE beacon_leads_overdue gauge\nbeacon_leads_overdue 2\n"),
    ),
    security(("api_key" = ["admin"])),
)]
#[get("/metrics")]
pub async fn get_metrics(_caller: Caller, state: web::Data<AppState>) -> HttpResponse {
    render(&state).await
}

/// The same text for the metrics listener, which needs no key.
pub async fn get_metrics_unkeyed(state: web::Data<AppState>) -> HttpResponse {
    render(&state).await
}

/// Never fails: without the database the scrape still shows this process's metrics, with the
/// database-wide gauges NaN.
async fn render(state: &AppState) -> HttpResponse {
    let backlog = if state.readiness.is_ready() {
        db::run(&state.pool, |conn| health::backlog(conn, Utc::now()))
            .await
            .map_err(|error| tracing::warn!(%error, "metrics scrape could not read the backlog"))
            .ok()
    } else {
        None
    };
    let pool = state.pool.state();
    let gauges = PoolGauges {
        connections: pool.connections,
        idle: pool.idle_connections,
        max: state.pool.max_size(),
    };
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(metrics::render(gauges, backlog))
}
