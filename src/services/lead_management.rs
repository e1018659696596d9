//! Working the lead queue: list and search, one lead with its history, staff changes along the
//! pipeline, CSV export page by page, and statistics. Every read of personal data writes its
//! audit entry in the same transaction as the read.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde_json::json;
use uuid::Uuid;

use crate::config::LeadSettings;
use crate::db;
use crate::db::lead_admin::{
    self as queries, ActivityRow, ConsentRow, LeadFilter, LeadRow, StatsRange, SubmissionRow,
};
use crate::domain::audit::Action;
use crate::domain::change::Precondition;
use crate::domain::event::LeadChange;
use crate::domain::lead::{ConsentKind, Priority, SpamReason};
use crate::domain::lead_change::{self, ActivityAction, Current, Event, Patch, PlanError};
use crate::domain::lead_query::{SearchTerm, day_range};
use crate::domain::lead_source::SourceKind;
use crate::domain::pipeline::LeadStatus;
use crate::domain::suppression::SuppressionKey;
use crate::error::Error;
use crate::services::audit::{self, Actor, Subject};
use crate::services::events;
use crate::services::lead_preconditions::{self, check_version, refuse_erased};
use crate::services::suppression;

pub const LIMIT_DEFAULT: i64 = 20;
pub const LIMIT_MAX: i64 = 100;
/// Rows fetched per query while exporting: big enough to be quick, small enough that memory
/// stays flat however many leads there are.
pub const EXPORT_PAGE: i64 = 1_000;

/// Where a page of the newest-first list ended: the last lead's `(created_at, id)`.
pub type Position = (DateTime<Utc>, Uuid);

/// A lead as staff see it. Holds personal and health data: no `Debug`.
pub struct LeadView {
    pub id: Uuid,
    pub status: LeadStatus,
    /// Null only on an erased lead's tombstone, which is never shown as a lead.
    pub priority: Option<Priority>,
    /// When the clinic promised to have called by.
    pub contact_by: DateTime<Utc>,
    pub marketing_consent: Option<bool>,
    /// Enquiries merged into this lead.
    pub submission_count: i32,
    pub first_received_at: DateTime<Utc>,
    pub last_received_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub name: Option<String>,
    /// As the person typed it.
    pub phone: Option<String>,
    pub phone_e164: Option<String>,
    pub email: Option<String>,
    /// Interest codes, in the order the person gave them.
    pub interests: Vec<String>,
    pub assignee: Option<String>,
    pub version: i32,
    /// First-touch `utm_source`.
    pub source: Option<String>,
    /// When the number last opted out, while that opt-out stands.
    pub opted_out_at: Option<DateTime<Utc>>,
    pub lead_source_id: Option<Uuid>,
    /// Filled in by the reads that show it (`with_sources`).
    pub lead_source: Option<SourceRef>,
}

/// The lead source a lead came from, as staff see it (a deleted source keeps its name).
pub struct SourceRef {
    pub id: Uuid,
    pub name: String,
    pub kind: SourceKind,
}

/// Names each lead's source, in one query for the lot.
fn with_sources(conn: &mut PgConnection, mut leads: Vec<LeadView>) -> Result<Vec<LeadView>, Error> {
    let mut ids: Vec<Uuid> = leads
        .iter()
        .filter_map(|lead| lead.lead_source_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let names = db::lead_sources::names(conn, &ids)?;
    for lead in &mut leads {
        lead.lead_source = lead.lead_source_id.and_then(|id| {
            names.get(&id).map(|(name, kind)| SourceRef {
                id,
                name: name.clone(),
                kind: *kind,
            })
        });
    }
    Ok(leads)
}

impl LeadView {
    /// The lead's version tag, for `ETag` and `If-Match`.
    pub fn version_tag(&self) -> String {
        lead_preconditions::version_tag(self.version)
    }

    /// Still `new` and `contact_by` has passed.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == LeadStatus::New && self.contact_by < now
    }
}

impl From<LeadRow> for LeadView {
    fn from(row: LeadRow) -> Self {
        LeadView {
            id: row.id,
            status: row.status,
            priority: row.priority,
            contact_by: row.contact_by,
            marketing_consent: row.marketing_consent,
            submission_count: row.submission_count,
            first_received_at: row.first_received_at,
            last_received_at: row.last_received_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            name: row.name,
            phone: row.phone,
            phone_e164: row.phone_e164,
            email: row.email,
            interests: codes(row.interests),
            assignee: row.assignee,
            version: row.version,
            source: row.source,
            opted_out_at: row.opted_out_at,
            lead_source_id: row.lead_source_id,
            lead_source: None,
        }
    }
}

/// A text array column as its codes (its elements are never null).
fn codes(stored: Option<Vec<Option<String>>>) -> Vec<String> {
    stored.into_iter().flatten().flatten().collect()
}

/// One enquiry exactly as it arrived.
pub struct SubmissionView {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    /// Merged into an existing lead.
    pub duplicate: bool,
    /// Why it was quarantined, if it was.
    pub spam_reason: Option<SpamReason>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub gclid: Option<String>,
    pub fbclid: Option<String>,
    pub referrer: Option<String>,
    pub landing_page: Option<String>,
    pub article_slug: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub interests: Vec<String>,
    pub message: Option<String>,
    pub preferred_contact_time: Option<String>,
    /// An ad platform's id of the lead.
    pub external_id: Option<String>,
    /// The platform form's other questions and their answers.
    pub custom_answers: Vec<CustomAnswerView>,
    /// The platform's campaign, ad and form ids.
    pub external_context: Option<serde_json::Value>,
    /// A platform's test lead.
    pub is_test: bool,
}

/// One answer to an ad platform form's question Beacon has no field for.
#[derive(serde::Deserialize)]
pub struct CustomAnswerView {
    pub key: Option<String>,
    pub question: String,
    pub answer: String,
}

impl From<SubmissionRow> for SubmissionView {
    fn from(row: SubmissionRow) -> Self {
        SubmissionView {
            id: row.id,
            received_at: row.received_at,
            duplicate: row.duplicate,
            spam_reason: row.spam_reason,
            utm_source: row.utm_source,
            utm_medium: row.utm_medium,
            utm_campaign: row.utm_campaign,
            utm_term: row.utm_term,
            utm_content: row.utm_content,
            gclid: row.gclid,
            fbclid: row.fbclid,
            referrer: row.referrer,
            landing_page: row.landing_page,
            article_slug: row.article_slug,
            name: row.name,
            phone: row.phone,
            email: row.email,
            interests: codes(row.interests),
            message: row.message,
            preferred_contact_time: row.preferred_contact_time,
            external_id: row.external_id,
            // Written by `services::external_leads` in this shape; anything else shows none.
            custom_answers: row
                .custom_answers
                .and_then(|answers| serde_json::from_value(answers).ok())
                .unwrap_or_default(),
            external_context: row.external_context,
            is_test: row.is_test,
        }
    }
}

/// Consent evidence: what the person was shown and answered, or their opt-out, or staff
/// lifting it.
pub struct ConsentView {
    pub id: Uuid,
    pub kind: ConsentKind,
    /// The enquiry it came with; none for an opt-out or a reinstatement.
    pub submission_id: Option<Uuid>,
    pub agreed: bool,
    pub wording: String,
    pub wording_sha256: Vec<u8>,
    pub form_version: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub page_url: Option<String>,
}

impl From<ConsentRow> for ConsentView {
    fn from(row: ConsentRow) -> Self {
        ConsentView {
            id: row.id,
            kind: row.kind,
            submission_id: row.submission_id,
            agreed: row.agreed,
            wording: row.wording,
            wording_sha256: row.wording_sha256,
            form_version: row.form_version,
            recorded_at: row.recorded_at,
            ip: row.ip,
            user_agent: row.user_agent,
            page_url: row.page_url,
        }
    }
}

/// One entry of a lead's history.
pub struct ActivityView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The API key's name, or who else acted (an opt-out request, a new enquiry, retention).
    pub actor: String,
    pub action: ActivityAction,
    pub from_status: Option<LeadStatus>,
    pub to_status: Option<LeadStatus>,
    pub assignee: Option<String>,
    pub note: Option<String>,
}

impl From<ActivityRow> for ActivityView {
    fn from(row: ActivityRow) -> Self {
        ActivityView {
            id: row.id,
            at: row.at,
            actor: row.actor,
            action: row.action,
            from_status: row.from_status,
            to_status: row.to_status,
            assignee: row.assignee,
            note: row.note,
        }
    }
}

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
    pub lead_source_id: Option<Uuid>,
    pub search: Option<SearchTerm>,
}

impl LeadQuery {
    fn filter(&self) -> LeadFilter {
        LeadFilter {
            statuses: self.statuses.clone(),
            include_spam: self.include_spam,
            priority: self.priority,
            interest: self.interest.clone(),
            created_after: self.created_after,
            created_before: self.created_before,
            overdue: self.overdue,
            assignee_pattern: self.assignee.as_deref().map(exact_pattern),
            source_pattern: self.source.as_deref().map(exact_pattern),
            lead_source_id: self.lead_source_id,
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
        if let Some(id) = self.lead_source_id {
            put("source_id", json!(id));
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
    pub items: Vec<LeadView>,
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
        Ok(Page {
            items: with_sources(conn, items.into_iter().map(LeadView::from).collect())?,
            next,
        })
    })
}

/// A lead with everything it holds.
pub struct LeadDetail {
    pub lead: LeadView,
    /// Oldest first.
    pub submissions: Vec<SubmissionView>,
    /// Oldest first.
    pub consents: Vec<ConsentView>,
    /// Oldest first.
    pub activity: Vec<ActivityView>,
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
fn other_contacts(lead: &LeadView, submissions: &[SubmissionView]) -> Vec<OtherContact> {
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
        let lead = with_sources(conn, vec![LeadView::from(lead)])?
            .pop()
            .ok_or_else(|| Error::internal("a lead went missing while naming its source"))?;
        let submissions: Vec<SubmissionView> = queries::submissions(conn, id)?
            .into_iter()
            .map(SubmissionView::from)
            .collect();
        let detail = LeadDetail {
            other_contacts: other_contacts(&lead, &submissions),
            submissions,
            consents: queries::consents(conn, id)?
                .into_iter()
                .map(ConsentView::from)
                .collect(),
            activity: queries::activity(conn, id)?
                .into_iter()
                .map(ActivityView::from)
                .collect(),
            lead,
        };
        audit::record(conn, actor, Action::Read, Subject::Lead(id), 1, now)?;
        Ok(detail)
    })
}

/// Applies a staff change along the pipeline and records each part of it as activity.
/// Nothing personal is returned, so a `leads:write` key learns no more than it writes.
pub fn update(
    conn: &mut PgConnection,
    suppression_key: &SuppressionKey,
    id: Uuid,
    patch: Patch,
    precondition: Option<&Precondition>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<LeadView, Error> {
    conn.transaction(|conn| {
        let lead = queries::find_for_update(conn, id)?.ok_or(Error::NotFound)?;
        refuse_erased(&lead)?;
        check_version(&lead, precondition)?;
        let status = lead.status;
        let suppressed = match patch.status {
            Some(to) if to != status => {
                suppression::is_suppressed(conn, suppression_key, lead.phone_e164.as_deref())?
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
            return Ok(lead.into());
        }
        let updated = queries::update(
            conn,
            id,
            &queries::LeadChanges {
                status: plan.status,
                assignee: plan.assignee.as_ref().map(|a| a.as_deref()),
                first_contacted_at: plan.first_contact_on_time.map(|_| now),
                contacted_on_time: plan.first_contact_on_time,
                ..queries::LeadChanges::at(now)
            },
        )?;
        for event in &plan.events {
            record_event(conn, id, event, actor, now)?;
        }
        let changes = LeadChange::of_staff(&plan.events);
        events::lead_updated(conn, status, &updated, changes, now)?;
        tracing::info!(lead_id = %id, version = updated.version, changes = plan.events.len(), "lead updated");
        Ok(updated.into())
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
        action: event.action(),
        from_status: None,
        to_status: None,
        assignee: None,
        note: None,
    };
    match event {
        Event::StatusChanged { from, to } => {
            entry.from_status = Some(*from);
            entry.to_status = Some(*to);
        }
        Event::Assigned(name) => entry.assignee = Some(name),
        Event::Unassigned => {}
        Event::NoteAdded(note) => entry.note = Some(note),
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
    pub leads: Vec<LeadView>,
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
    Ok(ExportPage {
        leads: with_sources(conn, rows.into_iter().map(LeadView::from).collect())?,
        next,
    })
}

/// Non-spam leads: how many, how many erased, and how soon staff first acted on them against
/// `contact_by`.
pub struct Totals {
    pub total: i64,
    pub erased: i64,
    /// First moved out of `new` by `contact_by`.
    pub on_time: i64,
    /// First moved out of `new` after `contact_by`.
    pub late: i64,
    /// Still `new`, `contact_by` passed.
    pub overdue: i64,
    /// Still `new`, `contact_by` ahead.
    pub awaiting: i64,
}

/// The numbers a clinic manager asks for.
pub struct Stats {
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub totals: Totals,
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
                        .find(|row| row.status == status)
                        .map_or(0, |row| row.count);
                    (status, count)
                })
                .collect();
            let totals = queries::totals(conn, &range, now)?;
            Ok(Stats {
                first_day,
                last_day,
                totals: Totals {
                    total: totals.total,
                    erased: totals.erased,
                    on_time: totals.on_time,
                    late: totals.late,
                    overdue: totals.overdue,
                    awaiting: totals.awaiting,
                },
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
