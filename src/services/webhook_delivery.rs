//! Delivering events to webhook subscriptions: claiming a due delivery, building its signed
//! request, and recording each attempt with the next one it leads to (or dead-lettering it).
//! The HTTP call itself happens in `workers::webhooks`, between two short database calls, so
//! no connection is held while a receiver answers.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::db::webhook_deliveries::{self as queries, NewAttempt};
use crate::db::webhooks;
use crate::domain::event::{EventType, NewEvent};
use crate::domain::webhook::{
    self, DeliveryState, Format, Outgoing, RetrySchedule, Secret, SigningKey,
};
use crate::error::Error;
use crate::services::{delivery_queue, events};

/// What the delivery loops wait on between rounds of work.
pub use crate::db::notify::Waiter;

/// The lease of a claim, shared with the e-mail queue.
pub use crate::services::delivery_queue::LEASE;

/// A claimed delivery, ready to send.
pub struct Job {
    pub delivery_id: Uuid,
    pub webhook_id: Uuid,
    pub attempt: i32,
    pub webhook_url: String,
    /// `webhook-id`: the event's id, the same for every attempt.
    pub event_id: Uuid,
    pub body: Vec<u8>,
    /// The current secret's key, then a rotated-out one still in its overlap.
    keys: Vec<SigningKey>,
}

impl Job {
    /// The `webhook-signature` value for a send at `timestamp` (unix seconds): one `v1,`
    /// signature per valid secret, space-separated, so a receiver holding either verifies.
    pub fn signature(&self, timestamp: i64) -> String {
        let id = self.event_id.to_string();
        let signatures: Vec<String> = self
            .keys
            .iter()
            .map(|key| key.sign(&id, timestamp, &self.body))
            .collect();
        signatures.join(" ")
    }
}

/// What decides an attempt's aftermath.
pub struct Policy<'a> {
    pub schedule: &'a RetrySchedule,
    /// A subscription whose attempts have all failed this long is disabled.
    pub disable_after: Duration,
}

/// Claims one due delivery for `lease` (workers pass [`LEASE`]), or `None` when nothing is due.
pub fn claim(
    conn: &mut PgConnection,
    schedule: &RetrySchedule,
    lease: Duration,
) -> Result<Option<Job>, Error> {
    let first_wait = delivery_queue::first_wait(schedule);
    let Some(claimed) = queries::claim(conn, first_wait, delivery_queue::millis(lease))? else {
        return Ok(None);
    };
    let bad = |what: &str| Error::internal(format!("delivery {}: bad stored {what}", claimed.id));
    let format = Format::parse(&claimed.format).ok_or_else(|| bad("format"))?;
    let kind = EventType::parse(&claimed.event_type).ok_or_else(|| bad("event type"))?;
    let key = |stored: &str| {
        Secret::from_stored(stored)
            .as_ref()
            .and_then(SigningKey::new)
            .ok_or_else(|| bad("secret"))
    };
    let mut keys = vec![key(&claimed.secret)?];
    if let Some(previous) = &claimed.previous_secret {
        keys.push(key(previous)?);
    }
    let personal = claimed
        .personal
        .as_ref()
        .filter(|_| claimed.include_personal_data && format == Format::Standard);
    let body = webhook::body(
        format,
        &Outgoing {
            event_id: claimed.event_id,
            kind,
            occurred_at: claimed.occurred_at,
            subject_id: claimed.subject_id,
            payload: &claimed.payload,
            personal,
        },
    );
    Ok(Some(Job {
        delivery_id: claimed.id,
        webhook_id: claimed.webhook_id,
        attempt: claimed.attempt,
        webhook_url: claimed.url,
        event_id: claimed.event_id,
        body: serde_json::to_vec(&body).map_err(Error::internal)?,
        keys,
    }))
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The answer's status, when one came.
    pub status: Option<u16>,
    pub latency: Duration,
    /// Why it failed, without personal data (a transport error or the status).
    pub error: Option<String>,
    /// A 429 or 503's `Retry-After`.
    pub retry_after: Option<Duration>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// Records the attempt; a failure is due again after the schedule's next wait (or the
/// receiver's `Retry-After`), or dead-lettered after the last attempt. A success ends the
/// subscription's run of failures; a failure that makes the run `disable_after` long disables
/// the subscription and records `webhook.disabled` (for the other subscriptions), in the same
/// transaction and under the subscription's row lock, so once however many processes fail it.
/// Returns the state.
pub fn record(
    conn: &mut PgConnection,
    job: &Job,
    outcome: &Outcome,
    policy: &Policy<'_>,
    attempted_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DeliveryState, Error> {
    let (state, next) = delivery_queue::after_attempt(
        policy.schedule,
        job.attempt,
        outcome.succeeded(),
        outcome.retry_after,
        now,
    )?;
    let attempt = NewAttempt {
        id: Uuid::now_v7(),
        delivery_id: job.delivery_id,
        number: job.attempt,
        attempted_at,
        status_code: outcome.status.map(i32::from),
        latency_ms: i32::try_from(outcome.latency.as_millis()).unwrap_or(i32::MAX),
        error: outcome.error.as_deref(),
        next_attempt_at: next,
    };
    conn.transaction(|conn| {
        // A late result of an expired claim moves nothing, and says nothing of the endpoint.
        if !queries::finish(conn, &attempt, state)? {
            return Ok(state);
        }
        if outcome.succeeded() {
            webhooks::note_success(conn, job.webhook_id)?;
        } else {
            webhooks::note_failure(conn, job.webhook_id, attempted_at)?;
            let disable_after =
                chrono::Duration::from_std(policy.disable_after).map_err(Error::internal)?;
            disable_if_failing(conn, job.webhook_id, now - disable_after, now)?;
        }
        Ok(state)
    })
}

/// Disables the subscription when its run of failures began at or before `cutoff`.
fn disable_if_failing(
    conn: &mut PgConnection,
    webhook_id: Uuid,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(row) = webhooks::find_for_update(conn, webhook_id)? else {
        return Ok(());
    };
    let Some(failing_since) = row.failing_since.filter(|since| *since <= cutoff) else {
        return Ok(());
    };
    if !row.enabled {
        return Ok(());
    }
    webhooks::disable(conn, webhook_id, now)?;
    events::record(
        conn,
        &NewEvent::webhook_disabled(webhook_id, row.url, failing_since, now),
    )?;
    tracing::warn!(webhook_id = %webhook_id, "webhook disabled after failing too long");
    Ok(())
}

pub const LIST_LIMIT_DEFAULT: i64 = 20;
pub const LIST_LIMIT_MAX: i64 = 100;

/// One attempt of a delivery.
#[derive(Debug, Clone)]
pub struct AttemptView {
    pub number: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// A delivery with its attempts.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: EventType,
    pub state: DeliveryState,
    /// When it is due, while `pending`.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attempts: Vec<AttemptView>,
}

pub struct DeliveryPage {
    pub items: Vec<DeliveryView>,
    pub next: Option<(DateTime<Utc>, Uuid)>,
}

/// A subscription's deliveries, newest first, each with its attempts.
pub fn list(
    conn: &mut PgConnection,
    webhook_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<DeliveryPage, Error> {
    crate::db::webhooks::find(conn, webhook_id)?.ok_or(Error::NotFound)?;
    let mut rows = queries::list(conn, webhook_id, after, limit + 1)?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more
        .then(|| rows.last().map(|row| (row.created_at, row.id)))
        .flatten();
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut attempts = queries::attempts_of(conn, &ids)?;
    let items = rows
        .into_iter()
        .map(|row| {
            let mine = attempts
                .extract_if(.., |attempt| attempt.delivery_id == row.id)
                .map(|attempt| AttemptView {
                    number: attempt.number,
                    attempted_at: attempt.attempted_at,
                    status_code: attempt.status_code,
                    latency_ms: attempt.latency_ms,
                    error: attempt.error,
                    next_attempt_at: attempt.next_attempt_at,
                })
                .collect();
            DeliveryView {
                id: row.id,
                event_id: row.event_id,
                event_type: row.event_type,
                state: row.state,
                next_attempt_at: (row.state == DeliveryState::Pending)
                    .then_some(row.next_attempt_at),
                created_at: row.created_at,
                attempts: mine,
            }
        })
        .collect();
    Ok(DeliveryPage { items, next })
}

/// Sends a `failed` (or `delivered`) delivery once more, now: one attempt, past the schedule,
/// so a failure dead-letters it again. A pending one is a 409: it is retried already.
pub fn retry(conn: &mut PgConnection, webhook_id: Uuid, delivery_id: Uuid) -> Result<(), Error> {
    conn.transaction(|conn| {
        if queries::retry(conn, webhook_id, delivery_id)? {
            tracing::info!(delivery_id = %delivery_id, "webhook delivery retried by hand");
            return Ok(());
        }
        if queries::exists(conn, webhook_id, delivery_id)? {
            return Err(Error::Conflict(
                "The delivery is pending: it is attempted on its schedule already.".to_owned(),
            ));
        }
        Err(Error::NotFound)
    })
}

/// Why a target was refused; the text is safe to record and show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the host does not resolve")]
    Unresolved,
    #[error("the host resolves to a private, loopback, link-local or metadata address")]
    Private,
}

/// Resolves the URL's host and refuses it when any address it has is one a public receiver
/// never has. Blocking (DNS): call it off the async threads. Deliveries do not call it: their
/// client checks the addresses it connects to (`workers::webhooks::PublicResolver`).
pub fn check_target(url: &str) -> Result<(), TargetError> {
    let parsed = url::Url::parse(url).map_err(|_| TargetError::Unresolved)?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|_| TargetError::Unresolved)?
        .collect();
    public_only(addrs).map(drop)
}

/// The addresses, when there are some and every one is public.
pub fn public_only(addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, TargetError> {
    if addrs.is_empty() {
        return Err(TargetError::Unresolved);
    }
    if addrs.iter().any(|addr| !webhook::is_public(addr.ip())) {
        return Err(TargetError::Private);
    }
    Ok(addrs)
}

/// Refuses a URL that names a private address directly (no resolution happens for it); a
/// host name passes here and is checked when it is resolved.
pub fn check_literal_target(url: &str) -> Result<(), TargetError> {
    let parsed = url::Url::parse(url).map_err(|_| TargetError::Unresolved)?;
    let ip: std::net::IpAddr = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.into(),
        Some(url::Host::Ipv6(ip)) => ip.into(),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(TargetError::Unresolved),
    };
    if webhook::is_public(ip) {
        Ok(())
    } else {
        Err(TargetError::Private)
    }
}

/// `Retry-After` as seconds or an HTTP date, from now.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&Utc) - now).to_std().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn an_address_in_the_url_is_checked_without_resolving_and_a_name_is_left_to_the_resolver() {
        for private in [
            "http://127.0.0.1:8080/h",
            "http://[::1]/h",
            "https://169.254.169.254/latest",
            "http://10.1.2.3/h",
        ] {
            assert_eq!(
                check_literal_target(private),
                Err(TargetError::Private),
                "{private}"
            );
        }
        assert_eq!(check_literal_target("https://93.184.216.34/h"), Ok(()));
        assert_eq!(check_literal_target("http://localhost:9/h"), Ok(()));
        assert_eq!(
            public_only(vec!["93.184.216.34:443".parse().unwrap()]),
            Ok(vec!["93.184.216.34:443".parse().unwrap()])
        );
        assert_eq!(public_only(Vec::new()), Err(TargetError::Unresolved));
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_an_http_date() {
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 15, 0, 0).unwrap();
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Tue, 10 Mar 2026 15:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Tue, 10 Mar 2026 14:00:00 GMT", now),
            None
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
