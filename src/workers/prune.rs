//! Deletes finished rate windows and expired idempotency keys, every few seconds, so intake
//! never spends a round trip on it. Replicas share the work: each skips rows another holds.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::config::LeadSettings;
use crate::db::{self, Pool};
use crate::services::leads;

const BATCH: i64 = 1_000;
/// Batches per tick at most, so a backlog is worked off without hogging a connection.
const MAX_BATCHES: usize = 10;

pub async fn run(pool: Pool, settings: LeadSettings, every: Duration) {
    let settings = Arc::new(settings);
    loop {
        for _ in 0..MAX_BATCHES {
            let settings = settings.clone();
            let pruned = db::run(&pool, move |conn| {
                leads::prune(conn, &settings, Utc::now(), BATCH)
            })
            .await;
            match pruned {
                // Neither table had a full batch left.
                Ok(rows) if rows < BATCH as usize => break,
                Ok(_) => {}
                // Failures (a lost database, say) are retried at the next tick.
                Err(error) => {
                    tracing::warn!(%error, "pruning old rate windows or idempotency keys failed");
                    break;
                }
            }
        }
        actix_web::rt::time::sleep(every).await;
    }
}
