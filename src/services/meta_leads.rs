//! Meta lead ads: answering Meta's subscription check, acknowledging a notification by queueing
//! one Graph API fetch per announced lead in the same transaction as the answer, and recording
//! each fetch's outcome. The Graph call itself happens in `workers::meta`, between two short
//! database calls, so no connection is held while Graph answers.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::config::LeadSettings;
use crate::db::meta_fetches as queries;
use crate::db::{events as event_queries, notify};
use crate::domain::external_lead::{CustomAnswer, ExternalAttribution, ExternalLead};
use crate::domain::lead_source::SourceKind;
use crate::domain::meta::{self, FetchFailure, GraphId, GraphLead, MetaCredentials, PageToken};
use crate::domain::suppression::SuppressionKey;
use crate::domain::webhook::{DeliveryState, RetrySchedule};
use crate::error::Error;
use crate::services::delivery_queue::{self, LEASE};
use crate::services::external_leads::{self, Delivery};
use crate::services::{lead_sources, suppression};
use crate::telemetry::metrics::{self, MetaFetchOutcome};

/// The source's credentials, or 404 when it is not a live `meta` source.
fn meta_source(conn: &mut PgConnection, id: Uuid) -> Result<(bool, MetaCredentials), Error> {
    let found = lead_sources::for_webhook(conn, id, SourceKind::Meta)?.ok_or(Error::NotFound)?;
    let credentials = found
        .credentials
        .as_ref()
        .and_then(MetaCredentials::from_json)
        .ok_or_else(|| Error::internal(format!("lead source {id}: bad stored credentials")))?;
    Ok((found.enabled, credentials))
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
    if queries::QUEUE.finish_noting_error(conn, job.id, job.attempt, state, next, Some(reason))? {
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
    pub settings: LeadSettings,
    /// `BEACON_SUPPRESSION_SECRET`; `None`: the key stored in the database.
    pub suppression_key: Option<SuppressionKey>,
}

/// The lead as the shared external-lead core takes it: Meta's question names are its keys.
fn external_lead(job: &FetchJob, lead: GraphLead) -> ExternalLead {
    let announced = &job.announced;
    let id = |id: Option<GraphId>| id.map(|id| id.as_str().to_owned());
    let answers = lead
        .answers
        .custom
        .into_iter()
        .map(|(name, answer)| CustomAnswer {
            key: Some(name.clone()),
            question: name,
            answer,
        })
        .collect();
    ExternalLead {
        external_id: job.leadgen_id.as_str().to_owned(),
        full_name: lead.answers.full_name,
        first_name: lead.answers.first_name,
        last_name: lead.answers.last_name,
        phone: lead.answers.phone,
        email: lead.answers.email,
        postal_code: lead.answers.postal_code,
        answers,
        attribution: ExternalAttribution {
            campaign_id: id(lead.campaign_id),
            adgroup_id: announced.adgroup_id.clone(),
            // Graph's answer wins; the notification's ids stand in when Graph leaves them out
            // (an organic lead has no ad).
            ad_id: id(lead.ad_id).or_else(|| announced.ad_id.clone()),
            form_id: id(lead.form_id).or_else(|| announced.form_id.clone()),
            page_id: announced.page_id.clone(),
            ..ExternalAttribution::default()
        },
        consent: None,
        is_test: false,
    }
}

/// Records the fetched lead through the intake (once per `leadgen_id` and source) and marks
/// the fetch delivered, in one transaction. A lead the intake refuses (no usable phone number,
/// no name) fails the fetch for good, with the refused fields named.
pub fn record_lead(
    conn: &mut PgConnection,
    job: &FetchJob,
    lead: GraphLead,
    intake: &Intake,
    now: DateTime<Utc>,
) -> Result<DeliveryState, Error> {
    let outcome = conn.transaction(|conn| {
        let Some(found) = lead_sources::for_webhook(conn, job.source_id, SourceKind::Meta)? else {
            return Err(Error::internal(format!(
                "meta fetch {}: its source is gone",
                job.id
            )));
        };
        let suppression_key = match &intake.suppression_key {
            Some(key) => key.clone(),
            None => suppression::stored_key(conn)?,
        };
        let recorded = conn.transaction(|conn| {
            external_leads::record(
                conn,
                &intake.settings,
                &suppression_key,
                &found.source,
                external_lead(job, lead),
                job.announced.submitted_at.unwrap_or(now),
            )
        });
        let (state, reason, outcome) = match recorded {
            Ok(delivery) => {
                log_delivery(job, &delivery);
                (DeliveryState::Delivered, None, MetaFetchOutcome::Recorded)
            }
            Err(Error::Validation(errors)) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
                let reason = format!("the intake refused the lead's {}", fields.join(", "));
                (
                    DeliveryState::Failed,
                    Some(reason),
                    MetaFetchOutcome::Refused,
                )
            }
            Err(other) => return Err(other),
        };
        let moved = queries::QUEUE.finish_noting_error(
            conn,
            job.id,
            job.attempt,
            state,
            None,
            reason.as_deref(),
        )?;
        if !moved {
            // A later claim took the fetch over: leave the lead to it (it finds it recorded).
            return Err(Error::Conflict(format!(
                "meta fetch {}: the claim expired",
                job.id
            )));
        }
        if let Some(reason) = &reason {
            tracing::warn!(
                meta_fetch_id = %job.id,
                lead_source_id = %job.source_id,
                leadgen_id = job.leadgen_id.as_str(),
                reason = reason.as_str(),
                "a fetched meta lead was refused by the intake; it is failed for good"
            );
        }
        Ok((state, outcome))
    });
    let (state, outcome) = outcome?;
    metrics::meta_fetch(outcome);
    Ok(state)
}

fn log_delivery(job: &FetchJob, delivery: &Delivery) {
    let (submission_id, new) = match delivery {
        Delivery::Recorded { submission_id, .. } => (submission_id, true),
        Delivery::Redelivered { submission_id } => (submission_id, false),
    };
    tracing::info!(
        meta_fetch_id = %job.id,
        lead_source_id = %job.source_id,
        submission_id = %submission_id,
        new,
        "meta lead recorded"
    );
}
