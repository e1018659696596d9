//! Working the lead queue: list and search, one lead with its history, staff changes along the
//! pipeline, CSV export page by page, and statistics. Every read of personal data writes its
//! audit entry in the same transaction as the read.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde_json::json;
use uuid::Uuid;

use crate::config::LeadSettings;
use crate::db::lead_admin::{
    self as queries, ActivityRow, ConsentRow, LeadFilter, LeadRow, Position, StatsRange,
    SubmissionRow,
};
use crate::domain::article::Precondition;
use crate::domain::audit::Action;
use crate::domain::lead::Priority;
use crate::domain::lead_change::{self, Current, Event, Patch, PlanError};
use crate::domain::lead_query::{SearchTerm, day_range};
use crate::domain::pipeline::LeadStatus;
use crate::error::Error;
use crate::services::audit::{self, Actor, Subject};
use crate::services::opt_out;

pub const LIMIT_DEFAULT: i64 = 20;
pub const LIMIT_MAX: i64 = 100;
/// Rows fetched per query while exporting: big enough to be quick, small enough that memory
/// stays flat however many leads there are.
pub const EXPORT_PAGE: i64 = 1_000;

/// The filters of the list and the export.
#[derive(Clone, Default)]
pub struct LeadQuery {
    pub statuses: Vec<LeadStatus>,
    pub include_spam: bool,
    pub priority: Option<Priority>,
    pub interest: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub overdue: Option<bool>,
    pub assignee: Option<String>,
    pub source: Option<String>,
    pub search: Option<SearchTerm>,
}

impl LeadQuery {
    fn filter(&self) -> LeadFilter {
        LeadFilter {
            statuses: self
                .statuses
                .iter()
                .map(|status| status.as_str().to_owned())
                .collect(),
            include_spam: self.include_spam,
            priority: self.priority.map(|p| p.as_str().to_owned()),
            interest: self.interest.clone(),
            created_after: self.created_after,
            created_before: self.created_before,
            overdue: self.overdue,
            assignee_pattern: self.assignee.as_deref().map(exact_pattern),
            source_pattern: self.source.as_deref().map(exact_pattern),
            search_pattern: self.search.as_ref().map(|term| term.pattern.clone()),
            search_phone: self
                .search
                .as_ref()
                .and_then(|term| term.phone.as_ref())
                .map(|phone| phone.as_str().to_owned()),
            search_digits: self.search.as_ref().and_then(|term| term.digits.clone()),
        }
    }

    /// The filter as the audit keeps it: the search term itself is never stored, as it is
    /// usually a name, a number or an address.
    pub fn audited(&self) -> serde_json::Value {
        let mut filter = serde_json::Map::new();
        let mut put = |name: &str, value: serde_json::Value| {
            filter.insert(name.to_owned(), value);
        };
        if !self.statuses.is_empty() {
            put(
                "status",
                json!(self.statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
            );
        }
        if self.include_spam {
            put("include_spam", json!(true));
        }
        if let Some(priority) = self.priority {
            put("priority", json!(priority.as_str()));
        }
        if let Some(interest) = &self.interest {
            put("interest", json!(interest));
        }
        if let Some(after) = self.created_after {
            put("created_after", json!(after));
        }
        if let Some(before) = self.created_before {
            put("created_before", json!(before));
        }
        if let Some(overdue) = self.overdue {
            put("overdue", json!(overdue));
        }
        if let Some(assignee) = &self.assignee {
            put("assignee", json!(assignee));
        }
        if let Some(source) = &self.source {
            put("source", json!(source));
        }
        if self.search.is_some() {
            put("q", json!("[redacted]"));
        }
        serde_json::Value::Object(filter)
    }
}

/// An `ILIKE` pattern matching exactly `value`, ignoring case.
fn exact_pattern(value: &str) -> String {
    value
        .chars()
        .flat_map(|c| {
            let escape = matches!(c, '%' | '_' | '\\').then_some('\\');
            escape.into_iter().chain([c])
        })
        .collect()
}

pub struct Page {
    pub items: Vec<LeadRow>,
    pub next: Option<Position>,
}

/// A page of the queue, newest first; audited as a `lead.list` naming the leads shown.
pub fn list(
    conn: &mut PgConnection,
    query: &LeadQuery,
    after: Option<Position>,
    limit: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Page, Error> {
    let filter = query.filter();
    conn.transaction(|conn| {
        let mut items = queries::list(conn, &filter, after, None, limit + 1, now)?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = items.len() > limit;
        items.truncate(limit);
        let next = more
            .then(|| items.last().map(|row| (row.created_at, row.id)))
            .flatten();
        let ids: Vec<Uuid> = items.iter().map(|row| row.id).collect();
        audit::record(
            conn,
            actor,
            Action::List,
            Subject::Leads {
                filter: query.audited(),
                ids: &ids,
            },
            ids.len(),
            now,
        )?;
        Ok(Page { items, next })
    })
}

/// A lead with everything it holds.
pub struct LeadDetail {
    pub lead: LeadRow,
    pub submissions: Vec<SubmissionRow>,
    pub consents: Vec<ConsentRow>,
    pub activity: Vec<ActivityRow>,
    /// Submissions for the number whose name or email differs from the lead's.
    pub other_contacts: Vec<OtherContact>,
}

/// A name and email someone sent with this lead's number that are not the lead's own: a
/// repeat never changes the lead's details, since anyone can type a number, so staff judge.
pub struct OtherContact {
    pub submission_id: Uuid,
    pub received_at: DateTime<Utc>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Differences of case do not count; a submission without an email differs only by name.
fn other_contacts(lead: &LeadRow, submissions: &[SubmissionRow]) -> Vec<OtherContact> {
    let differs = |theirs: Option<&str>, ours: Option<&str>| match (theirs, ours) {
        (None, _) => false,
        (Some(theirs), Some(ours)) => !theirs.eq_ignore_ascii_case(ours),
        (Some(_), None) => true,
    };
    submissions
        .iter()
        .filter(|row| {
            differs(row.name.as_deref(), lead.name.as_deref())
                || differs(row.email.as_deref(), lead.email.as_deref())
        })
        .map(|row| OtherContact {
            submission_id: row.id,
            received_at: row.received_at,
            name: row.name.clone(),
            email: row.email.clone(),
        })
        .collect()
}

/// One lead with its submissions, consent evidence and activity; audited as a `lead.read`.
/// An erased lead is `Gone`.
pub fn get(
    conn: &mut PgConnection,
    id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<LeadDetail, Error> {
    conn.transaction(|conn| {
        let lead = queries::find(conn, id)?.ok_or(Error::NotFound)?;
        refuse_erased(&lead)?;
        let submissions = queries::submissions(conn, id)?;
        let detail = LeadDetail {
            other_contacts: other_contacts(&lead, &submissions),
            submissions,
            consents: queries::consents(conn, id)?,
            activity: queries::activity(conn, id)?,
            lead,
        };
        audit::record(conn, actor, Action::Read, Subject::Lead(id), 1, now)?;
        Ok(detail)
    })
}

pub fn refuse_erased(lead: &LeadRow) -> Result<(), Error> {
    match lead.erased_at {
        Some(at) => Err(Error::Gone(format!(
            "This lead was erased on {}; only an anonymous tombstone is kept.",
            at.format("%Y-%m-%d")
        ))),
        None => Ok(()),
    }
}

/// The lead's version tag, for `ETag` and `If-Match`.
pub fn version_tag(lead: &LeadRow) -> String {
    format!("v{}", lead.version)
}

/// 412 when `If-Match` names another version than the lead's.
pub fn check_version(lead: &LeadRow, precondition: Option<&Precondition>) -> Result<(), Error> {
    let current = version_tag(lead);
    match precondition {
        Some(precondition) if !precondition.holds(&current) => {
            Err(Error::PreconditionFailed(format!(
                "The lead is now at ETag \"{current}\"; fetch it again and reapply your change."
            )))
        }
        _ => Ok(()),
    }
}

/// Applies a staff change along the pipeline and records each part of it as activity.
/// Nothing personal is returned, so a `leads:write` key learns no more than it writes.
pub fn update(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    id: Uuid,
    patch: Patch,
    precondition: Option<&Precondition>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<LeadRow, Error> {
    conn.transaction(|conn| {
        let lead = queries::find_for_update(conn, id)?.ok_or(Error::NotFound)?;
        refuse_erased(&lead)?;
        check_version(&lead, precondition)?;
        let status = LeadStatus::parse(&lead.status)
            .ok_or_else(|| Error::internal("a lead has an unknown status"))?;
        let suppressed = match patch.status {
            Some(to) if to != status => {
                opt_out::is_suppressed(conn, settings, lead.phone_e164.as_deref())?
            }
            _ => false,
        };
        let current = Current {
            status,
            assignee: lead.assignee.as_deref(),
            contact_by: lead.contact_by,
            contacted_before: lead.first_contacted_at.is_some(),
            suppressed,
        };
        let plan = lead_change::plan(current, patch, now).map_err(|error| match error {
            PlanError::Empty => Error::invalid("", error),
            PlanError::Transition(_) | PlanError::OptedOut => Error::Conflict(error.to_string()),
        })?;
        if plan.events.is_empty() {
            return Ok(lead);
        }
        let updated = queries::update(
            conn,
            id,
            &queries::LeadChanges {
                status: plan.status.map(LeadStatus::as_str),
                assignee: plan.assignee.as_ref().map(|a| a.as_deref()),
                first_contacted_at: plan.first_contact_on_time.map(|_| now),
                contacted_on_time: plan.first_contact_on_time,
                ..queries::LeadChanges::at(now)
            },
        )?;
        for event in &plan.events {
            record_event(conn, id, event, actor, now)?;
        }
        tracing::info!(lead_id = %id, version = updated.version, changes = plan.events.len(), "lead updated");
        Ok(updated)
    })
}

fn record_event(
    conn: &mut PgConnection,
    lead_id: Uuid,
    event: &Event,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut entry = queries::NewActivity {
        id: Uuid::now_v7(),
        lead_id,
        at: now,
        actor: &actor.name,
        actor_key_id: actor.key_id,
        action: "",
        from_status: None,
        to_status: None,
        assignee: None,
        note: None,
    };
    match event {
        Event::StatusChanged { from, to } => {
            entry.action = "status_changed";
            entry.from_status = Some(from.as_str());
            entry.to_status = Some(to.as_str());
        }
        Event::Assigned(name) => {
            entry.action = "assigned";
            entry.assignee = Some(name);
        }
        Event::Unassigned => entry.action = "unassigned",
        Event::NoteAdded(note) => {
            entry.action = "note_added";
            entry.note = Some(note);
        }
    }
    queries::insert_activity(conn, &entry)?;
    Ok(())
}

/// Where an export stands between pages.
#[derive(Clone)]
pub struct ExportCursor {
    filter: LeadFilter,
    /// Leads created later are left out, so the export is the set that was counted.
    until: DateTime<Utc>,
    after: Option<Position>,
    now: DateTime<Utc>,
}

pub struct ExportPage {
    pub rows: Vec<LeadRow>,
    /// `None` after the last page.
    pub next: Option<ExportCursor>,
}

/// Starts an export: audits it with the number of leads it holds (counted now, in the same
/// transaction), and returns the first page.
pub fn begin_export(
    conn: &mut PgConnection,
    query: &LeadQuery,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(i64, ExportPage), Error> {
    let cursor = ExportCursor {
        filter: query.filter(),
        until: now,
        after: None,
        now,
    };
    conn.transaction(|conn| {
        let total = queries::count(conn, &cursor.filter, now, now)?;
        audit::record(
            conn,
            actor,
            Action::Export,
            Subject::Filter(query.audited()),
            usize::try_from(total).unwrap_or(0),
            now,
        )?;
        Ok((total, export_page(conn, cursor)?))
    })
}

/// The next page of an export.
pub fn export_page(conn: &mut PgConnection, cursor: ExportCursor) -> Result<ExportPage, Error> {
    let rows = queries::list(
        conn,
        &cursor.filter,
        cursor.after,
        Some(cursor.until),
        EXPORT_PAGE,
        cursor.now,
    )?;
    let full = rows.len() == usize::try_from(EXPORT_PAGE).unwrap_or(0);
    let next = rows.last().filter(|_| full).map(|last| ExportCursor {
        after: Some((last.created_at, last.id)),
        ..cursor
    });
    Ok(ExportPage { rows, next })
}

/// The numbers a clinic manager asks for.
pub struct Stats {
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub totals: queries::Totals,
    /// Every status, zeros included, spam too.
    pub by_status: Vec<(LeadStatus, i64)>,
    pub by_interest: Vec<(String, i64)>,
    pub by_source: Vec<(Option<String>, i64)>,
    pub by_day: Vec<(NaiveDate, i64)>,
}

/// Statistics of the leads created on the clinic-local days `first_day..=last_day`, read in
/// one snapshot so the numbers agree with each other.
pub fn stats(
    conn: &mut PgConnection,
    settings: &LeadSettings,
    first_day: Option<NaiveDate>,
    last_day: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Stats, Error> {
    let zone = settings.calendar.time_zone();
    let (from, to) = day_range(first_day, last_day, zone);
    let range = StatsRange { from, to };
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| {
            let statuses = queries::count_by_status(conn, &range)?;
            let by_status = LeadStatus::ALL
                .into_iter()
                .map(|status| {
                    let count = statuses
                        .iter()
                        .find(|row| row.key.as_deref() == Some(status.as_str()))
                        .map_or(0, |row| row.count);
                    (status, count)
                })
                .collect();
            Ok(Stats {
                first_day,
                last_day,
                totals: queries::totals(conn, &range, now)?,
                by_status,
                by_interest: queries::count_by_interest(conn, &range)?
                    .into_iter()
                    .map(|row| (row.key.unwrap_or_default(), row.count))
                    .collect(),
                by_source: queries::count_by_source(conn, &range)?
                    .into_iter()
                    .map(|row| (row.key, row.count))
                    .collect(),
                by_day: queries::count_by_day(conn, &range, zone.name())?
                    .into_iter()
                    .map(|row| (row.day, row.count))
                    .collect(),
            })
        })
}
