//! Webhook delivery loops: claim a due delivery, POST it, record the attempt, and when nothing
//! is due wait for `beacon_events` (a new event) or the polling fallback (a retry coming due, a
//! lost notification). Every replica may run them: claims skip each other's locked rows.

use std::time::{Duration, Instant};

use chrono::Utc;

use crate::db::{self, Pool};
use crate::domain::webhook::RetrySchedule;
use crate::services::webhook_delivery::{self as service, Job, Outcome, TargetError, Waiter};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The whole attempt, answer included; well within [`service::LEASE`].
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Delivery {
    pub pool: Pool,
    pub client: reqwest::Client,
    pub schedule: RetrySchedule,
    pub allow_private_targets: bool,
}

/// The client every worker shares: no redirects followed, bounded connect and total time.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .user_agent("Beacon-Webhooks/1")
        .build()
}

pub async fn run(delivery: Delivery, waiter: Option<Waiter>) {
    let schedule = delivery.schedule.clone();
    let claim = move |conn: &mut _| service::claim(conn, &schedule);
    let pool = delivery.pool.clone();
    super::queue::run(pool, waiter, "webhooks", claim, |job| delivery.attempt(job)).await;
}

impl Delivery {
    async fn attempt(&self, job: Job) {
        let attempted_at = Utc::now();
        let outcome = self.send(&job).await;
        let delivery_id = job.delivery_id;
        let schedule = self.schedule.clone();
        let recorded = db::run(&self.pool, move |conn| {
            service::record(conn, &job, &outcome, &schedule, attempted_at, Utc::now())
        })
        .await;
        match recorded {
            Ok(state) => {
                tracing::info!(delivery_id = %delivery_id, state = state.as_str(), "webhook attempt")
            }
            // The claim's lease runs out and the delivery is tried again.
            Err(error) => {
                tracing::warn!(delivery_id = %delivery_id, %error, "recording a webhook attempt failed")
            }
        }
    }

    async fn send(&self, job: &Job) -> Outcome {
        let started = Instant::now();
        if !self.allow_private_targets
            && let Err(error) = check_target(job.webhook_url.clone()).await
        {
            return Outcome {
                status: None,
                latency: started.elapsed(),
                error: Some(error.to_string()),
                retry_after: None,
            };
        }
        let timestamp = Utc::now().timestamp();
        let sent = self
            .client
            .post(&job.webhook_url)
            .header("content-type", "application/json")
            .header("webhook-id", job.event_id.to_string())
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", job.signature(timestamp))
            .body(job.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = matches!(status, 429 | 503)
                    .then(|| response.headers().get("retry-after"))
                    .flatten()
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| service::parse_retry_after(value, Utc::now()));
                // Read (and drop) the answer so the connection can be reused.
                let _ = response.bytes().await;
                Outcome {
                    status: Some(status),
                    latency: started.elapsed(),
                    error: (!(200..300).contains(&status)).then(|| format!("HTTP {status}")),
                    retry_after,
                }
            }
            Err(error) => Outcome {
                status: None,
                latency: started.elapsed(),
                error: Some(describe(&error)),
                retry_after: None,
            },
        }
    }
}

/// What went wrong, without the URL (or anything sent).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_redirect() {
        "redirects are not followed".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

async fn check_target(url: String) -> Result<(), TargetError> {
    actix_web::rt::task::spawn_blocking(move || service::check_target(&url))
        .await
        .unwrap_or(Err(TargetError::Unresolved))
}
