//! The statements of lead intake and of the public lists stay prepared on their connection, so
//! PostgreSQL parses and plans each once per connection (`beacon::db::prepared`). Nothing else
//! would notice if they did not: intake stays correct, only several times slower in PostgreSQL.

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::json;
use uuid::Uuid;

use beacon::db::articles::{ListFilter, Newest};
use beacon::db::events::NewEventRow;
use beacon::db::idempotency::NewKey;
use beacon::db::leads::{LeadMerge, NewConsentRow, NewLeadRow, NewSubmissionRow};
use beacon::db::{articles, events, idempotency, leads, tags};
use beacon::domain::event::EventType;
use beacon::domain::lead::{ConsentKind, Priority, SpamReason};
use beacon::domain::pipeline::LeadStatus;

use crate::helpers::TestDatabase;

#[derive(QueryableByName)]
struct PreparedStatement {
    #[diesel(sql_type = Text)]
    statement: String,
}

/// Each of `needles` is in exactly one of the connection's prepared statements.
fn assert_prepared_once(conn: &mut PgConnection, needles: &[&str]) {
    let statements: Vec<String> = diesel::sql_query("SELECT statement FROM pg_prepared_statements")
        .load::<PreparedStatement>(conn)
        .unwrap()
        .into_iter()
        .map(|row| row.statement)
        .collect();
    for needle in needles {
        let found = statements.iter().filter(|s| s.contains(needle)).count();
        assert_eq!(
            found, 1,
            "{needle}: prepared {found} times in {statements:#?}"
        );
    }
}

/// One intake's statements, with every optional value set or left out as `full` says, so the
/// two passes would write different SQL if a missing value became `DEFAULT`.
fn intake(conn: &mut PgConnection, full: bool) {
    let now = Utc::now();
    let phone = format!("+1415555{:04}", u16::from(full));
    let interests = vec!["ptsd".to_owned()];
    let some = |value: &'static str| full.then_some(value);
    let lead_id = Uuid::now_v7();
    let submission_id = Uuid::now_v7();
    let request = [u8::from(full); 32];
    let key = format!("key-{full}");

    idempotency::claim(conn, 42, "leads", &key, &request, now).unwrap();
    leads::lock_number(conn, &phone, full.then_some(now), &[1; 32]).unwrap();
    leads::insert(
        conn,
        &NewLeadRow {
            id: lead_id,
            status: LeadStatus::New,
            priority: Priority::Normal,
            contact_by: now,
            marketing_consent: full.then_some(true),
            first_received_at: now,
            last_received_at: now,
            name: "Jane Doe",
            phone: &phone,
            phone_e164: &phone,
            email: some("jane@example.com"),
            interests: &interests,
            lead_source_id: None,
            is_test: false,
        },
    )
    .unwrap();
    leads::insert_submission(
        conn,
        &NewSubmissionRow {
            id: submission_id,
            lead_id,
            received_at: now,
            duplicate: false,
            spam_reason: full.then_some(SpamReason::TooFast),
            utm_source: some("ads"),
            utm_medium: some("cpc"),
            utm_campaign: some("spring"),
            utm_term: some("ketamine"),
            utm_content: some("a"),
            gclid: some("gclid"),
            fbclid: some("fbclid"),
            referrer: some("https://example.com/"),
            landing_page: some("https://clinic.example/"),
            article_slug: some("ketamine-and-ptsd"),
            name: "Jane Doe",
            phone: &phone,
            phone_e164: &phone,
            email: some("jane@example.com"),
            interests: &interests,
            message: some("Please call"),
            preferred_contact_time: some("mornings"),
            lead_source_id: None,
            external_id: None,
            custom_answers: None,
            external_context: None,
            is_test: false,
        },
    )
    .unwrap();
    leads::insert_consent(
        conn,
        &NewConsentRow {
            id: Uuid::now_v7(),
            lead_id,
            submission_id,
            kind: ConsentKind::Form,
            agreed: true,
            wording: "I agree",
            wording_sha256: &[2; 32],
            form_version: some("v1"),
            recorded_at: now,
            ip: some("203.0.113.9"),
            user_agent: some("Mozilla/5.0"),
            page_url: some("https://clinic.example/"),
        },
    )
    .unwrap();
    leads::merge(
        conn,
        lead_id,
        &LeadMerge {
            priority: Priority::Urgent,
            contact_by: now,
            received_at: now,
            interests: &interests,
        },
    )
    .unwrap();
    events::insert_and_fan_out(
        conn,
        &NewEventRow {
            id: Uuid::now_v7(),
            kind: EventType::LeadCreated,
            occurred_at: now,
            subject_id: lead_id,
            payload: json!({"id": lead_id}),
            personal: full.then(|| json!({"name": "Jane Doe"})),
            dedupe_key: None,
        },
        full,
    )
    .unwrap();
    idempotency::store(
        conn,
        &NewKey {
            scope: "leads",
            key: &key,
            request_sha256: &request,
            response_status: 201,
            response_body: &json!({"id": submission_id}),
            created_at: now,
            expires_at: now + TimeDelta::days(1),
        },
    )
    .unwrap();
}

#[test]
fn every_statement_of_an_intake_is_prepared_once_and_reused_whatever_values_it_carries() {
    let database = TestDatabase::create();
    let mut conn = database.connection();
    conn.transaction(|conn| {
        intake(conn, true);
        intake(conn, false);
        intake(conn, true);
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();

    assert_prepared_once(
        &mut conn,
        &[
            "beacon_claim_idempotency_key",
            "beacon_lock_number",
            "INSERT INTO \"leads\"",
            "INSERT INTO \"lead_submissions\"",
            "INSERT INTO \"consent_records\"",
            "UPDATE \"leads\"",
            "INSERT INTO events",
            "INSERT INTO \"idempotency_keys\"",
        ],
    );
}

#[test]
fn the_public_list_and_the_tag_counts_are_prepared_once_and_reused() {
    let database = TestDatabase::create();
    let mut conn = database.connection();
    for _ in 0..3 {
        let now = Utc::now();
        articles::list_newest(
            &mut conn,
            &ListFilter::default(),
            Newest::Published,
            None,
            21,
            now,
        )
        .unwrap();
        tags::list_with_counts(&mut conn, false, now).unwrap();
    }

    assert_prepared_once(
        &mut conn,
        &["FROM \"articles\"", "count(a.id) AS article_count"],
    );
}
