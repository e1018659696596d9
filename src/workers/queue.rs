//! The loop every outbox channel's workers run: claim and attempt due work until none is left,
//! then wait for `beacon_events` (a new event) or the polling fallback (a retry coming due, a
//! lost notification). Any number of them, in any number of processes: claims skip each
//! other's locked rows.

use std::future::Future;
use std::time::Duration;

use diesel::PgConnection;

use crate::db::{self, Pool};
use crate::error::Error;
use crate::services::delivery_queue::Waiter;

/// How often an idle worker looks for due retries without a notification.
pub const POLL: Duration = Duration::from_secs(1);

/// Runs forever: `claim` (on a pooled connection) returns the next due job, `attempt` sends
/// and records it. `what` names the channel in logs.
pub async fn run<J, C, A, F>(
    pool: Pool,
    mut waiter: Option<Waiter>,
    what: &'static str,
    claim: C,
    attempt: A,
) where
    J: Send + 'static,
    C: Fn(&mut PgConnection) -> Result<Option<J>, Error> + Clone + Send + 'static,
    A: Fn(J) -> F,
    F: Future<Output = ()>,
{
    loop {
        loop {
            match db::run(&pool, claim.clone()).await {
                Ok(Some(job)) => attempt(job).await,
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, channel = what, "claiming a delivery failed");
                    break;
                }
            }
        }
        match waiter.as_mut() {
            Some(waiter) => {
                waiter.wait(actix_web::rt::time::sleep(POLL)).await;
            }
            None => actix_web::rt::time::sleep(POLL).await,
        }
    }
}
