//! Staff e-mail notifications: the recipients new events queue e-mails for, and claiming and
//! recording those e-mails through the shared delivery queue. The SMTP conversation itself
//! happens in `workers::mail`, between two short database calls.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::PgConnection;
use uuid::Uuid;

use crate::db::email_deliveries as queries;
use crate::domain::email::Email;
use crate::domain::event::EventType;
use crate::domain::notification::{LeadNotice, Message};
use crate::domain::webhook::{DeliveryState, RetrySchedule};
use crate::error::Error;
use crate::services::delivery_queue::{self, LEASE};

/// Who events queue e-mails for from now on: `BEACON_NOTIFY_EMAILS` while SMTP is set up,
/// nobody otherwise (then nothing is queued).
pub fn set_recipients(conn: &mut PgConnection, recipients: &[Email]) -> Result<(), Error> {
    let addresses: Vec<String> = recipients
        .iter()
        .map(|email| email.as_str().to_owned())
        .collect();
    queries::set_recipients(conn, &addresses)?;
    Ok(())
}

/// How e-mails are written.
#[derive(Clone, Debug)]
pub struct Style {
    /// Times are shown in the clinic's zone.
    pub zone: Tz,
    /// Where staff read a lead, `{id}` standing for its id.
    pub lead_url: String,
}

/// A claimed e-mail, composed and ready to send.
pub struct MailJob {
    pub id: Uuid,
    pub attempt: i32,
    pub recipient: String,
    pub event_id: Uuid,
    pub message: Message,
}

/// Claims one due e-mail, or `None` when nothing is due.
pub fn claim(
    conn: &mut PgConnection,
    schedule: &RetrySchedule,
    style: &Style,
) -> Result<Option<MailJob>, Error> {
    let first_wait = delivery_queue::first_wait(schedule);
    let Some(claimed) = queries::claim(conn, first_wait, delivery_queue::millis(LEASE))? else {
        return Ok(None);
    };
    let bad = || Error::internal(format!("e-mail {}: bad stored event", claimed.id));
    let kind = EventType::parse(&claimed.event_type).ok_or_else(bad)?;
    let notice = LeadNotice::from_event(
        kind,
        &claimed.payload,
        claimed.lead_created_at,
        claimed.urgent,
    )
    .ok_or_else(bad)?;
    Ok(Some(MailJob {
        id: claimed.id,
        attempt: claimed.attempt,
        recipient: claimed.recipient,
        event_id: claimed.event_id,
        message: notice.compose(style.zone, &style.lead_url),
    }))
}

/// Records how the attempt went (`Err` holds why it failed, without the message); a failure
/// is due again on the schedule, or dead-lettered after its last attempt. Returns the state.
pub fn record(
    conn: &mut PgConnection,
    job: &MailJob,
    outcome: Result<(), String>,
    schedule: &RetrySchedule,
    now: DateTime<Utc>,
) -> Result<DeliveryState, Error> {
    let (state, next) =
        delivery_queue::after_attempt(schedule, job.attempt, outcome.is_ok(), None, now)?;
    queries::QUEUE.finish_noting_error(
        conn,
        job.id,
        job.attempt,
        state,
        next,
        outcome.err().as_deref(),
    )?;
    Ok(state)
}
