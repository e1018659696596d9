//! Meta lead ads: answering Meta's subscription check, acknowledging a notification by queueing
//! one Graph API fetch per announced lead in the same transaction as the answer, and recording
//! each fetch's outcome. The Graph call itself happens in `workers::meta`, between two short
//! database calls, so no connection is held while Graph answers.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::db::meta_fetches as queries;
use crate::db::{events as event_queries, notify};
use crate::domain::lead_source::SourceKind;
use crate::domain::meta::{self, FetchFailure, GraphId, MetaCredentials, PageToken};
use crate::domain::webhook::{DeliveryState, RetrySchedule};
use crate::error::Error;
use crate::services::delivery_queue::{self, LEASE};
use crate::telemetry::metrics::{self, MetaFetchOutcome};

/// The source's credentials, or 404 when it is not a live `meta` source.
fn meta_source(conn: &mut PgConnection, id: Uuid) -> Result<(bool, MetaCredentials), Error> {
    let Some((SourceKind::Meta, enabled, stored)) = queries::source(conn, id)? else {
        return Err(Error::NotFound);
    };
    let credentials = stored
        .as_ref()
        .and_then(MetaCredentials::from_json)
        .ok_or_else(|| Error::internal(format!("lead source {id}: bad stored credentials")))?;
    Ok((enabled, credentials))
}

/// Meta's check of the callback URL: the challenge to echo when `mode` is `subscribe` and the
/// token is the source's verify token; 403 otherwise.
pub fn challenge(
    conn: &mut PgConnection,
    source_id: Uuid,
    mode: Option<&str>,
    offered_token: Option<&str>,
    challenge: Option<&str>,
) -> Result<String, Error> {
    let (_, credentials) = meta_source(conn, source_id)?;
    let answer = meta::challenge_answer(
        mode,
        offered_token,
        challenge,
        &credentials.verify_token_sha256,
    );
    match answer {
        Some(challenge) => {
            tracing::info!(lead_source_id = %source_id, "meta subscription verified");
            Ok(challenge.to_owned())
        }
        None => Err(Error::Refused(
            "`hub.mode` must be `subscribe` and `hub.verify_token` the source's verify token.",
        )),
    }
}

/// What acknowledging a notification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acknowledged {
    /// Leads whose fetch was queued now.
    pub queued: usize,
    /// Leads queued (or fetched) already: a redelivery.
    pub known: usize,
    /// `leadgen` changes without a usable `leadgen_id`.
    pub unusable: usize,
}

/// Checks `signature` (`X-Hub-Signature-256`) over the raw `body` with the source's app secret
/// (401 when missing or wrong), then queues a fetch per announced lead in one transaction, so
/// the 200 Meta gets means every fetch is queued. A disabled source refuses (403) after the
/// check, so only Meta learns that it is disabled.
pub fn receive(
    conn: &mut PgConnection,
    source_id: Uuid,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Acknowledged, Error> {
    let acknowledged = conn.transaction(|conn| {
        let (enabled, credentials) = meta_source(conn, source_id)?;
        if !credentials.app_secret.signs(signature, body) {
            return Err(Error::Unauthorized(
                "`X-Hub-Signature-256` is missing or is not the HMAC-SHA256 of this body with \
                 the source's app secret.",
            ));
        }
        if !enabled {
            return Err(Error::Refused(
                "This lead source is disabled; an admin can enable it again.",
            ));
        }
        let notification = meta::parse_notification(body).map_err(|_| {
            Error::BadRequest(
                "The body is not a Meta notification (JSON with `entry[].changes[]`).".to_owned(),
            )
        })?;
        let mut acknowledged = Acknowledged {
            queued: 0,
            known: 0,
            unusable: notification.unusable,
        };
        for change in &notification.leads {
            if queries::queue(conn, source_id, change)? {
                acknowledged.queued += 1;
            } else {
                acknowledged.known += 1;
            }
        }
        if acknowledged.queued > 0 {
            // Wakes the fetch loops at commit, like a new event wakes the other channels.
            notify::notify(conn, event_queries::CHANNEL)?;
        }
        Ok::<_, Error>(acknowledged)
    })?;
    tracing::info!(
        lead_source_id = %source_id,
        queued = acknowledged.queued,
        known = acknowledged.known,
        unusable = acknowledged.unusable,
        "meta notification acknowledged"
    );
    Ok(acknowledged)
}

/// Meta's ids of where a lead came from, as its notification named them.
#[derive(Debug, Clone, Default)]
pub struct Announced {
    pub page_id: Option<String>,
    pub form_id: Option<String>,
    pub ad_id: Option<String>,
    pub adgroup_id: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
}

/// A claimed fetch, ready to make.
#[derive(Debug)]
pub struct FetchJob {
    pub id: Uuid,
    pub attempt: i32,
    pub source_id: Uuid,
    pub leadgen_id: GraphId,
    /// `None` when the source's stored token is unusable: the fetch fails at once.
    pub page_token: Option<PageToken>,
    pub announced: Announced,
}

/// Claims one due fetch of an enabled source, or `None` when nothing is due.
pub fn claim(conn: &mut PgConnection, schedule: &RetrySchedule) -> Result<Option<FetchJob>, Error> {
    let first_wait = delivery_queue::first_wait(schedule);
    let Some(claimed) = queries::claim(conn, first_wait, delivery_queue::millis(LEASE))? else {
        return Ok(None);
    };
    let leadgen_id = GraphId::parse(&claimed.leadgen_id)
        .ok_or_else(|| Error::internal(format!("meta fetch {}: bad stored id", claimed.id)))?;
    Ok(Some(FetchJob {
        id: claimed.id,
        attempt: claimed.attempt,
        source_id: claimed.lead_source_id,
        leadgen_id,
        page_token: claimed
            .credentials
            .as_ref()
            .and_then(MetaCredentials::from_json)
            .map(|credentials| credentials.page_token),
        announced: Announced {
            page_id: claimed.page_id,
            form_id: claimed.form_id,
            ad_id: claimed.ad_id,
            adgroup_id: claimed.adgroup_id,
            submitted_at: claimed.submitted_at,
        },
    }))
}

/// Records a failed attempt (`reason` says why without any answer or token): a transient one
/// is due again on the schedule, or failed after its last attempt; a permanent one fails now.
pub fn record_failure(
    conn: &mut PgConnection,
    job: &FetchJob,
    failure: FetchFailure,
    reason: &str,
    schedule: &RetrySchedule,
    now: DateTime<Utc>,
) -> Result<DeliveryState, Error> {
    let (state, next) = match failure {
        FetchFailure::Transient => {
            delivery_queue::after_attempt(schedule, job.attempt, false, None, now)?
        }
        FetchFailure::Permanent => (DeliveryState::Failed, None),
    };
    if queries::finish(conn, job.id, job.attempt, state, next, Some(reason))? {
        let outcome = match state {
            DeliveryState::Pending => MetaFetchOutcome::Retried,
            _ => MetaFetchOutcome::Failed,
        };
        metrics::meta_fetch(outcome);
        if state == DeliveryState::Failed {
            tracing::warn!(
                meta_fetch_id = %job.id,
                lead_source_id = %job.source_id,
                leadgen_id = job.leadgen_id.as_str(),
                attempt = job.attempt,
                reason,
                "a meta lead could not be fetched; it is failed for good"
            );
        }
    }
    Ok(state)
}

/// What recording a fetched lead through the intake needs.
#[derive(Clone)]
pub struct Intake {
    pub settings: crate::config::LeadSettings,
    /// `BEACON_SUPPRESSION_SECRET`; `None`: the key stored in the database.
    pub suppression_key: Option<crate::domain::suppression::SuppressionKey>,
}

/// Records the fetched lead through the intake and marks the fetch delivered, in one
/// transaction.
pub fn record_lead(
    _conn: &mut PgConnection,
    _job: &FetchJob,
    _lead: meta::GraphLead,
    _intake: &Intake,
    _schedule: &RetrySchedule,
    _now: DateTime<Utc>,
) -> Result<DeliveryState, Error> {
    Err(Error::internal(
        "interim: waiting for the external lead core",
    ))
}
