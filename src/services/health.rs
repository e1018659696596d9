//! Readiness: whether this replica can serve requests that need the database; and what waits
//! in it, for metrics.

use chrono::{DateTime, Utc};
use diesel::PgConnection;

use crate::db;
use crate::error::Error;
use crate::telemetry::metrics::Backlog;

/// True when the database answers and every embedded migration has been applied.
pub fn is_ready(conn: &mut PgConnection) -> Result<bool, Error> {
    db::is_ready(conn)
}

/// Overdue leads and the webhook backlog at `now`, for a metrics scrape.
pub fn backlog(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Backlog, Error> {
    let row = db::backlog::read(conn, now)?;
    Ok(Backlog {
        overdue_leads: row.overdue_leads,
        deliveries_pending: row.pending,
        deliveries_delivered: row.delivered,
        deliveries_failed: row.failed,
        oldest_pending_secs: row.oldest_pending_secs.max(0.0),
    })
}
