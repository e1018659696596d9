//! Erases leads older than `BEACON_LEAD_RETENTION_DAYS` and deletes events older than
//! `BEACON_EVENT_RETENTION_DAYS`, at start-up and then `retention_interval` after each run ends.
//! Replicas share the work: both skip rows another one holds.

use std::time::Duration;

use chrono::{TimeDelta, Utc};

use crate::config::LeadSettings;
use crate::db::{self, Pool};
use crate::services::audit::Actor;
use crate::services::erasure::{self, RETENTION_ACTOR};
use crate::services::events;

/// How long to keep what; `None` keeps it.
pub struct Retention {
    pub leads: Option<TimeDelta>,
    pub events: Option<TimeDelta>,
}

pub async fn run(pool: Pool, settings: LeadSettings, retention: Retention) {
    let pause = settings.retention_interval.max(Duration::from_millis(10));
    let settings = std::sync::Arc::new(settings);
    loop {
        if let Some(older_than) = retention.leads {
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
        }
        if let Some(older_than) = retention.events {
            let purged = db::run(&pool, move |conn| {
                events::purge(conn, older_than, Utc::now())
            })
            .await;
            match purged {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "old events deleted"),
                Err(error) => {
                    tracing::warn!(%error, "the retention task could not delete old events")
                }
            }
        }
        actix_web::rt::time::sleep(pause).await;
    }
}
