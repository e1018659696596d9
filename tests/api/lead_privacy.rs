//! Health data stays guarded: opt-outs that outlive erasure, erasure that leaves nothing of the
//! person anywhere in the database, retention, and logs that never hold personal data.

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use beacon::db::schema::{consent_records, lead_activity, leads, suppressed_numbers};
use beacon::domain::rate_limit::FixedWindow;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{TestApp, problem, spawn_app_with};
use crate::lead_admin::{app, enquire, get, get_json, patch, patched, person, set_times};

async fn opt_out(app: &TestApp, phone: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/leads/opt-out"))
        .header("user-agent", "OptOutBrowser/1.0")
        .json(&json!({"phone": phone}))
        .send()
        .await
        .unwrap()
}

async fn erase(app: &TestApp, key: &str, id: Uuid) -> reqwest::Response {
    app.delete_with(key, &format!("/v1/leads/{id}")).await
}

fn status_of(app: &TestApp, id: Uuid) -> String {
    leads::table
        .find(id)
        .select(leads::status)
        .first(&mut app.connection())
        .unwrap()
}

// --- opt-out ---

#[actix_web::test]
async fn an_opt_out_for_a_known_number_revokes_consent_and_marks_its_leads_do_not_contact() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let mut body = person("Jane Doe", "(415) 555-2671");
    body["consent"] = json!({"agreed": true, "text": "Call me."});
    let id = enquire(&app, body).await;
    patched(&app, &writer, id, json!({"status": "contacted"})).await;

    let response = opt_out(&app, "+1 415-555-2671").await;

    assert_eq!(response.status(), 202);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"status": "recorded", "message": "This number will not be contacted by the clinic."})
    );
    let lead = get_json(&app, &reader, &format!("/v1/leads/{id}")).await;
    assert_eq!(lead["status"], "do_not_contact");
    assert_eq!(lead["marketing_consent"], false);
    let consent = lead["consent"].as_array().unwrap();
    assert_eq!(
        consent.len(),
        2,
        "the first record is kept, the opt-out added"
    );
    assert_eq!(
        (consent[0]["kind"].as_str(), consent[0]["agreed"].as_bool()),
        (Some("form"), Some(true))
    );
    assert_eq!(consent[1]["kind"], "opt_out");
    assert_eq!(consent[1]["agreed"], false);
    assert_eq!(consent[1]["submission_id"], Value::Null);
    assert_eq!(consent[1]["user_agent"], "OptOutBrowser/1.0");
    let last = lead["activity"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "opted_out");
    assert_eq!(last["actor"], "opt-out request");
    assert_eq!(
        (last["from_status"].as_str(), last["to_status"].as_str()),
        (Some("contacted"), Some("do_not_contact"))
    );
}

#[actix_web::test]
async fn an_opt_out_answers_the_same_for_an_unknown_number() {
    let app = app().await;
    enquire(&app, person("Someone Else", "(212) 555-0142")).await;

    let known_answer = opt_out(&app, "(212) 555-0142").await;
    let unknown_answer = opt_out(&app, "(415) 555-2671").await;

    assert_eq!(known_answer.status(), unknown_answer.status());
    assert_eq!(
        known_answer.headers()["content-type"],
        unknown_answer.headers()["content-type"]
    );
    assert_eq!(
        known_answer.text().await.unwrap(),
        unknown_answer.text().await.unwrap()
    );
}

/// The public answer to an enquiry, without what differs between any two enquiries.
async fn public_answer(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/v1/leads"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let mut answer: Value = response.json().await.unwrap();
    let fields = answer.as_object_mut().unwrap();
    fields.remove("id");
    fields.remove("contact_by");
    (status, answer)
}

fn urgent(name: &str, phone: &str) -> Value {
    let mut body = person(name, phone);
    body["interests"] = json!(["suicidal_ideation"]);
    body
}

#[actix_web::test]
async fn an_enquiry_after_an_opt_out_reaches_staff_with_an_opted_out_flag_instead_of_being_suppressed()
 {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    assert_eq!(opt_out(&app, "(415) 555-2671").await.status(), 202);

    let flagged_answer = public_answer(&app, urgent("Jane Doe", "415.555.2671")).await;
    let plain_answer = public_answer(&app, urgent("John Roe", "(212) 555-0142")).await;

    assert_eq!(
        flagged_answer, plain_answer,
        "the public answer says nothing"
    );
    let queue = get_json(&app, &reader, "/v1/leads?status=new&priority=urgent").await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "both wait for staff: {queue}");
    let jane = items
        .iter()
        .find(|item| item["name"] == "Jane Doe")
        .unwrap();
    let john = items
        .iter()
        .find(|item| item["name"] == "John Roe")
        .unwrap();
    let opted_out_at: DateTime<Utc> = jane["opted_out_at"].as_str().unwrap().parse().unwrap();
    assert!(Utc::now() - opted_out_at < Duration::minutes(1));
    assert_eq!(john["opted_out_at"], Value::Null);
    let id = jane["id"].as_str().unwrap();
    let lead = get_json(&app, &reader, &format!("/v1/leads/{id}")).await;
    assert_eq!(
        (lead["status"].as_str(), lead["priority"].as_str()),
        (Some("new"), Some("urgent"))
    );
    assert_eq!(lead["opted_out_at"], jane["opted_out_at"]);
    let csv = get(&app, &reader, "/v1/leads/export")
        .await
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header.iter().position(|c| *c == "opted_out_at").unwrap();
    let flags: Vec<(bool, bool)> = lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[4] == "Jane Doe", !cells[column].is_empty())
        })
        .collect();
    assert_eq!(flags.len(), 2);
    assert!(flags.iter().all(|(jane, flagged)| jane == flagged), "{csv}");
}

#[actix_web::test]
async fn an_enquiry_joining_a_lead_that_opted_out_puts_it_back_in_the_queue_flagged() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    opt_out(&app, "(415) 555-2671").await;

    let again = enquire(&app, urgent("Jane Doe", "(415) 555-2671")).await;

    assert_eq!(again, id, "joined the lead");
    let lead = get_json(&app, &reader, &format!("/v1/leads/{id}")).await;
    assert_eq!(lead["status"], "new");
    assert_eq!(lead["priority"], "urgent");
    assert!(lead["opted_out_at"].is_string());
    let last = lead["activity"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["action"].as_str(),
            last["actor"].as_str(),
            last["from_status"].as_str(),
            last["to_status"].as_str()
        ),
        (
            Some("status_changed"),
            Some("new enquiry"),
            Some("do_not_contact"),
            Some("new")
        )
    );
    let call = patch(&app, &writer, id, json!({"status": "contacted"})).await;
    let call = problem(call, 409).await;
    assert!(
        call["detail"].as_str().unwrap().contains("reinstate"),
        "{call}"
    );
}

#[actix_web::test]
async fn the_suppression_list_holds_only_a_keyed_hash_of_the_number() {
    let app = app().await;

    opt_out(&app, "(415) 555-2671").await;
    opt_out(&app, "+14155552671").await;

    let tags: Vec<Vec<u8>> = suppressed_numbers::table
        .select(suppressed_numbers::phone_hmac)
        .load(&mut app.connection())
        .unwrap();
    assert_eq!(tags.len(), 1, "every format is the same number");
    assert_eq!(tags[0].len(), 32);
    assert_ne!(
        tags[0],
        Sha256::digest(b"+14155552671").to_vec(),
        "keyed, not a bare hash"
    );
    assert!(!String::from_utf8_lossy(&tags[0]).contains("4155552671"));
}

#[actix_web::test]
async fn a_lead_whose_number_opted_out_cannot_be_put_back_in_the_pipeline() {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    opt_out(&app, "(415) 555-2671").await;
    patched(&app, &writer, id, json!({"status": "spam"})).await;

    let response = patch(&app, &writer, id, json!({"status": "new"})).await;

    let body = problem(response, 409).await;
    assert!(body["detail"].as_str().unwrap().contains("opted out"));
    assert_eq!(status_of(&app, id), "spam");
}

// --- reinstating ---

async fn reinstate(app: &TestApp, key: &str, id: Uuid, body: Value) -> reqwest::Response {
    app.post_json(key, &format!("/v1/leads/{id}/reinstate"), &body)
        .await
}

fn suppressed_count(app: &TestApp) -> i64 {
    suppressed_numbers::table
        .count()
        .get_result(&mut app.connection())
        .unwrap()
}

#[actix_web::test]
async fn staff_reinstating_an_opted_out_number_lifts_the_suppression_and_records_consent_activity_and_audit()
 {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let admin = app.key(&["admin"]);
    let id = enquire(&app, urgent("Jane Doe", "(415) 555-2671")).await;
    opt_out(&app, "(415) 555-2671").await;
    let before = get(&app, &reader, &format!("/v1/leads/{id}")).await;
    let etag = before.headers()["etag"].to_str().unwrap().to_owned();

    let response = app
        .client
        .post(app.url(&format!("/v1/leads/{id}/reinstate")))
        .bearer_auth(&writer)
        .header("if-match", &etag)
        .json(&json!({"reason": "  She called us back and asked for an appointment.  "}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let new_etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        crate::lead_admin::fields_beyond_the_write_answer(&answer),
        Vec::<String>::new()
    );
    assert_eq!(answer["status"], "new");
    assert_eq!(suppressed_count(&app), 0);
    let lead = get_json(&app, &reader, &format!("/v1/leads/{id}")).await;
    assert_eq!(lead["opted_out_at"], Value::Null);
    let consent = lead["consent"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(consent["kind"], "staff_reinstated");
    assert_eq!(consent["agreed"], true);
    let wording = consent["wording"].as_str().unwrap();
    assert!(wording.contains("test key"), "{wording}");
    assert!(
        wording.ends_with("She called us back and asked for an appointment."),
        "{wording}"
    );
    let last = lead["activity"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (
            last["action"].as_str(),
            last["actor"].as_str(),
            last["from_status"].as_str(),
            last["to_status"].as_str(),
            last["note"].as_str()
        ),
        (
            Some("reinstated"),
            Some("test key"),
            Some("do_not_contact"),
            Some("new"),
            Some("She called us back and asked for an appointment.")
        )
    );
    patched(&app, &writer, id, json!({"status": "contacted"})).await;
    let later = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    let later = get_json(&app, &reader, &format!("/v1/leads/{later}")).await;
    assert_eq!(later["opted_out_at"], Value::Null);
    let audit = get_json(&app, &admin, "/v1/audit?action=lead.reinstate").await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["lead_id"], id.to_string());
    assert_eq!(entries[0]["key_name"], "test key");
}

#[actix_web::test]
async fn reinstating_needs_leads_write_and_a_reason() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    opt_out(&app, "(415) 555-2671").await;
    let path = format!("/v1/leads/{id}/reinstate");
    let reason = json!({"reason": "Asked us to call."});

    let anonymous = app
        .client
        .post(app.url(&path))
        .json(&reason)
        .send()
        .await
        .unwrap();
    let read_only = reinstate(&app, &reader, id, reason.clone()).await;
    let missing = reinstate(&app, &writer, id, json!({})).await;
    let blank = reinstate(&app, &writer, id, json!({"reason": "   "})).await;
    let long = reinstate(&app, &writer, id, json!({"reason": "x".repeat(501)})).await;
    let unknown = reinstate(&app, &writer, id, json!({"reason": "ok", "status": "new"})).await;

    problem(anonymous, 401).await;
    problem(read_only, 403).await;
    problem(missing, 422).await;
    for response in [blank, long] {
        let body = problem(response, 422).await;
        assert_eq!(crate::helpers::error_pointers(&body), ["/reason"]);
    }
    problem(unknown, 422).await;
    assert_eq!(suppressed_count(&app), 1, "nothing was lifted");
    assert_eq!(status_of(&app, id), "do_not_contact");
}

#[actix_web::test]
async fn reinstating_a_number_that_did_not_opt_out_an_unknown_or_erased_lead_or_a_stale_version_is_refused()
 {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let admin = app.key(&["admin"]);
    let reason = json!({"reason": "Asked us to call."});
    let never = enquire(&app, person("John Roe", "(212) 555-0142")).await;
    let erased = enquire(&app, person("Ann Poe", "(312) 555-0199")).await;
    opt_out(&app, "(312) 555-0199").await;
    erase(&app, &admin, erased).await;
    let opted = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    opt_out(&app, "(415) 555-2671").await;

    let not_suppressed = reinstate(&app, &writer, never, reason.clone()).await;
    let unknown = reinstate(&app, &writer, Uuid::now_v7(), reason.clone()).await;
    let gone = reinstate(&app, &writer, erased, reason.clone()).await;
    let stale = app
        .client
        .post(app.url(&format!("/v1/leads/{opted}/reinstate")))
        .bearer_auth(&writer)
        .header("if-match", "\"v1\"")
        .json(&reason)
        .send()
        .await
        .unwrap();

    let body = problem(not_suppressed, 409).await;
    assert!(
        body["detail"].as_str().unwrap().contains("not opted out"),
        "{body}"
    );
    problem(unknown, 404).await;
    problem(gone, 410).await;
    problem(stale, 412).await;
    assert_eq!(suppressed_count(&app), 2, "nothing was lifted");
    assert_eq!(status_of(&app, opted), "do_not_contact");
}

#[actix_web::test]
async fn an_opt_out_needs_a_valid_number_and_is_rate_limited() {
    let app = spawn_app_with(|settings| {
        settings.leads.opt_out_rate_per_ip = FixedWindow::per_minute(2);
    })
    .await;

    let invalid = opt_out(&app, "555-1234").await;
    let first = opt_out(&app, "(415) 555-2671").await;
    let second = opt_out(&app, "(212) 555-0142").await;
    let third = opt_out(&app, "(312) 555-0199").await;

    let invalid = problem(invalid, 422).await;
    assert_eq!(invalid["errors"][0]["pointer"], "/phone");
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (202, 202)
    );
    assert!(third.headers().contains_key("retry-after"));
    problem(third, 429).await;
}

// --- erasure ---

const NAME: &str = "Zebulon Quixote";
const PHONE: &str = "(415) 555-0172";
const PHONE_FORMATS: [&str; 7] = [
    "(415) 555-0172",
    "415-555-0172",
    "415.555.0172",
    "4155550172",
    "+14155550172",
    "555-0172",
    "5550172",
];
const EMAIL: &str = "zeb.quixote@example.com";
const MESSAGE: &str = "My private symptoms are getting worse";
const IP: &str = "203.0.113.77";
const AGENT: &str = "ZebBrowser/9.9";

/// Everything a person leaves behind: two enquiries (one with an idempotency key), consent
/// with IP and user agent, staff notes naming them, an opt-out, searches and an export.
async fn a_persons_whole_record(app: &TestApp) -> Uuid {
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let body = json!({
        "name": NAME, "phone": PHONE, "email": EMAIL, "message": MESSAGE,
        "interests": ["suicidal_ideation", "ptsd"], "preferred_contact_time": "Evenings",
        "consent": {"agreed": true, "text": "I agree to be called.",
                    "page_url": "https://clinic.example/zeb-landing"},
        "utm_source": "google", "gclid": "zeb-click-id",
        "landing_page": "https://clinic.example/zeb-landing"
    });
    let response = app
        .client
        .post(app.url("/v1/leads"))
        .header("idempotency-key", "zeb-key-1")
        .header("x-forwarded-for", IP)
        .header("user-agent", AGENT)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let answer: Value = response.json().await.unwrap();
    let id = app.lead_of(&answer["id"]);
    let mut again = person(NAME, "415.555.0172");
    again["message"] = json!(format!("{MESSAGE}, please call {EMAIL}"));
    enquire(app, again).await;
    patched(
        app,
        &writer,
        id,
        json!({"status": "contacted", "note": format!("Called {NAME} at {PHONE}; {MESSAGE}")}),
    )
    .await;
    get_json(app, &reader, &format!("/v1/leads?q={}", urlencode(NAME))).await;
    get_json(app, &reader, &format!("/v1/leads?q={}", urlencode(PHONE))).await;
    get_json(app, &reader, &format!("/v1/leads?q={}", urlencode(EMAIL))).await;
    get(
        app,
        &reader,
        &format!("/v1/leads/export?q={}", urlencode(NAME)),
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(opt_out(app, "+1 415 555 0172").await.status(), 202);
    id
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every `table.column` whose text (or JSON, or array as text) contains any of `needles`.
fn search_every_table(conn: &mut PgConnection, needles: &[&str]) -> Vec<String> {
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' \
           AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', \
                             'ARRAY', 'USER-DEFINED', 'inet', 'tsvector') \
         ORDER BY table_name, column_name",
    )
    .load(conn)
    .unwrap();
    assert!(columns.len() > 30, "the scan sees the whole schema");
    let mut found = Vec::new();
    for column in &columns {
        for needle in needles {
            let hits: Found = diesel::sql_query(format!(
                "SELECT count(*) AS n FROM \"{}\" WHERE \"{}\"::text ILIKE '%' || $1 || '%'",
                column.table_name, column.column_name
            ))
            .bind::<Text, _>(*needle)
            .get_result(conn)
            .unwrap();
            if hits.n > 0 {
                found.push(format!(
                    "{}.{} holds {needle:?}",
                    column.table_name, column.column_name
                ));
            }
        }
    }
    found
}

fn personal_needles() -> Vec<&'static str> {
    let mut needles = vec![
        "Zebulon",
        "Quixote",
        EMAIL,
        "zeb.quixote",
        MESSAGE,
        "private symptoms",
        IP,
        AGENT,
        "zeb-click-id",
        "zeb-landing",
        "Evenings",
    ];
    needles.extend(PHONE_FORMATS);
    needles
}

#[actix_web::test]
async fn erasure_leaves_no_personal_data_in_any_table_of_the_database() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = FixedWindow::per_hour(5);
        settings.leads.trusted_proxies =
            beacon::domain::client_ip::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let admin = app.key(&["admin"]);
    let id = a_persons_whole_record(&app).await;
    // Someone else's lead must survive untouched.
    let other = enquire(&app, person("Other Person", "(212) 555-0142")).await;
    let before = search_every_table(&mut app.connection(), &personal_needles());
    assert!(
        before.len() > 5,
        "the record is really there first: {before:?}"
    );

    let response = erase(&app, &admin, id).await;

    assert_eq!(response.status(), 200);
    let found = search_every_table(&mut app.connection(), &personal_needles());
    assert!(
        found.is_empty(),
        "personal data left after erasure: {found:#?}"
    );
    let phone_subject = Sha256::new()
        .chain_update(b"lead_phone")
        .chain_update([0])
        .chain_update(b"+14155550172")
        .finalize()
        .to_vec();
    let windows: i64 = beacon::db::schema::rate_limit_windows::table
        .filter(beacon::db::schema::rate_limit_windows::subject.eq(phone_subject))
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(
        windows, 0,
        "no hash of the number that anyone could reverse"
    );
    let others_consent: i64 = consent_records::table
        .filter(consent_records::lead_id.eq(other))
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(others_consent, 0);
    let name: Option<String> = leads::table
        .find(other)
        .select(leads::name)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(name.as_deref(), Some("Other Person"));
}

#[actix_web::test]
async fn an_erased_lead_is_a_tombstone_that_keeps_statistics_true() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let mut body = person("Jane Doe", "(415) 555-2671");
    body["interests"] = json!(["ptsd", "suicidal_ideation"]);
    body["utm_source"] = json!("google");
    let id = enquire(&app, body).await;
    patched(
        &app,
        &writer,
        id,
        json!({"status": "contacted", "note": "Jane is doing better"}),
    )
    .await;
    let stats_before = get_json(&app, &reader, "/v1/leads/stats").await;

    let response = erase(&app, &admin, id).await;

    assert_eq!(response.status(), 200);
    let tombstone: Value = response.json().await.unwrap();
    assert_eq!(tombstone["id"], id.to_string());
    assert_eq!(tombstone["status"], "contacted");
    assert_eq!(tombstone["interest_count"], 2);
    assert_eq!(tombstone["source"], "google");
    assert_eq!(tombstone["erased_by"], "test key");
    let zone: chrono_tz::Tz = "America/New_York".parse().unwrap();
    assert_eq!(
        tombstone["created_day"],
        Utc::now().with_timezone(&zone).date_naive().to_string()
    );
    let stats_after = get_json(&app, &reader, "/v1/leads/stats").await;
    for field in ["total", "by_status", "by_source", "by_day", "contact"] {
        assert_eq!(stats_after[field], stats_before[field], "{field}");
    }
    assert_eq!(stats_after["erased"], 1);
    assert_eq!(
        stats_after["by_interest"],
        json!([]),
        "interests are health data"
    );
    problem(get(&app, &reader, &format!("/v1/leads/{id}")).await, 410).await;
    problem(erase(&app, &admin, id).await, 410).await;
    problem(
        patch(&app, &writer, id, json!({"status": "qualified"})).await,
        410,
    )
    .await;
    let list = get_json(&app, &reader, "/v1/leads?include_spam=true").await;
    assert_eq!(list["items"], json!([]));
    let (priority, erased_by): (Option<String>, Option<String>) = leads::table
        .find(id)
        .select((leads::priority, leads::erased_by))
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(
        priority, None,
        "an urgent priority would say what the person reported"
    );
    assert_eq!(erased_by.as_deref(), Some("test key"));
    let notes: Vec<Option<String>> = lead_activity::table
        .filter(lead_activity::lead_id.eq(id))
        .order(lead_activity::at)
        .select(lead_activity::note)
        .load(&mut app.connection())
        .unwrap();
    assert!(notes.iter().all(Option::is_none));
    let actions: Vec<String> = lead_activity::table
        .filter(lead_activity::lead_id.eq(id))
        .order((lead_activity::at, lead_activity::id))
        .select(lead_activity::action)
        .load(&mut app.connection())
        .unwrap();
    assert_eq!(actions, ["status_changed", "note_added", "erased"]);
}

#[actix_web::test]
async fn an_opt_out_outlives_the_erasure_of_the_persons_lead() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let reader = app.key(&["leads:read"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    opt_out(&app, "(415) 555-2671").await;
    erase(&app, &admin, id).await;

    let later = enquire(&app, person("Jane Doe", "+1 415 555 2671")).await;

    assert_ne!(later, id);
    let lead = get_json(&app, &reader, &format!("/v1/leads/{later}")).await;
    assert_eq!(lead["status"], "new");
    assert!(lead["opted_out_at"].is_string(), "still flagged: {lead}");
}

#[actix_web::test]
async fn consent_evidence_can_be_deleted_only_by_erasure() {
    let app = app().await;
    let mut body = person("Jane Doe", "(415) 555-2671");
    body["consent"] = json!({"agreed": true, "text": "Call me."});
    enquire(&app, body).await;

    let plain = diesel::delete(consent_records::table).execute(&mut app.connection());
    let mut conn = app.connection();
    let flagged_elsewhere = conn.transaction(|conn| {
        diesel::sql_query("SELECT set_config('beacon.erasing', 'on', true)").execute(conn)?;
        diesel::update(consent_records::table)
            .set(consent_records::agreed.eq(false))
            .execute(conn)
    });

    assert!(plain.is_err());
    assert!(
        flagged_elsewhere.is_err(),
        "erasure may delete evidence, never change it"
    );
    let left: i64 = consent_records::table
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(left, 1);
}

// --- retention ---

#[actix_web::test]
async fn beacon_leads_purge_erases_leads_whose_latest_enquiry_is_older_than_the_given_days() {
    let app = app().await;
    let old = enquire(&app, person("Old Enquiry", "(415) 555-0101")).await;
    let recent = enquire(&app, person("Recent Enquiry", "(415) 555-0102")).await;
    let now = Utc::now();
    set_times(
        &app,
        old,
        now - Duration::days(40),
        now - Duration::days(39),
    );
    set_times(
        &app,
        recent,
        now - Duration::days(20),
        now - Duration::days(19),
    );

    let output = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(["leads", "purge", "--older-than", "30"])
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("Erased 1 lead(s)"), "{stdout}");
    let erased: Vec<(Uuid, Option<String>)> = leads::table
        .filter(leads::erased_at.is_not_null())
        .select((leads::id, leads::erased_by))
        .load(&mut app.connection())
        .unwrap();
    assert_eq!(erased, [(old, Some("beacon leads purge".to_owned()))]);
    let refused = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(["leads", "purge", "--older-than", "0"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

#[actix_web::test]
async fn the_retention_task_erases_old_leads_in_the_background() {
    let app = spawn_app_with(|settings| {
        settings.leads.retention = Some(Duration::days(30));
        settings.leads.retention_interval = StdDuration::from_millis(100);
    })
    .await;
    let old = enquire(&app, person("Old Enquiry", "(415) 555-0101")).await;
    let recent = enquire(&app, person("Recent Enquiry", "(415) 555-0102")).await;
    let now = Utc::now();
    set_times(
        &app,
        old,
        now - Duration::days(31),
        now - Duration::days(30),
    );

    let mut erased_by = None;
    for _ in 0..300 {
        erased_by = leads::table
            .find(old)
            .select(leads::erased_by)
            .first::<Option<String>>(&mut app.connection())
            .unwrap();
        if erased_by.is_some() {
            break;
        }
        actix_web::rt::time::sleep(StdDuration::from_millis(50)).await;
    }

    assert_eq!(erased_by.as_deref(), Some("retention"));
    assert_eq!(status_of(&app, recent), "new");
    let name: Option<String> = leads::table
        .find(recent)
        .select(leads::name)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(name.as_deref(), Some("Recent Enquiry"));
}

// --- logs ---

/// The real binary on a free port, its stdout and stderr going to `log`.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    async fn start(database_url: &str, log: &std::path::Path, client: &reqwest::Client) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = File::create(log).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_beacon"))
            .env("DATABASE_URL", database_url)
            .env("BEACON_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "trace")
            .env("BEACON_LEAD_RATE_PER_IP", "0")
            .env("BEACON_LEAD_RATE_PER_PHONE", "0")
            .env("BEACON_TRUSTED_PROXIES", "127.0.0.1")
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..400 {
            assert!(server.child.try_wait().unwrap().is_none(), "beacon exited");
            let ready = client
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return server;
            }
            actix_web::rt::time::sleep(StdDuration::from_millis(50)).await;
        }
        server.stop();
        panic!("beacon did not become ready");
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

#[actix_web::test]
async fn a_leads_whole_life_at_trace_level_leaves_no_personal_data_in_the_logs() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let admin = app.key(&["admin"]);
    let client = reqwest::Client::new();
    let log =
        std::env::temp_dir().join(format!("beacon-lead-life-{}.log", Uuid::new_v4().simple()));
    let mut server = Server::start(&app.database_url, &log, &client).await;
    let url = |path: &str| format!("{}{path}", server.base);

    let created = client
        .post(url("/v1/leads"))
        .header("idempotency-key", "life-1")
        .header("x-forwarded-for", IP)
        .header("user-agent", AGENT)
        .header("referer", "https://clinic.example/zeb-landing")
        .json(&json!({
            "name": NAME, "phone": PHONE, "email": EMAIL, "message": MESSAGE,
            "interests": ["suicidal_ideation", "ptsd"], "preferred_contact_time": "Evenings",
            "consent": {"agreed": true, "text": "I agree to be called."},
            "gclid": "zeb-click-id"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = app.lead_of(&created.json::<Value>().await.unwrap()["id"]);
    let invalid = client
        .post(url("/v1/leads"))
        .json(&json!({"name": NAME, "phone": "555-0172", "email": EMAIL}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
    let reads = [
        "/v1/leads".to_owned(),
        format!("/v1/leads/{id}"),
        format!("/v1/leads?q={}", urlencode(NAME)),
        format!("/v1/leads?q={}", urlencode("415.555.0172")),
        format!("/v1/leads?q={}", urlencode("+1 415 555 0172")),
        format!("/v1/leads?q={}", urlencode(EMAIL)),
        format!("/v1/leads/export?q={}", urlencode(PHONE)),
        "/v1/leads/stats".to_owned(),
    ];
    for path in &reads {
        let response = client
            .get(url(path))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.bytes().await.unwrap();
    }
    let patched = client
        .patch(url(&format!("/v1/leads/{id}")))
        .bearer_auth(&writer)
        .json(&json!({"status": "contacted", "assignee": "Maria",
                      "note": format!("Spoke to {NAME} at {PHONE} ({EMAIL})")}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let opted_out = client
        .post(url("/v1/leads/opt-out"))
        .json(&json!({"phone": "4155550172"}))
        .send()
        .await
        .unwrap();
    assert_eq!(opted_out.status(), 202);
    let erased = client
        .delete(url(&format!("/v1/leads/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 200);
    server.stop();

    let logs = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(
        logs.contains("TRACE") || logs.contains("trace"),
        "trace logging was on"
    );
    assert!(logs.contains(&id.to_string()), "lead ids may be logged");
    // Interest codes say what a person suffers from: never in a log line.
    for needle in personal_needles()
        .into_iter()
        .chain(["suicidal_ideation", "ptsd"])
    {
        if let Some(at) = logs.find(needle) {
            let start = at.saturating_sub(300);
            panic!(
                "the logs hold {needle:?}: …{}…",
                &logs[start..(at + 200).min(logs.len())]
            );
        }
    }
}
