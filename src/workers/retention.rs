//! Erases leads older than `BEACON_LEAD_RETENTION_DAYS`, at start-up and then
//! `retention_interval` after each run ends. Replicas share the work: purging skips leads another one holds.

use std::time::Duration;

use chrono::{TimeDelta, Utc};

use crate::config::LeadSettings;
use crate::db::{self, Pool};
use crate::services::audit::Actor;
use crate::services::erasure::{self, RETENTION_ACTOR};

pub async fn run(pool: Pool, settings: LeadSettings, older_than: TimeDelta) {
    let pause = settings.retention_interval.max(Duration::from_millis(10));
    let settings = std::sync::Arc::new(settings);
    loop {
        let settings = settings.clone();
        let purged = db::run(&pool, move |conn| {
            erasure::purge(
                conn,
                &settings,
                older_than,
                &Actor::system(RETENTION_ACTOR),
                Utc::now(),
            )
        })
        .await;
        // Failures (a lost database, say) are retried at the next tick.
        if let Err(error) = purged {
            tracing::warn!(%error, "the retention task could not erase old leads");
        }
        actix_web::rt::time::sleep(pause).await;
    }
}
