//! Erasure: a person is forgotten. Their lead becomes an anonymous tombstone (id, status as the
//! outcome, first-touch source, the clinic-local day, how many interests) so statistics stay
//! true; everything else they sent or that was written about them is deleted or cleared:
//! submissions, consent evidence (with IP and user agent), the words of staff notes, intake's
//! stored answers and the rate-limit counter of their number. Only the suppression list keeps
//! anything, and only a keyed hash. Retention erases old leads the same way, in batches that
//! several replicas can share.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::config::LeadSettings;
use crate::db::lead_admin::{self as queries, LeadRow};
use crate::domain::audit::Action;
use crate::domain::lead_change::ActivityAction;
use crate::domain::pipeline::LeadStatus;
use crate::error::Error;
use crate::services::audit::{self, Actor, Subject};
use crate::services::events;
use crate::services::lead_preconditions::refuse_erased;
use crate::services::leads::IDEMPOTENCY_SCOPE;
use crate::services::rate_limits::{PHONE_BUCKET, rate_subject};

/// Leads erased per transaction while purging.
pub const PURGE_BATCH: i64 = 100;
/// Who purges when no key is involved.
pub const RETENTION_ACTOR: &str = "retention";

/// What is left of an erased lead: nothing that identifies the person.
pub struct TombstoneView {
    pub id: Uuid,
    /// The status when erased: the lead's outcome.
    pub status: LeadStatus,
    /// The clinic-local day the lead was created.
    pub created_day: NaiveDate,
    pub interest_count: i32,
    /// First-touch `utm_source`.
    pub source: Option<String>,
    pub erased_at: DateTime<Utc>,
    /// The name of the key that erased it, or `retention`.
    pub erased_by: String,
}

impl TombstoneView {
    fn new(row: LeadRow, settings: &LeadSettings) -> Result<Self, Error> {
        // The table's constraints and `make_tombstone` fill these on every erased lead.
        let missing = |what: &str| Error::internal(format!("erased lead {} has no {what}", row.id));
        Ok(TombstoneView {
            id: row.id,
            status: row.status,
            created_day: row
                .created_at
                .with_timezone(&settings.calendar.time_zone())
                .date_naive(),
            interest_count: row
                .interest_count
                .ok_or_else(|| missing("interest count"))?,
            erased_at: row.erased_at.ok_or_else(|| missing("erasure time"))?,
            erased_by: row.erased_by.ok_or_else(|| missing("eraser"))?,
            source: row.source,
        })
    }
}

/// Erases one lead and returns its tombstone. An erased lead is `Gone`.
pub fn erase(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<TombstoneView, Error> {
    let tombstone = conn.transaction(|conn| {
        let lead = queries::find_for_update(conn, id)?.ok_or(Error::NotFound)?;
        refuse_erased(&lead)?;
        queries::allow_erasing(conn)?;
        erase_locked(conn, settings, &lead, actor, now)?;
        audit::record(conn, actor, Action::Erase, Subject::Lead(id), 1, now)?;
        queries::find(conn, id)?.ok_or(Error::NotFound)
    })?;
    tracing::info!(lead_id = %id, "lead erased");
    TombstoneView::new(tombstone, settings)
}

/// Erases every lead whose latest enquiry is older than `older_than`, a batch per transaction.
/// Leads another replica is erasing are skipped (`SKIP LOCKED`), so any number may run this at
/// once. Returns how many this call erased.
pub fn purge(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    older_than: TimeDelta,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let cutoff = now - older_than;
    let mut erased = 0;
    loop {
        let batch = conn.transaction(|conn| -> Result<usize, Error> {
            let leads = queries::expired_for_update(conn, cutoff, PURGE_BATCH)?;
            if leads.is_empty() {
                return Ok(0);
            }
            queries::allow_erasing(conn)?;
            for lead in &leads {
                erase_locked(conn, settings, lead, actor, now)?;
                audit::record(conn, actor, Action::Erase, Subject::Lead(lead.id), 1, now)?;
            }
            Ok(leads.len())
        })?;
        erased += batch;
        if batch < usize::try_from(PURGE_BATCH).unwrap_or(0) {
            break;
        }
    }
    if erased > 0 {
        tracing::info!(
            erased,
            older_than_days = older_than.num_days(),
            "old leads erased"
        );
    }
    Ok(erased)
}

/// The erasure itself, on a lead locked by the caller's transaction, which has allowed
/// deleting consent evidence.
fn erase_locked(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    lead: &LeadRow,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    queries::erase_history(conn, lead.id, IDEMPOTENCY_SCOPE)?;
    if let Some(e164) = &lead.phone_e164 {
        queries::forget_rate_windows(conn, PHONE_BUCKET, &rate_subject(PHONE_BUCKET, e164))?;
    }
    queries::make_tombstone(
        conn,
        lead.id,
        settings.calendar.time_zone().name(),
        &actor.name,
        actor.key_id,
        now,
    )?;
    queries::insert_activity(
        conn,
        &queries::NewActivity {
            id: Uuid::now_v7(),
            lead_id: lead.id,
            at: now,
            actor: &actor.name,
            actor_key_id: actor.key_id,
            action: ActivityAction::Erased,
            from_status: Some(lead.status),
            to_status: Some(lead.status),
            assignee: None,
            note: None,
        },
    )?;
    events::lead_erased(conn, lead, now)?;
    Ok(())
}
