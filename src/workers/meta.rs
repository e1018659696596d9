//! Meta lead fetch loop: claim a due fetch, `GET` the lead from the Graph API with the page
//! token, record it through the intake (or record why it failed); the shared queue loop
//! (`workers::queue`) waits between rounds.

use std::time::Duration;

use chrono::Utc;

use crate::config::MetaSettings;
use crate::db::{self, Pool};
use crate::domain::meta::{self, FetchFailure, GraphLead};
use crate::domain::webhook::RetrySchedule;
use crate::services::delivery_queue::Waiter;
use crate::services::meta_leads::{self as service, FetchJob};
use crate::services::webhook_delivery::check_literal_target;
use crate::workers::webhooks::describe;

/// Graph answers a lead within a second or two; well within the queue's lease.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// A lead is a few kilobytes; a larger answer is not one.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

pub struct Fetcher {
    pub pool: Pool,
    /// Built like the webhook client: no redirects, bounded time, and (unless
    /// `allow_private_graph`) only public addresses.
    pub client: reqwest::Client,
    pub graph: MetaSettings,
    pub schedule: RetrySchedule,
    pub intake: service::Intake,
}

pub async fn run(fetcher: Fetcher, waiter: Option<Waiter>) {
    let schedule = fetcher.schedule.clone();
    let claim = move |conn: &mut _| service::claim(conn, &schedule);
    let pool = fetcher.pool.clone();
    super::queue::run(pool, waiter, "meta leads", claim, |job| {
        fetcher.attempt(job)
    })
    .await;
}

/// Why a fetch brought no lead, safe to record: a status and Graph's error code, never the
/// answer itself or the token.
struct Failed {
    failure: FetchFailure,
    reason: String,
}

impl Fetcher {
    async fn attempt(&self, job: FetchJob) {
        let fetched = self.fetch(&job).await;
        let id = job.id;
        let schedule = self.schedule.clone();
        let intake = self.intake.clone();
        let recorded = db::run(&self.pool, move |conn| match fetched {
            Ok(lead) => service::record_lead(conn, &job, lead, &intake, Utc::now()),
            Err(failed) => service::record_failure(
                conn,
                &job,
                failed.failure,
                &failed.reason,
                &schedule,
                Utc::now(),
            ),
        })
        .await;
        match recorded {
            Ok(state) => {
                tracing::info!(meta_fetch_id = %id, state = state.as_str(), "meta lead fetch")
            }
            // The claim's lease runs out and the fetch is tried again.
            Err(error) => {
                tracing::warn!(meta_fetch_id = %id, %error, "recording a meta lead fetch failed")
            }
        }
    }

    async fn fetch(&self, job: &FetchJob) -> Result<GraphLead, Failed> {
        let Some(token) = &job.page_token else {
            return Err(Failed {
                failure: FetchFailure::Permanent,
                reason: "the source has no usable page access token".to_owned(),
            });
        };
        let url = meta::lead_url(
            &self.graph.graph_url,
            &self.graph.graph_version,
            &job.leadgen_id,
        );
        // A host name is checked by the client's resolver; an address in the URL here.
        if !self.graph.allow_private_graph
            && let Err(error) = check_literal_target(url.as_str())
        {
            return Err(Failed {
                failure: FetchFailure::Transient,
                reason: error.to_string(),
            });
        }
        let sent = self
            .client
            .get(url)
            .bearer_auth(token.expose())
            .timeout(TIMEOUT)
            .send()
            .await;
        let response = sent.map_err(|error| Failed {
            failure: FetchFailure::Transient,
            reason: describe(&error),
        })?;
        let status = response.status().as_u16();
        let body = read_limited(response).await.map_err(|reason| Failed {
            failure: FetchFailure::Transient,
            reason,
        })?;
        if !(200..300).contains(&status) {
            return Err(Failed {
                failure: meta::classify_failure(status, &body),
                reason: meta::error_summary(status, &body),
            });
        }
        meta::parse_lead(&body).map_err(|_| Failed {
            failure: FetchFailure::Transient,
            reason: format!("HTTP {status}, but the answer is not a lead"),
        })
    }
}

/// The answer's body, refused past [`MAX_ANSWER_BYTES`].
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| describe(&error))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err("the answer is too large".to_owned());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
