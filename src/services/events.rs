//! The outbox: every change that tells the clinic's tools something records its event here, in
//! the change's own transaction, so neither commits without the other. Also the catch-up feed,
//! and the scan that finds time-based events (a scheduled article going live, a lead nobody
//! called back in time) exactly once however many processes run it.
//!
//! What a change emits:
//! - intake: a new lead `lead.created` (with the person's details in `personal`); a repeat
//!   enquiry joining a lead `lead.updated` with change `enquiry` (and `status` when it reopened
//!   a `do_not_contact` lead), carrying that enquiry's attribution and words; quarantined spam
//!   nothing at all.
//! - staff: `lead.updated` when status or assignee change (a note alone: nothing); marking a
//!   lead not spam introduces it, so that event carries the person's details; a lead that is
//!   spam and stays spam emits nothing. Lifting an opt-out: `lead.updated` (`opt_out_lifted`).
//! - opt-out: `lead.opted_out` per lead of the number, spam excepted.
//! - erasure (staff or retention): `lead.erased`, and the personal part of every earlier event
//!   of the lead is cleared in the same transaction. A lead only ever seen as spam leaves no
//!   event.
//! - articles: see `domain::event::ArticleEvent`.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::db::events::{self as queries, FeedRow, NewEventRow};
use crate::db::lead_admin::{self, LeadRow};
use crate::db::notify;
use crate::db::webhook_deliveries;
use crate::domain::article::Status;
use crate::domain::event::{
    ArticleEvent, ArticlePayload, EnquiryAttribution, EventType, LeadChange, LeadEvent,
    LeadPayload, LeadPersonal, NewEvent, introduces_lead, reaches_tools,
};
use crate::domain::notification::notifies_staff;
use crate::domain::pipeline::LeadStatus;
use crate::error::Error;

pub const FEED_LIMIT_DEFAULT: i64 = 50;
pub const FEED_LIMIT_MAX: i64 = 200;
/// Subjects handled per scan transaction.
const SCAN_BATCH: i64 = 100;

/// Records `event` in the caller's transaction (call it only inside one) and announces it on
/// [`queries::CHANNEL`] at commit, with one webhook delivery per enabled subscription that
/// wants it and, for a new lead or a missed deadline, one staff e-mail per recipient. Returns `false` when an event with its dedupe key exists
/// already: then nothing was written.
pub fn record(conn: &mut PgConnection, event: &NewEvent) -> Result<bool, Error> {
    let row = event_row(event)?;
    // Same transaction: every subscription wanting it gets exactly one delivery.
    Ok(queries::insert_and_fan_out(
        conn,
        &row,
        notifies_staff(row.kind),
    )?)
}

fn event_row(event: &NewEvent) -> Result<NewEventRow<'_>, Error> {
    Ok(NewEventRow {
        id: Uuid::now_v7(),
        kind: event.kind(),
        occurred_at: event.occurred_at(),
        subject_id: event.subject_id(),
        payload: event.payload().map_err(Error::internal)?,
        personal: event.personal().map_err(Error::internal)?,
        dedupe_key: event.dedupe_key(),
    })
}

/// Records `event` (one without a dedupe key) in the caller's transaction with a delivery to
/// `webhook_id` alone, whatever the subscriptions want: a test delivery. Returns the
/// delivery's id. The feed does not list such events.
pub fn record_for_one(
    conn: &mut PgConnection,
    event: &NewEvent,
    webhook_id: Uuid,
) -> Result<Uuid, Error> {
    let row = event_row(event)?;
    if !queries::insert(conn, &row)? {
        return Err(Error::internal(
            "a targeted event collided on its dedupe key",
        ));
    }
    let delivery = webhook_deliveries::insert_one(conn, webhook_id, row.id)?;
    notify::notify(conn, queries::CHANNEL)?;
    Ok(delivery)
}

// ---------------------------------------------------------------------------------------------
// Leads
// ---------------------------------------------------------------------------------------------

/// The lead as stored, de-identified.
fn lead_payload(row: &LeadRow) -> LeadPayload {
    LeadPayload {
        lead_id: row.id,
        status: row.status,
        previous_status: None,
        changes: Vec::new(),
        contact_by: Some(row.contact_by),
        assignee: row.assignee.clone(),
        opted_out_at: row.opted_out_at,
        source: row.source.clone(),
        enquiry: None,
    }
}

/// The person's details as stored, with the words of the enquiry being reported, if any.
fn lead_personal(row: &LeadRow, words: Option<EnquiryWords>) -> LeadPersonal {
    let words = words.unwrap_or_default();
    LeadPersonal {
        name: row.name.clone(),
        phone: row.phone.clone(),
        phone_e164: row.phone_e164.clone(),
        email: row.email.clone(),
        interests: row.interests.iter().flatten().flatten().cloned().collect(),
        priority: row.priority,
        message: words.message,
        preferred_contact_time: words.preferred_contact_time,
    }
}

/// What a person wrote in one enquiry (personal: it goes to `personal` only).
#[derive(Default)]
pub struct EnquiryWords {
    pub message: Option<String>,
    pub preferred_contact_time: Option<String>,
}

/// An enquiry that created a lead or joined one (never spam: intake records no event for it).
pub struct Enquiry {
    pub lead_id: Uuid,
    /// It joined an existing lead.
    pub joined: bool,
    /// The status the enquiry reopened the lead from (an opt-out's `do_not_contact`).
    pub reopened_from: Option<LeadStatus>,
    pub attribution: EnquiryAttribution,
    pub words: EnquiryWords,
}

/// Intake's event, once the enquiry and everything it changed are written.
pub fn enquiry(conn: &mut PgConnection, enquiry: Enquiry, now: DateTime<Utc>) -> Result<(), Error> {
    let row = lead_admin::find(conn, enquiry.lead_id)?.ok_or(Error::NotFound)?;
    let mut payload = lead_payload(&row);
    payload.enquiry = Some(enquiry.attribution);
    let kind = if enquiry.joined {
        payload.previous_status = enquiry.reopened_from;
        payload.changes = [
            enquiry.reopened_from.map(|_| LeadChange::Status),
            Some(LeadChange::Enquiry),
        ]
        .into_iter()
        .flatten()
        .collect();
        LeadEvent::Updated
    } else {
        LeadEvent::Created
    };
    let personal = lead_personal(&row, Some(enquiry.words));
    record(conn, &NewEvent::lead(kind, payload, Some(personal), now))?;
    Ok(())
}

/// A change to a lead (by staff, or lifting its opt-out), given its status before and the row
/// after. Nothing is recorded when `changes` is empty or the lead stays in quarantine.
pub fn lead_updated(
    conn: &mut PgConnection,
    before: LeadStatus,
    after: &LeadRow,
    changes: Vec<LeadChange>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut payload = lead_payload(after);
    if changes.is_empty() || !reaches_tools(before, payload.status) {
        return Ok(());
    }
    let personal = introduces_lead(before, payload.status).then(|| lead_personal(after, None));
    payload.previous_status = (before != payload.status).then_some(before);
    payload.changes = changes;
    record(
        conn,
        &NewEvent::lead(LeadEvent::Updated, payload, personal, now),
    )?;
    Ok(())
}

/// One lead of a number that opted out, given its status before and the row after.
pub fn lead_opted_out(
    conn: &mut PgConnection,
    before: LeadStatus,
    after: &LeadRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut payload = lead_payload(after);
    if !reaches_tools(before, payload.status) {
        return Ok(());
    }
    payload.previous_status = (before != payload.status).then_some(before);
    record(
        conn,
        &NewEvent::lead(LeadEvent::OptedOut, payload, None, now),
    )?;
    Ok(())
}

/// Erasure, on the lead as it was just before: its events lose their personal part, and the
/// tools that may hold the person's details are told to forget them. A lead that was only ever
/// quarantined (spam, and no event names it) was never told to anyone.
pub fn lead_erased(
    conn: &mut PgConnection,
    before: &LeadRow,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    queries::forget_personal(conn, before.id)?;
    let status = before.status;
    if status == LeadStatus::Spam && !queries::any_about(conn, before.id)? {
        return Ok(());
    }
    // The tombstone's own facts: no deadline, no assignee, no opt-out.
    let payload = LeadPayload {
        lead_id: before.id,
        status,
        previous_status: None,
        changes: Vec::new(),
        contact_by: None,
        assignee: None,
        opted_out_at: None,
        source: before.source.clone(),
        enquiry: None,
    };
    record(conn, &NewEvent::lead(LeadEvent::Erased, payload, None, now))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Articles
// ---------------------------------------------------------------------------------------------

/// A write left the article as `after`; `before` is how it was (`None` for a new one). Records
/// what readers saw change, if anything (`ArticleEvent::of_write`).
pub fn article_written(
    conn: &mut PgConnection,
    before: Option<&ArticlePayload>,
    after: &ArticlePayload,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let was_public = before.is_some_and(|before| before.is_public(now));
    if let Some(kind) = ArticleEvent::of_write(was_public, after.is_public(now)) {
        record(conn, &NewEvent::article(kind, after.clone(), now))?;
    }
    Ok(())
}

/// The article `before` was deleted.
pub fn article_deleted(
    conn: &mut PgConnection,
    before: &ArticlePayload,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if let Some(kind) = ArticleEvent::of_delete(before.is_public(now)) {
        record(conn, &NewEvent::article(kind, before.clone(), now))?;
    }
    Ok(())
}

/// Before a write to an article stored as `stored` (its status column): a scheduled article
/// whose time has come but whose `article.published` the scan has not recorded yet gets it now,
/// so no later event of the article arrives unannounced. Keyed like the scan's, so it is
/// recorded once either way.
pub fn catch_up_publication(
    conn: &mut PgConnection,
    stored: Status,
    current: &ArticlePayload,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if let (Status::Scheduled, Some(at)) = (stored, current.published_at)
        && current.is_public(now)
    {
        record(conn, &NewEvent::scheduled_publication(current.clone(), at))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Time-based events
// ---------------------------------------------------------------------------------------------

/// What one scan recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scanned {
    pub published: usize,
    pub breached: usize,
}

/// Records `article.published` for every scheduled article whose time has come by `now`, and
/// `lead.sla_breached` for every live `new` lead whose `contact_by` passed before `now`, each
/// once: the dedupe key makes a second recording (by this process or any other) a no-op.
pub fn scan(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Scanned, Error> {
    let mut scanned = Scanned::default();
    loop {
        let (found, recorded) = conn.transaction(|conn| -> Result<_, Error> {
            let due = queries::due_scheduled_articles(conn, now, SCAN_BATCH)?;
            let mut recorded = 0;
            for article in &due {
                let payload = ArticlePayload {
                    article_id: article.id,
                    slug: article.slug.clone(),
                    title: article.title.clone(),
                    status: Status::Published,
                    published_at: Some(article.published_at),
                    version: article.version,
                };
                let event = NewEvent::scheduled_publication(payload, article.published_at);
                recorded += usize::from(record(conn, &event)?);
            }
            Ok((due.len(), recorded))
        })?;
        scanned.published += recorded;
        // A short batch was the last; one that recorded nothing would only repeat itself.
        if !full(found) || recorded == 0 {
            break;
        }
    }
    loop {
        let (found, recorded) = conn.transaction(|conn| -> Result<_, Error> {
            let overdue = queries::overdue_leads(conn, now, SCAN_BATCH)?;
            let mut recorded = 0;
            for lead in &overdue {
                let payload = LeadPayload {
                    lead_id: lead.id,
                    status: LeadStatus::New,
                    previous_status: None,
                    changes: Vec::new(),
                    contact_by: Some(lead.contact_by),
                    assignee: lead.assignee.clone(),
                    opted_out_at: lead.opted_out_at,
                    source: lead.source.clone(),
                    enquiry: None,
                };
                let event = NewEvent::sla_breached(payload, lead.contact_by);
                recorded += usize::from(record(conn, &event)?);
            }
            Ok((overdue.len(), recorded))
        })?;
        scanned.breached += recorded;
        if !full(found) || recorded == 0 {
            break;
        }
    }
    Ok(scanned)
}

/// Deletes the events that happened more than `older_than` before `now`, except those a
/// delivery still needs (a pending webhook delivery or e-mail: they go once it is done), with
/// their finished deliveries. Returns how many went. The feed then starts after them.
pub fn purge(
    conn: &mut PgConnection,
    older_than: chrono::TimeDelta,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let mut purged = 0;
    loop {
        let batch = queries::purge_before(conn, now - older_than, SCAN_BATCH)?;
        purged += batch;
        if !full(batch) {
            break;
        }
    }
    Ok(purged)
}

fn full(found: usize) -> bool {
    i64::try_from(found).is_ok_and(|found| found >= SCAN_BATCH)
}

// ---------------------------------------------------------------------------------------------
// The feed
// ---------------------------------------------------------------------------------------------

/// An event as the feed shows it: never its personal part.
pub struct FeedEvent {
    pub id: Uuid,
    pub kind: EventType,
    pub occurred_at: DateTime<Utc>,
    pub subject_id: Uuid,
    pub payload: serde_json::Value,
}

impl From<FeedRow> for FeedEvent {
    fn from(row: FeedRow) -> Self {
        FeedEvent {
            id: row.id,
            kind: row.kind,
            occurred_at: row.occurred_at,
            subject_id: row.subject_id,
            payload: row.payload,
        }
    }
}

pub struct FeedPage {
    pub items: Vec<FeedEvent>,
    /// Pass it as `after` next: the last event returned, else the `after` given.
    pub next_after: Option<Uuid>,
}

/// Up to `limit` events after the event `after` (from the start without it), in commit-safe
/// order: see `db::events::feed`.
pub fn feed(conn: &mut PgConnection, after: Option<Uuid>, limit: i64) -> Result<FeedPage, Error> {
    let position = match after {
        None => None,
        Some(id) => {
            let txid = queries::position(conn, id)?.ok_or_else(|| {
                Error::BadRequest(format!(
                    "`after` names no event ({id}); pass an id from this feed, or start again \
                     without `after`."
                ))
            })?;
            Some((txid, id))
        }
    };
    let items: Vec<FeedEvent> = queries::feed(conn, position, limit)?
        .into_iter()
        .map(FeedEvent::from)
        .collect();
    let next_after = items.last().map(|event| event.id).or(after);
    Ok(FeedPage { items, next_after })
}
