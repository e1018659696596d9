//! Finds time-based events (a scheduled article going live, a `new` lead past its deadline) at
//! start-up and then `BEACON_EVENT_SCAN_SECS` after each scan ends. Every replica may scan: each
//! event's dedupe key lets only one recording through.

use std::time::Duration;

use chrono::Utc;

use crate::db::{self, Pool};
use crate::services::events;

pub async fn scan(pool: Pool, every: Duration) {
    loop {
        let scanned = db::run(&pool, |conn| events::scan(conn, Utc::now())).await;
        match scanned {
            Ok(scanned) if scanned != events::Scanned::default() => tracing::info!(
                published = scanned.published,
                breached = scanned.breached,
                "time-based events recorded"
            ),
            Ok(_) => {}
            // Failures (a lost database, say) are retried at the next tick.
            Err(error) => tracing::warn!(%error, "the event scan failed"),
        }
        actix_web::rt::time::sleep(every).await;
    }
}
