//! Queries on `leads`, `lead_submissions` and `consent_records`. Rows here hold personal and
//! health data: none of these types derive `Debug`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::prepared::KeepPrepared;
use super::schema::{consent_records, lead_submissions, leads};
use crate::domain::lead::{ConsentKind, Priority, SpamReason};
use crate::domain::pipeline::LeadStatus;

/// Held until the transaction ends by whatever decides what becomes of a number's leads
/// (intake, opt-out, reinstatement), so two of them never interleave.
pub fn lock_phone(conn: &mut PgConnection, phone_e164: &str) -> QueryResult<()> {
    super::lock_for_transaction(conn, super::lock_key("lead_phone", phone_e164))
}

/// The parts of a lead intake needs to merge a repeat enquiry into it.
pub struct LeadForMerge {
    pub id: Uuid,
    /// Null only on an erased lead's tombstone, which never matches a number.
    pub priority: Option<Priority>,
    pub contact_by: DateTime<Utc>,
    pub interests: Option<Vec<Option<String>>>,
}

#[derive(Insertable)]
#[diesel(table_name = leads, treat_none_as_default_value = false)]
pub struct NewLeadRow<'a> {
    pub id: Uuid,
    pub status: LeadStatus,
    pub priority: Priority,
    pub contact_by: DateTime<Utc>,
    pub marketing_consent: Option<bool>,
    pub first_received_at: DateTime<Utc>,
    pub last_received_at: DateTime<Utc>,
    pub name: &'a str,
    pub phone: &'a str,
    pub phone_e164: &'a str,
    pub email: Option<&'a str>,
    pub interests: &'a [String],
    pub lead_source_id: Option<Uuid>,
    pub is_test: bool,
}

/// A lead's new values after a repeat enquiry: never its contact details or consent.
pub struct LeadMerge<'a> {
    pub priority: Priority,
    pub contact_by: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub interests: &'a [String],
}

#[derive(Insertable)]
#[diesel(table_name = lead_submissions, treat_none_as_default_value = false)]
pub struct NewSubmissionRow<'a> {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub received_at: DateTime<Utc>,
    pub duplicate: bool,
    pub spam_reason: Option<SpamReason>,
    pub utm_source: Option<&'a str>,
    pub utm_medium: Option<&'a str>,
    pub utm_campaign: Option<&'a str>,
    pub utm_term: Option<&'a str>,
    pub utm_content: Option<&'a str>,
    pub gclid: Option<&'a str>,
    pub fbclid: Option<&'a str>,
    pub referrer: Option<&'a str>,
    pub landing_page: Option<&'a str>,
    pub article_slug: Option<&'a str>,
    pub name: &'a str,
    pub phone: &'a str,
    pub phone_e164: &'a str,
    pub email: Option<&'a str>,
    pub interests: &'a [String],
    pub message: Option<&'a str>,
    pub preferred_contact_time: Option<&'a str>,
    pub lead_source_id: Option<Uuid>,
    pub external_id: Option<&'a str>,
    pub custom_answers: Option<&'a serde_json::Value>,
    pub external_context: Option<&'a serde_json::Value>,
    pub is_test: bool,
}

#[derive(Insertable)]
#[diesel(table_name = consent_records, treat_none_as_default_value = false)]
pub struct NewConsentRow<'a> {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub submission_id: Uuid,
    pub kind: ConsentKind,
    pub agreed: bool,
    pub wording: &'a str,
    pub wording_sha256: &'a [u8],
    pub form_version: Option<&'a str>,
    pub recorded_at: DateTime<Utc>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub page_url: Option<&'a str>,
}

/// What intake learns about a number once it holds the number's lock.
pub struct LockedNumber {
    /// The most recent real (not quarantined) lead of the number enquiring since `since`.
    pub existing: Option<LeadForMerge>,
    /// When the number opted out, while its opt-out stands.
    pub opted_out_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct LockedNumberRow {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    lead_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    priority: Option<Priority>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    contact_by: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Array<Nullable<Text>>>)]
    interests: Option<Vec<Option<String>>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    opted_out_at: Option<DateTime<Utc>>,
}

/// Takes the number's lock (as [`lock_phone`]) and, holding it, reads its recent lead (none
/// when `since` is `None`: dedupe is off) and its opt-out, by the number's suppression tag: one
/// round trip (the `beacon_lock_number` function, whose reads see whatever the lock's previous
/// holder committed).
pub fn lock_number(
    conn: &mut PgConnection,
    phone_e164: &str,
    since: Option<DateTime<Utc>>,
    suppression_tag: &[u8],
) -> QueryResult<LockedNumber> {
    let row: LockedNumberRow =
        diesel::sql_query("SELECT * FROM beacon_lock_number($1, $2, $3, $4)")
            .bind::<BigInt, _>(super::lock_key("lead_phone", phone_e164))
            .bind::<Text, _>(phone_e164)
            .bind::<Nullable<Timestamptz>, _>(since)
            .bind::<Bytea, _>(suppression_tag)
            .keep_prepared()
            .get_result(conn)?;
    let existing = row
        .lead_id
        .zip(row.contact_by)
        .map(|(id, contact_by)| LeadForMerge {
            id,
            priority: row.priority,
            contact_by,
            interests: row.interests,
        });
    Ok(LockedNumber {
        existing,
        opted_out_at: row.opted_out_at,
    })
}

pub fn insert(conn: &mut PgConnection, lead: &NewLeadRow<'_>) -> QueryResult<()> {
    diesel::insert_into(leads::table)
        .values(lead)
        .execute(conn)
        .map(drop)
}

pub fn merge(conn: &mut PgConnection, id: Uuid, merge: &LeadMerge<'_>) -> QueryResult<()> {
    diesel::update(leads::table.find(id))
        .set((
            leads::priority.eq(merge.priority),
            leads::contact_by.eq(merge.contact_by),
            leads::submission_count.eq(leads::submission_count + 1),
            leads::last_received_at.eq(merge.received_at),
            leads::interests.eq(merge.interests),
        ))
        .returning(leads::id)
        .keep_prepared()
        .load::<Uuid>(conn)
        .map(drop)
}

pub fn insert_submission(
    conn: &mut PgConnection,
    submission: &NewSubmissionRow<'_>,
) -> QueryResult<()> {
    diesel::insert_into(lead_submissions::table)
        .values(submission)
        .execute(conn)
        .map(drop)
}

pub fn insert_consent(conn: &mut PgConnection, consent: &NewConsentRow<'_>) -> QueryResult<()> {
    diesel::insert_into(consent_records::table)
        .values(consent)
        .execute(conn)
        .map(drop)
}

/// The submission an ad platform's lead `external_id` was recorded as for this source.
pub fn find_external(
    conn: &mut PgConnection,
    lead_source_id: Uuid,
    external_id: &str,
) -> QueryResult<Option<Uuid>> {
    lead_submissions::table
        .filter(lead_submissions::lead_source_id.eq(lead_source_id))
        .filter(lead_submissions::external_id.eq(external_id))
        .select(lead_submissions::id)
        .first(conn)
        .optional()
}
