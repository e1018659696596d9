//! Queries of lead management: the filtered, keyset-paged queue, one lead with its history,
//! staff changes, statistics, and the statements erasure is made of. Rows here hold personal
//! and health data: none of these types derive `Debug`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Bytea, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::enums::literal;
use super::schema::{consent_records, idempotency_keys, lead_activity, lead_submissions, leads};
use crate::domain::lead::{ConsentKind, Priority, SpamReason};
use crate::domain::lead_change::ActivityAction;
use crate::domain::pipeline::LeadStatus;

/// A lead as staff see it, or its tombstone once erased.
#[derive(Queryable, Selectable)]
#[diesel(table_name = leads, check_for_backend(Pg))]
pub struct LeadRow {
    pub id: Uuid,
    pub status: LeadStatus,
    /// Null only on an erased lead's tombstone.
    pub priority: Option<Priority>,
    pub contact_by: DateTime<Utc>,
    pub marketing_consent: Option<bool>,
    pub submission_count: i32,
    pub first_received_at: DateTime<Utc>,
    pub last_received_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub phone_e164: Option<String>,
    pub email: Option<String>,
    pub interests: Option<Vec<Option<String>>>,
    pub assignee: Option<String>,
    pub version: i32,
    pub source: Option<String>,
    pub first_contacted_at: Option<DateTime<Utc>>,
    pub contacted_on_time: Option<bool>,
    pub interest_count: Option<i32>,
    pub erased_at: Option<DateTime<Utc>>,
    pub erased_by: Option<String>,
    /// When the number last opted out, while that opt-out stands.
    pub opted_out_at: Option<DateTime<Utc>>,
    /// The source of the enquiry that created the lead; null for the site's own form.
    pub lead_source_id: Option<Uuid>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = lead_submissions, check_for_backend(Pg))]
pub struct SubmissionRow {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub duplicate: bool,
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
    pub phone_e164: Option<String>,
    pub email: Option<String>,
    pub interests: Option<Vec<Option<String>>>,
    pub message: Option<String>,
    pub preferred_contact_time: Option<String>,
    pub external_id: Option<String>,
    pub custom_answers: Option<serde_json::Value>,
    pub external_context: Option<serde_json::Value>,
    pub is_test: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = consent_records, check_for_backend(Pg))]
pub struct ConsentRow {
    pub id: Uuid,
    pub submission_id: Option<Uuid>,
    pub kind: ConsentKind,
    pub agreed: bool,
    pub wording: String,
    pub wording_sha256: Vec<u8>,
    pub form_version: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub page_url: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = lead_activity, check_for_backend(Pg))]
pub struct ActivityRow {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: ActivityAction,
    pub from_status: Option<LeadStatus>,
    pub to_status: Option<LeadStatus>,
    pub assignee: Option<String>,
    pub note: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = lead_activity)]
pub struct NewActivity<'a> {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    pub actor_key_id: Option<Uuid>,
    pub action: ActivityAction,
    pub from_status: Option<LeadStatus>,
    pub to_status: Option<LeadStatus>,
    pub assignee: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Consent evidence without a submission: an opt-out, or staff reinstating a number.
#[derive(Insertable)]
#[diesel(table_name = consent_records)]
pub struct NewConsentRecord<'a> {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub kind: ConsentKind,
    pub agreed: bool,
    pub wording: &'a str,
    pub wording_sha256: &'a [u8],
    pub recorded_at: DateTime<Utc>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub page_url: Option<&'a str>,
}

/// A staff change; `None` leaves a column as it is. `updated_at` is always set, so the row
/// (and its version) changes whenever anything does.
#[derive(AsChangeset)]
#[diesel(table_name = leads)]
pub struct LeadChanges<'a> {
    pub status: Option<LeadStatus>,
    pub assignee: Option<Option<&'a str>>,
    pub first_contacted_at: Option<DateTime<Utc>>,
    pub contacted_on_time: Option<bool>,
    pub marketing_consent: Option<bool>,
    /// `Some(None)` clears the opt-out flag.
    pub opted_out_at: Option<Option<DateTime<Utc>>>,
    pub updated_at: DateTime<Utc>,
}

impl LeadChanges<'_> {
    /// Changes nothing but `updated_at`; set the fields to change.
    pub fn at(now: DateTime<Utc>) -> Self {
        LeadChanges {
            status: None,
            assignee: None,
            first_contacted_at: None,
            contacted_on_time: None,
            marketing_consent: None,
            opted_out_at: None,
            updated_at: now,
        }
    }
}

/// Filters of the lead list and export; everything optional. Erased leads are never listed.
#[derive(Clone, Default)]
pub struct LeadFilter {
    /// Any of these; when empty, every status but spam (unless `include_spam`).
    pub statuses: Vec<LeadStatus>,
    pub include_spam: bool,
    pub priority: Option<Priority>,
    pub interest: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// `true`: still `new` with `contact_by` passed; `false`: anything else.
    pub overdue: Option<bool>,
    /// Case-insensitive exact match, as an `ILIKE` pattern without wildcards.
    pub assignee_pattern: Option<String>,
    /// Case-insensitive exact match, as an `ILIKE` pattern without wildcards.
    pub source_pattern: Option<String>,
    /// Leads whose first enquiry came from this lead source.
    pub lead_source_id: Option<Uuid>,
    /// Substring of the name or email, as an `ILIKE` pattern.
    pub search_pattern: Option<String>,
    /// An E.164 number the search term reads as.
    pub search_phone: Option<String>,
    /// A `LIKE` pattern of digits the E.164 number must hold (part of a number).
    pub search_digits: Option<String>,
}

/// Where a page of the newest-first list ended.
pub type Position = (DateTime<Utc>, Uuid);

fn matching(filter: &LeadFilter, now: DateTime<Utc>) -> leads::BoxedQuery<'static, Pg> {
    let mut query = leads::table.filter(leads::erased_at.is_null()).into_boxed();
    if filter.statuses.is_empty() {
        if !filter.include_spam {
            query = query.filter(leads::status.ne(LeadStatus::Spam));
        }
    } else {
        query = query.filter(leads::status.eq_any(filter.statuses.clone()));
    }
    if let Some(priority) = filter.priority {
        query = query.filter(leads::priority.eq(priority));
    }
    if let Some(code) = &filter.interest {
        query = query.filter(
            sql::<Bool>("leads.interests @> ARRAY[")
                .bind::<Text, _>(code.clone())
                .sql("]"),
        );
    }
    if let Some(after) = filter.created_after {
        query = query.filter(leads::created_at.ge(after));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(leads::created_at.lt(before));
    }
    let overdue = leads::status
        .eq(LeadStatus::New)
        .and(leads::contact_by.lt(now));
    match filter.overdue {
        Some(true) => query = query.filter(overdue),
        Some(false) => query = query.filter(diesel::dsl::not(overdue)),
        None => {}
    }
    if let Some(pattern) = &filter.assignee_pattern {
        query = query.filter(leads::assignee.ilike(pattern.clone()));
    }
    if let Some(pattern) = &filter.source_pattern {
        query = query.filter(leads::source.ilike(pattern.clone()));
    }
    if let Some(id) = filter.lead_source_id {
        query = query.filter(leads::lead_source_id.eq(id));
    }
    if let Some(pattern) = &filter.search_pattern {
        let by_text = leads::name
            .ilike(pattern.clone())
            .or(leads::email.ilike(pattern.clone()));
        // Absent parts compare with NULL, which matches nothing.
        let by_number = leads::phone_e164
            .eq(filter.search_phone.clone())
            .or(leads::phone_e164.like(filter.search_digits.clone()));
        query = query.filter(by_text.or(by_number));
    }
    query
}

/// Newest first: up to `limit` leads after `after`, created no later than `until`.
pub fn list(
    conn: &mut PgConnection,
    filter: &LeadFilter,
    after: Option<Position>,
    until: Option<DateTime<Utc>>,
    limit: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<LeadRow>> {
    let mut query = matching(filter, now);
    if let Some((at, id)) = after {
        // A row comparison the (created_at DESC, id DESC) index answers directly.
        query = query.filter(
            sql::<Bool>("(leads.created_at, leads.id) < (")
                .bind::<Timestamptz, _>(at)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        );
    }
    if let Some(until) = until {
        query = query.filter(leads::created_at.le(until));
    }
    query
        .order((leads::created_at.desc(), leads::id.desc()))
        .limit(limit)
        .select(LeadRow::as_select())
        .load(conn)
}

/// How many leads match, created no later than `until`.
pub fn count(
    conn: &mut PgConnection,
    filter: &LeadFilter,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    matching(filter, now)
        .filter(leads::created_at.le(until))
        .count()
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<LeadRow>> {
    leads::table
        .find(id)
        .select(LeadRow::as_select())
        .first(conn)
        .optional()
}

/// Locks the lead until the transaction ends, so changes queue up and version checks hold.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<LeadRow>> {
    leads::table
        .find(id)
        .select(LeadRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Live leads of a number, locked.
pub fn for_number(conn: &mut PgConnection, e164: &str) -> QueryResult<Vec<LeadRow>> {
    leads::table
        .filter(leads::phone_e164.eq(e164))
        .filter(leads::erased_at.is_null())
        .order(leads::created_at)
        .select(LeadRow::as_select())
        .for_update()
        .load(conn)
}

/// Clears the opt-out flag of the number's live leads but `except`.
pub fn forget_opt_out(
    conn: &mut PgConnection,
    e164: &str,
    except: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        leads::table
            .filter(leads::phone_e164.eq(e164))
            .filter(leads::erased_at.is_null())
            .filter(leads::opted_out_at.is_not_null())
            .filter(leads::id.ne(except)),
    )
    .set((
        leads::opted_out_at.eq(None::<DateTime<Utc>>),
        leads::updated_at.eq(now),
    ))
    .execute(conn)
    .map(drop)
}

/// Up to `limit` live leads whose latest enquiry came before `cutoff`, locked; leads another
/// transaction holds (another replica purging) are skipped.
pub fn expired_for_update(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<LeadRow>> {
    leads::table
        .filter(leads::erased_at.is_null())
        .filter(leads::last_received_at.lt(cutoff))
        .order(leads::last_received_at)
        .limit(limit)
        .select(LeadRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
}

pub fn submissions(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Vec<SubmissionRow>> {
    lead_submissions::table
        .filter(lead_submissions::lead_id.eq(lead_id))
        .order((lead_submissions::received_at, lead_submissions::id))
        .select(SubmissionRow::as_select())
        .load(conn)
}

pub fn consents(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Vec<ConsentRow>> {
    consent_records::table
        .filter(consent_records::lead_id.eq(lead_id))
        .order((consent_records::recorded_at, consent_records::id))
        .select(ConsentRow::as_select())
        .load(conn)
}

pub fn activity(conn: &mut PgConnection, lead_id: Uuid) -> QueryResult<Vec<ActivityRow>> {
    lead_activity::table
        .filter(lead_activity::lead_id.eq(lead_id))
        .order((lead_activity::at, lead_activity::id))
        .select(ActivityRow::as_select())
        .load(conn)
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &LeadChanges<'_>,
) -> QueryResult<LeadRow> {
    diesel::update(leads::table.find(id))
        .set(changes)
        .returning(LeadRow::as_returning())
        .get_result(conn)
}

pub fn insert_activity(conn: &mut PgConnection, entry: &NewActivity<'_>) -> QueryResult<()> {
    diesel::insert_into(lead_activity::table)
        .values(entry)
        .execute(conn)
        .map(drop)
}

pub fn insert_consent(conn: &mut PgConnection, record: &NewConsentRecord<'_>) -> QueryResult<()> {
    diesel::insert_into(consent_records::table)
        .values(record)
        .execute(conn)
        .map(drop)
}

// ---------------------------------------------------------------------------------------------
// Erasure
// ---------------------------------------------------------------------------------------------

/// Lets this transaction delete consent evidence (see the `consent_records` trigger).
pub fn allow_erasing(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT set_config('beacon.erasing', 'on', true)")
        .execute(conn)
        .map(drop)
}

/// Deletes the lead's consent evidence and submissions, clears the words of its notes and
/// forgets intake's stored answers to its submissions (an answer names its submission).
pub fn erase_history(
    conn: &mut PgConnection,
    lead_id: Uuid,
    idempotency_scope: &str,
) -> QueryResult<()> {
    let submission_ids = lead_submissions::table
        .filter(lead_submissions::lead_id.eq(lead_id))
        .select(lead_submissions::id.cast::<Text>());
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::scope.eq(idempotency_scope))
            .filter(sql::<Text>("idempotency_keys.response_body ->> 'id'").eq_any(submission_ids)),
    )
    .execute(conn)?;
    diesel::delete(consent_records::table.filter(consent_records::lead_id.eq(lead_id)))
        .execute(conn)?;
    diesel::delete(lead_submissions::table.filter(lead_submissions::lead_id.eq(lead_id)))
        .execute(conn)?;
    diesel::update(lead_activity::table.filter(lead_activity::lead_id.eq(lead_id)))
        .set(lead_activity::note.eq(None::<String>))
        .execute(conn)?;
    Ok(())
}

/// Deletes rate-limit windows counting this subject (a hashed number) in `bucket`.
pub fn forget_rate_windows(
    conn: &mut PgConnection,
    bucket: &str,
    subject: &[u8],
) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM rate_limit_windows WHERE bucket = $1 AND subject = $2")
        .bind::<Text, _>(bucket)
        .bind::<Bytea, _>(subject)
        .execute(conn)
        .map(drop)
}

/// Turns the lead into its tombstone: personal columns nulled, priority dropped, every time
/// cut to the start of its clinic-local day, the interest count kept.
pub fn make_tombstone(
    conn: &mut PgConnection,
    lead_id: Uuid,
    time_zone: &str,
    erased_by: &str,
    erased_by_key_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE leads SET \
             interest_count = coalesce(cardinality(interests), 0), \
             name = NULL, phone = NULL, phone_e164 = NULL, email = NULL, interests = NULL, \
             priority = NULL, marketing_consent = NULL, assignee = NULL, \
             first_contacted_at = NULL, opted_out_at = NULL, \
             created_at = date_trunc('day', created_at AT TIME ZONE $2) AT TIME ZONE $2, \
             first_received_at = date_trunc('day', created_at AT TIME ZONE $2) AT TIME ZONE $2, \
             last_received_at = date_trunc('day', created_at AT TIME ZONE $2) AT TIME ZONE $2, \
             contact_by = date_trunc('day', created_at AT TIME ZONE $2) AT TIME ZONE $2, \
             erased_at = $3, erased_by = $4, erased_by_key_id = $5, updated_at = $3 \
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(lead_id)
    .bind::<Text, _>(time_zone)
    .bind::<Timestamptz, _>(now)
    .bind::<Text, _>(erased_by)
    .bind::<Nullable<SqlUuid>, _>(erased_by_key_id)
    .execute(conn)
    .map(drop)
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// How many leads have one status.
#[derive(QueryableByName)]
pub struct StatusCount {
    #[diesel(sql_type = Text)]
    pub status: LeadStatus,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

#[derive(QueryableByName)]
pub struct Count {
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

#[derive(QueryableByName)]
pub struct DayCount {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

#[derive(QueryableByName)]
pub struct Totals {
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    pub erased: i64,
    #[diesel(sql_type = BigInt)]
    pub on_time: i64,
    #[diesel(sql_type = BigInt)]
    pub late: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
    #[diesel(sql_type = BigInt)]
    pub awaiting: i64,
}

/// Leads (tombstones included) created in `[from, to)`; `$1`, `$2` are the bounds.
const IN_RANGE: &str = "($1::timestamptz IS NULL OR created_at >= $1) \
                        AND ($2::timestamptz IS NULL OR created_at < $2)";

pub struct StatsRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Leads per status, spam included.
pub fn count_by_status(
    conn: &mut PgConnection,
    range: &StatsRange,
) -> QueryResult<Vec<StatusCount>> {
    diesel::sql_query(format!(
        "SELECT status, count(*) AS count FROM leads WHERE {IN_RANGE} GROUP BY status"
    ))
    .bind::<Nullable<Timestamptz>, _>(range.from)
    .bind::<Nullable<Timestamptz>, _>(range.to)
    .load(conn)
}

/// Live, non-spam leads per interest (a lead counts once for each of its interests).
/// Tombstones keep no interests.
pub fn count_by_interest(conn: &mut PgConnection, range: &StatsRange) -> QueryResult<Vec<Count>> {
    diesel::sql_query(format!(
        "SELECT code AS key, count(*) AS count FROM leads, unnest(interests) AS code \
         WHERE status <> {spam} AND {IN_RANGE} GROUP BY code ORDER BY count DESC, code",
        spam = literal(LeadStatus::Spam),
    ))
    .bind::<Nullable<Timestamptz>, _>(range.from)
    .bind::<Nullable<Timestamptz>, _>(range.to)
    .load(conn)
}

/// Non-spam leads per first-touch `utm_source` (null: none).
pub fn count_by_source(conn: &mut PgConnection, range: &StatsRange) -> QueryResult<Vec<Count>> {
    diesel::sql_query(format!(
        "SELECT source AS key, count(*) AS count FROM leads \
         WHERE status <> {spam} AND {IN_RANGE} GROUP BY source ORDER BY count DESC, source NULLS LAST",
        spam = literal(LeadStatus::Spam),
    ))
    .bind::<Nullable<Timestamptz>, _>(range.from)
    .bind::<Nullable<Timestamptz>, _>(range.to)
    .load(conn)
}

/// Non-spam leads per clinic-local day of creation.
pub fn count_by_day(
    conn: &mut PgConnection,
    range: &StatsRange,
    time_zone: &str,
) -> QueryResult<Vec<DayCount>> {
    diesel::sql_query(format!(
        "SELECT (created_at AT TIME ZONE $3)::date AS day, count(*) AS count FROM leads \
         WHERE status <> {spam} AND {IN_RANGE} GROUP BY day ORDER BY day",
        spam = literal(LeadStatus::Spam),
    ))
    .bind::<Nullable<Timestamptz>, _>(range.from)
    .bind::<Nullable<Timestamptz>, _>(range.to)
    .bind::<Text, _>(time_zone)
    .get_results(conn)
}

/// Non-spam leads: how many, how many erased, and how soon staff first acted on them against
/// `contact_by`.
pub fn totals(
    conn: &mut PgConnection,
    range: &StatsRange,
    now: DateTime<Utc>,
) -> QueryResult<Totals> {
    diesel::sql_query(format!(
        "SELECT count(*) AS total, count(*) FILTER (WHERE erased_at IS NOT NULL) AS erased, \
             count(*) FILTER (WHERE contacted_on_time) AS on_time, \
             count(*) FILTER (WHERE NOT contacted_on_time) AS late, \
             count(*) FILTER (WHERE contacted_on_time IS NULL AND status = {new} \
                 AND erased_at IS NULL AND contact_by < $3) AS overdue, \
             count(*) FILTER (WHERE contacted_on_time IS NULL AND status = {new} \
                 AND erased_at IS NULL AND contact_by >= $3) AS awaiting \
         FROM leads WHERE status <> {spam} AND {IN_RANGE}",
        new = literal(LeadStatus::New),
        spam = literal(LeadStatus::Spam),
    ))
    .bind::<Nullable<Timestamptz>, _>(range.from)
    .bind::<Nullable<Timestamptz>, _>(range.to)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
}
