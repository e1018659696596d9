//! `POST /v1/leads`: every enquiry captured once, with consent evidence, a deadline, and care
//! for people in crisis.

use beacon::db::schema::{consent_records, idempotency_keys, lead_submissions, leads};
use beacon::domain::contact_deadline::BusinessCalendar;
use beacon::domain::crisis::CrisisResources;
use beacon::domain::rate_limit::FixedWindow;
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, error_pointers, problem, spawn_app, spawn_app_with};

const PHONE: &str = "(415) 555-2671";
const E164: &str = "+14155552671";

fn enquiry(phone: &str) -> Value {
    json!({"name": "Jane Doe", "phone": phone})
}

async fn post(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/leads"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_with_key(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/leads"))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn accepted(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    response.json().await.unwrap()
}

/// A rate window spanning the whole test: a minute boundary mid-test would reset the count.
fn lasting_window(limit: u32) -> FixedWindow {
    FixedWindow {
        limit,
        length: chrono::TimeDelta::days(36_500),
    }
}

/// Ten minutes: a request arriving sooner after `form_rendered_at` = now is always "too fast",
/// however loaded the machine running the tests.
const SLOW_FILL: std::time::Duration = std::time::Duration::from_secs(600);

/// The hash a request's body is kept under with its idempotency key: of its canonical JSON.
fn body_sha256(body: &Value) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(body).unwrap()).into()
}

/// The names of an answer's fields, sorted (serde_json keeps them so).
fn answer_fields(answer: &Value) -> Vec<&str> {
    answer
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// An app without rate limits, for tests that send many enquiries.
async fn unlimited_app() -> TestApp {
    spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = FixedWindow::per_hour(0);
    })
    .await
}

fn lead_count(app: &TestApp) -> i64 {
    leads::table
        .count()
        .get_result(&mut app.connection())
        .unwrap()
}

fn submission_count(app: &TestApp) -> i64 {
    lead_submissions::table
        .count()
        .get_result(&mut app.connection())
        .unwrap()
}

/// `(status, priority, interests)` of the lead an answer's receipt joined.
fn lead_row(app: &TestApp, receipt: &Value) -> (String, String, Vec<String>) {
    let id = app.lead_of(receipt);
    let (status, priority, interests) = leads::table
        .find(id)
        .select((
            leads::status,
            leads::priority.assume_not_null(),
            leads::interests,
        ))
        .first::<(String, String, Option<Vec<Option<String>>>)>(&mut app.connection())
        .unwrap();
    let interests = interests
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    (status, priority, interests)
}

// --- valid enquiries ---

#[actix_web::test]
async fn a_valid_enquiry_creates_a_new_lead_with_a_contact_deadline() {
    let app = spawn_app().await;

    let response = post(&app, &enquiry(PHONE)).await;

    let body = accepted(response, 201).await;
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok());
    assert_eq!(lead_row(&app, &body["id"]).0, "new");
    let contact_by: DateTime<Utc> = body["contact_by"].as_str().unwrap().parse().unwrap();
    assert!(contact_by > Utc::now());
    assert_eq!(lead_count(&app), 1);
    assert_eq!(submission_count(&app), 1);
}

#[actix_web::test]
async fn the_answer_echoes_nothing_the_person_sent() {
    let app = spawn_app().await;
    let body = json!({
        "name": "Jane Doe", "phone": PHONE, "email": "jane@example.com",
        "message": "Private words", "interests": ["ptsd"]
    });

    let response = post(&app, &body).await;

    let text = response.text().await.unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer_fields(&answer), ["contact_by", "id"]);
    for sent in ["Jane", "555", "jane@", "Private", "ptsd"] {
        assert!(!text.contains(sent), "{text}");
    }
}

#[actix_web::test]
async fn the_deadline_follows_the_configured_clinic_calendar() {
    let calendar =
        BusinessCalendar::parse("Europe/London", "08:00-18:00", "mon-sat", "2026-12-24").unwrap();
    let configured = calendar.clone();
    let app = spawn_app_with(move |settings| settings.leads.calendar = configured).await;
    let before = Utc::now();

    let answer = accepted(post(&app, &enquiry(PHONE)).await, 201).await;

    let after = Utc::now();
    let contact_by: DateTime<Utc> = answer["contact_by"].as_str().unwrap().parse().unwrap();
    // contact_by never decreases with the receipt time, which lies between before and after.
    let earliest = calendar.contact_by(before).trunc_subsecs(0);
    assert!(
        earliest <= contact_by && contact_by <= calendar.contact_by(after),
        "{contact_by} is not the London deadline for a lead received between {before} and {after}"
    );
}

#[actix_web::test]
async fn every_field_of_a_full_enquiry_is_kept_on_its_submission() {
    let app = spawn_app().await;
    let body = json!({
        "name": "Jane Doe", "phone": PHONE, "email": "Jane@Example.COM",
        "interests": ["treatment_resistant_depression", "ptsd"],
        "message": "Line one\r\nLine two", "preferred_contact_time": "Mornings",
        "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring",
        "utm_term": "ketamine", "utm_content": "b", "gclid": "g-123", "fbclid": "f-456",
        "referrer": "https://www.google.com/", "landing_page": "https://clinic.example/trd",
        "article_slug": "ketamine-for-depression"
    });

    let answer = accepted(post(&app, &body).await, 201).await;

    type Stored = (
        (String, Option<String>, Option<String>, Option<String>),
        (Option<String>, Option<String>),
        (Option<String>, Option<String>, Option<String>),
        (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
        (Option<String>, Option<String>, Option<String>),
    );
    let stored: Stored = lead_submissions::table
        .select((
            (
                lead_submissions::id.cast::<diesel::sql_types::Text>(),
                lead_submissions::name,
                lead_submissions::phone,
                lead_submissions::phone_e164,
            ),
            (lead_submissions::email, lead_submissions::message),
            (
                lead_submissions::preferred_contact_time,
                lead_submissions::utm_source,
                lead_submissions::utm_medium,
            ),
            (
                lead_submissions::utm_campaign,
                lead_submissions::utm_term,
                lead_submissions::utm_content,
                lead_submissions::gclid,
            ),
            (
                lead_submissions::fbclid,
                lead_submissions::landing_page,
                lead_submissions::article_slug,
            ),
        ))
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(stored.0.0, answer["id"].as_str().unwrap());
    assert_eq!(stored.0.1.as_deref(), Some("Jane Doe"));
    assert_eq!(stored.0.2.as_deref(), Some(PHONE));
    assert_eq!(stored.0.3.as_deref(), Some(E164));
    assert_eq!(stored.1.0.as_deref(), Some("Jane@example.com"));
    assert_eq!(stored.1.1.as_deref(), Some("Line one\nLine two"));
    assert_eq!(stored.2.0.as_deref(), Some("Mornings"));
    assert_eq!(stored.2.1.as_deref(), Some("google"));
    assert_eq!(stored.3.3.as_deref(), Some("g-123"));
    assert_eq!(stored.4.0.as_deref(), Some("f-456"));
    assert_eq!(stored.4.1.as_deref(), Some("https://clinic.example/trd"));
    assert_eq!(stored.4.2.as_deref(), Some("ketamine-for-depression"));
    let (_, _, interests) = lead_row(&app, &answer["id"]);
    assert_eq!(interests, ["treatment_resistant_depression", "ptsd"]);
}

#[actix_web::test]
async fn common_us_phone_formats_are_stored_as_given_and_in_e164() {
    let app = unlimited_app().await;
    let formats = [
        "(415) 555-2671",
        "415-555-2671",
        "415.555.2671",
        "4155552671",
        "+1 415 555 2671",
        "1-415-555-2671",
        "+14155552671",
    ];

    for format in formats {
        let response = post(&app, &enquiry(format)).await;
        assert!(response.status().is_success(), "{format}");
    }

    let stored: Vec<(Option<String>, Option<String>)> = lead_submissions::table
        .order(lead_submissions::received_at)
        .select((lead_submissions::phone, lead_submissions::phone_e164))
        .load(&mut app.connection())
        .unwrap();
    let given: Vec<&str> = stored.iter().map(|s| s.0.as_deref().unwrap()).collect();
    assert_eq!(given, formats);
    assert!(stored.iter().all(|s| s.1.as_deref() == Some(E164)));
    assert_eq!(lead_count(&app), 1, "every format is the same person");
}

#[actix_web::test]
async fn server_owned_fields_cannot_be_set_by_the_client() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["id"] = json!("0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81");
    body["status"] = json!("contacted");
    body["priority"] = json!("urgent");
    body["contact_by"] = json!("2000-01-01T00:00:00Z");
    body["created_at"] = json!("2000-01-01T00:00:00Z");

    let answer = accepted(post(&app, &body).await, 201).await;

    assert_ne!(answer["id"], "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81");
    assert_ne!(answer["contact_by"], "2000-01-01T00:00:00Z");
    let (status, priority, _) = lead_row(&app, &answer["id"]);
    assert_eq!((status.as_str(), priority.as_str()), ("new", "normal"));
}

// --- field errors ---

#[actix_web::test]
async fn each_invalid_field_is_a_422_pointing_at_it_and_nothing_is_stored() {
    let app = spawn_app().await;
    let cases = [
        ("name", json!(""), "/name"),
        ("name", json!("x".repeat(201)), "/name"),
        ("phone", json!("555-1234"), "/phone"),
        ("phone", json!("call me"), "/phone"),
        ("phone", json!(4155552671_u64), "/phone"),
        ("email", json!("jane@localhost"), "/email"),
        ("interests", json!("ptsd"), "/interests"),
        ("message", json!("x".repeat(2001)), "/message"),
        (
            "preferred_contact_time",
            json!("a\nb"),
            "/preferred_contact_time",
        ),
        ("consent", json!({"agreed": true}), "/consent/text"),
        (
            "consent",
            json!({"agreed": "yes", "text": "I agree"}),
            "/consent/agreed",
        ),
        ("form_rendered_at", json!("yesterday"), "/form_rendered_at"),
        ("utm_source", json!("x".repeat(201)), "/utm_source"),
        ("gclid", json!("x".repeat(501)), "/gclid"),
        ("referrer", json!("javascript:alert(1)"), "/referrer"),
        ("landing_page", json!("/relative/page"), "/landing_page"),
        ("article_slug", json!("Not A Slug"), "/article_slug"),
    ];

    for (field, value, pointer) in cases {
        let mut body = enquiry(PHONE);
        body[field] = value;
        let response = post(&app, &body).await;
        let problem = problem(response, 422).await;
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{field}");
    }

    assert_eq!(lead_count(&app), 0);
}

#[actix_web::test]
async fn a_missing_name_or_phone_is_required() {
    let app = spawn_app().await;

    let no_name = post(&app, &json!({"phone": PHONE})).await;
    let no_phone = post(&app, &json!({"name": "Jane"})).await;

    let no_name = problem(no_name, 422).await;
    assert_eq!(no_name["errors"][0]["pointer"], "/name");
    assert_eq!(no_name["errors"][0]["message"], "is required");
    let no_phone = problem(no_phone, 422).await;
    assert_eq!(no_phone["errors"][0]["pointer"], "/phone");
}

#[actix_web::test]
async fn an_invalid_phone_says_how_to_write_one() {
    let app = spawn_app().await;

    let response = post(&app, &enquiry("555-1234")).await;

    let body = problem(response, 422).await;
    assert_eq!(
        body["errors"][0]["message"],
        "must be a valid phone number, e.g. (415) 555-2671"
    );
}

#[actix_web::test]
async fn an_unknown_interest_is_a_field_error_at_its_place() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["interests"] = json!(["ptsd", "gout", "Migraine"]);

    let response = post(&app, &body).await;

    let body = problem(response, 422).await;
    assert_eq!(
        error_pointers(&body),
        ["/interests/2"],
        "format errors come first"
    );
    let mut body = enquiry(PHONE);
    body["interests"] = json!(["ptsd", "gout"]);
    let unknown = problem(post(&app, &body).await, 422).await;
    assert_eq!(unknown["errors"][0]["pointer"], "/interests/1");
    assert!(
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("GET /v1/interests")
    );
    assert_eq!(lead_count(&app), 0);
}

#[actix_web::test]
async fn a_deactivated_interest_is_still_accepted_from_cached_forms() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    app.patch_json(&admin, "/v1/interests/ptsd", &json!({"active": false}))
        .await;
    let mut body = enquiry(PHONE);
    body["interests"] = json!(["ptsd"]);

    let response = post(&app, &body).await;

    assert_eq!(response.status(), 201);
}

#[actix_web::test]
async fn a_body_neither_json_nor_a_form_is_a_415() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/v1/leads"))
        .header("content-type", "text/plain")
        .body("name=Jane&phone=4155552671")
        .send()
        .await
        .unwrap();

    problem(response, 415).await;
    assert_eq!(lead_count(&app), 0);
}

// --- idempotency ---

#[actix_web::test]
async fn a_retry_with_the_same_key_and_body_replays_the_first_answer() {
    let app = spawn_app().await;
    let body = enquiry(PHONE);
    let first = accepted(post_with_key(&app, "key-1", &body).await, 201).await;

    let retry = post_with_key(&app, "key-1", &body).await;

    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(accepted(retry, 201).await, first);
    assert_eq!(lead_count(&app), 1);
    assert_eq!(submission_count(&app), 1);
}

#[actix_web::test]
async fn a_retry_formatting_the_same_json_differently_still_replays() {
    let app = spawn_app().await;
    let first = accepted(
        post_with_key(&app, "key-1", &json!({"name": "Jane", "phone": PHONE})).await,
        201,
    )
    .await;

    let retry = app
        .client
        .post(app.url("/v1/leads"))
        .header("idempotency-key", "key-1")
        .header("content-type", "application/json")
        .body(format!(
            "{{ \"phone\" : \"{PHONE}\",\n  \"name\": \"Jane\" }}"
        ))
        .send()
        .await
        .unwrap();

    assert_eq!(accepted(retry, 201).await, first);
    assert_eq!(submission_count(&app), 1);
}

#[actix_web::test]
async fn a_retry_while_the_first_request_is_in_flight_is_a_409() {
    let app = spawn_app().await;
    // Hold the lock a request with this key and body holds while it runs.
    let mut in_flight = app.connection();
    let lock = beacon::services::leads::idempotency_lock("key-1", &body_sha256(&enquiry(PHONE)));
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock})"))
        .execute(&mut in_flight)
        .unwrap();

    let during = post_with_key(&app, "key-1", &enquiry(PHONE)).await;
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock})"))
        .execute(&mut in_flight)
        .unwrap();
    let after = post_with_key(&app, "key-1", &enquiry(PHONE)).await;

    let body = problem(during, 409).await;
    assert!(body["detail"].as_str().unwrap().contains("Idempotency-Key"));
    assert_eq!(after.status(), 201);
    assert_eq!(lead_count(&app), 1);
}

#[actix_web::test]
async fn an_idempotency_key_is_kept_for_at_least_24_hours() {
    let app = spawn_app().await;
    let before = Utc::now();

    post_with_key(&app, "key-1", &enquiry(PHONE)).await;

    let expires_at: DateTime<Utc> = idempotency_keys::table
        .select(idempotency_keys::expires_at)
        .first(&mut app.connection())
        .unwrap();
    assert!(expires_at >= before + chrono::TimeDelta::hours(24));
}

#[actix_web::test]
async fn expired_idempotency_keys_and_finished_rate_windows_are_pruned_in_the_background_within_seconds()
 {
    use beacon::db::schema::rate_limit_windows;
    let app = spawn_app().await;
    let mut conn = app.connection();
    let long_ago = Utc::now() - chrono::TimeDelta::hours(25);
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq("POST /v1/leads"),
            idempotency_keys::key.eq("old-key"),
            idempotency_keys::request_sha256.eq(vec![0u8; 32]),
            idempotency_keys::response_status.eq(201_i16),
            idempotency_keys::response_body.eq(json!({})),
            idempotency_keys::created_at.eq(long_ago),
            idempotency_keys::expires_at.eq(long_ago + chrono::TimeDelta::hours(24)),
        ))
        .execute(&mut conn)
        .unwrap();
    diesel::insert_into(rate_limit_windows::table)
        .values((
            rate_limit_windows::bucket.eq("lead_ip"),
            rate_limit_windows::subject.eq(vec![0u8; 32]),
            rate_limit_windows::window_start.eq(long_ago),
            rate_limit_windows::count.eq(3),
        ))
        .execute(&mut conn)
        .unwrap();

    post_with_key(&app, "new-key", &enquiry(PHONE)).await;

    // The sweep runs every 2 s, outside any enquiry.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let keys: Vec<String> = idempotency_keys::table
            .select(idempotency_keys::key)
            .load(&mut conn)
            .unwrap();
        let old_windows: i64 = rate_limit_windows::table
            .filter(rate_limit_windows::window_start.eq(long_ago))
            .count()
            .get_result(&mut conn)
            .unwrap();
        if keys == ["new-key"] && old_windows == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still there: keys {keys:?}, {old_windows} old windows"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_malformed_idempotency_key_is_a_422() {
    let app = spawn_app().await;

    let too_long = post_with_key(&app, &"k".repeat(256), &enquiry(PHONE)).await;
    let blank = post_with_key(&app, " ", &enquiry(PHONE)).await;

    for response in [too_long, blank] {
        let body = problem(response, 422).await;
        assert_eq!(body["errors"][0]["pointer"], "#/header/Idempotency-Key");
    }
    assert_eq!(lead_count(&app), 0);
}

// --- dedupe ---

#[actix_web::test]
async fn a_second_enquiry_from_the_same_number_joins_the_lead_and_merges_interests() {
    let app = spawn_app().await;
    let mut first = enquiry(PHONE);
    first["interests"] = json!(["ptsd"]);
    let first = accepted(post(&app, &first).await, 201).await;
    let mut second = json!({"name": "Jane D.", "phone": "+1 415 555 2671", "message": "Me again"});
    second["interests"] = json!(["treatment_resistant_depression", "ptsd"]);

    let response = post(&app, &second).await;

    let second = accepted(response, 201).await;
    assert_ne!(
        second["id"], first["id"],
        "each receipt names its own submission"
    );
    assert_eq!(app.lead_of(&second["id"]), app.lead_of(&first["id"]));
    assert_eq!(lead_count(&app), 1);
    assert_eq!(submission_count(&app), 2, "nothing the person sent is lost");
    let (_, _, interests) = lead_row(&app, &first["id"]);
    assert_eq!(interests, ["ptsd", "treatment_resistant_depression"]);
    let messages: Vec<Option<String>> = lead_submissions::table
        .select(lead_submissions::message)
        .load(&mut app.connection())
        .unwrap();
    assert!(messages.contains(&Some("Me again".to_owned())));
}

#[actix_web::test]
async fn an_enquiry_after_the_dedupe_window_is_a_new_lead() {
    let app = spawn_app().await;
    let first = accepted(post(&app, &enquiry(PHONE)).await, 201).await;
    let long_ago = Utc::now() - chrono::TimeDelta::days(31);
    diesel::update(leads::table)
        .set(leads::last_received_at.eq(long_ago))
        .execute(&mut app.connection())
        .unwrap();

    let second = accepted(post(&app, &enquiry(PHONE)).await, 201).await;

    assert_ne!(app.lead_of(&second["id"]), app.lead_of(&first["id"]));
    assert_eq!(lead_count(&app), 2);
}

#[actix_web::test]
async fn a_zero_dedupe_window_keeps_every_enquiry_a_lead_of_its_own() {
    let app =
        spawn_app_with(|settings| settings.leads.dedupe_window = chrono::TimeDelta::zero()).await;
    let first = accepted(post(&app, &enquiry(PHONE)).await, 201).await;

    let second = accepted(post(&app, &enquiry(PHONE)).await, 201).await;

    assert_ne!(app.lead_of(&second["id"]), app.lead_of(&first["id"]));
    assert_eq!(lead_count(&app), 2);
}

#[actix_web::test]
async fn concurrent_enquiries_from_one_number_make_one_lead() {
    let app = unlimited_app().await;
    let bodies: Vec<Value> = (0..8).map(|_| enquiry(PHONE)).collect();

    let responses =
        futures_util::future::join_all(bodies.iter().map(|body| post(&app, body))).await;

    for response in responses {
        assert_eq!(response.status(), 201);
    }
    assert_eq!(lead_count(&app), 1);
    assert_eq!(submission_count(&app), 8);
}

// --- spam ---

#[actix_web::test]
async fn a_filled_honeypot_is_answered_like_a_real_lead_but_quarantined() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["website"] = json!("https://cheap-pills.example");

    let answer = accepted(post(&app, &body).await, 201).await;

    assert_eq!(answer_fields(&answer), ["contact_by", "id"]);
    let (status, _, _) = lead_row(&app, &answer["id"]);
    assert_eq!(status, "spam");
    let reason: Option<String> = lead_submissions::table
        .select(lead_submissions::spam_reason)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(reason.as_deref(), Some("honeypot"));
}

#[actix_web::test]
async fn an_empty_honeypot_is_not_spam() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["website"] = json!("");

    let answer = accepted(post(&app, &body).await, 201).await;

    let (status, _, _) = lead_row(&app, &answer["id"]);
    assert_eq!(status, "new");
}

#[actix_web::test]
async fn the_honeypot_field_name_is_configurable() {
    let app = spawn_app_with(|settings| settings.leads.honeypot_field = "fax".to_owned()).await;
    let mut trap = enquiry(PHONE);
    trap["fax"] = json!("555");
    let mut innocent = enquiry("(212) 555-0143");
    innocent["website"] = json!("https://jane.example");

    let trapped = accepted(post(&app, &trap).await, 201).await;
    let kept = accepted(post(&app, &innocent).await, 201).await;

    assert_eq!(lead_row(&app, &trapped["id"]).0, "spam");
    assert_eq!(lead_row(&app, &kept["id"]).0, "new");
}

#[actix_web::test]
async fn a_form_sent_faster_than_a_person_can_fill_it_is_quarantined() {
    let app = spawn_app_with(|settings| settings.leads.min_fill = SLOW_FILL).await;
    let mut hasty = enquiry(PHONE);
    hasty["form_rendered_at"] = json!(Utc::now().to_rfc3339());
    let mut patient = enquiry("(212) 555-0143");
    patient["form_rendered_at"] = json!((Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339());

    let hasty = accepted(post(&app, &hasty).await, 201).await;
    let patient = accepted(post(&app, &patient).await, 201).await;

    assert_eq!(lead_row(&app, &hasty["id"]).0, "spam");
    assert_eq!(lead_row(&app, &patient["id"]).0, "new");
    let reasons: Vec<Option<String>> = lead_submissions::table
        .select(lead_submissions::spam_reason)
        .load(&mut app.connection())
        .unwrap();
    assert!(reasons.contains(&Some("too_fast".to_owned())));
}

#[actix_web::test]
async fn a_quick_form_reporting_a_crisis_is_never_quarantined_for_its_speed() {
    let app = spawn_app_with(|settings| settings.leads.min_fill = SLOW_FILL).await;
    let mut body = enquiry(PHONE);
    body["interests"] = json!(["suicidal_ideation"]);
    body["form_rendered_at"] = json!(Utc::now().to_rfc3339());

    let answer = accepted(post(&app, &body).await, 201).await;

    let (status, priority, _) = lead_row(&app, &answer["id"]);
    assert_eq!((status.as_str(), priority.as_str()), ("new", "urgent"));
}

#[actix_web::test]
async fn quarantined_spam_never_absorbs_a_real_enquiry() {
    let app = spawn_app().await;
    let mut spam = enquiry(PHONE);
    spam["website"] = json!("x");
    let spam = accepted(post(&app, &spam).await, 201).await;

    let real = accepted(post(&app, &enquiry(PHONE)).await, 201).await;

    assert_ne!(app.lead_of(&real["id"]), app.lead_of(&spam["id"]));
    assert_eq!(lead_row(&app, &real["id"]).0, "new");
}

// --- rate limits ---

#[actix_web::test]
async fn too_many_enquiries_from_one_address_are_a_429_with_retry_after() {
    let window = lasting_window(2);
    let app = spawn_app_with(move |settings| settings.leads.rate_per_ip = window).await;
    post(&app, &enquiry("(415) 555-2671")).await;
    post(&app, &enquiry("(212) 555-0143")).await;
    let before = Utc::now();

    let response = post(&app, &enquiry("(312) 555-0199")).await;

    let after = Utc::now();
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let until_window_ends = window.retry_after_secs(after)..=window.retry_after_secs(before);
    assert!(until_window_ends.contains(&retry_after), "{retry_after}");
    let body = problem(response, 429).await;
    assert_eq!(body["type"], "/problems/rate-limited");
    assert_eq!(lead_count(&app), 2);
}

#[actix_web::test]
async fn enquiries_beyond_a_numbers_limit_are_kept_in_quarantine_and_answered_like_any_other() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = lasting_window(1);
    })
    .await;
    let first = accepted(post(&app, &enquiry(PHONE)).await, 201).await;

    let beyond = post(&app, &enquiry("+1 415 555 2671")).await;
    let other_number = post(&app, &enquiry("(212) 555-0143")).await;

    let beyond = accepted(beyond, 201).await;
    assert_eq!(answer_fields(&beyond), answer_fields(&first));
    assert_eq!(
        accepted(other_number, 201).await["crisis_resources"],
        Value::Null
    );
    assert_eq!(submission_count(&app), 3, "nothing is lost");
    assert_eq!(lead_row(&app, &beyond["id"]).0, "spam");
    let reason: Option<String> = lead_submissions::table
        .find(
            beyond["id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap(),
        )
        .select(lead_submissions::spam_reason)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(reason.as_deref(), Some("rate_limited"));
    assert_eq!(
        lead_row(&app, &first["id"]).0,
        "new",
        "the person's lead is untouched"
    );
}

#[actix_web::test]
async fn a_stranger_learns_nothing_from_a_numbers_limit_even_after_the_person_used_it_up() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = lasting_window(2);
    })
    .await;
    let mut victims = Vec::new();
    for _ in 0..2 {
        victims.push(accepted(post(&app, &enquiry(PHONE)).await, 201).await);
    }

    let stranger = post(&app, &enquiry(PHONE)).await;

    assert_eq!(stranger.status(), 201);
    assert!(stranger.headers().get("retry-after").is_none());
    let stranger = stranger.json::<Value>().await.unwrap();
    assert_eq!(answer_fields(&stranger), answer_fields(&victims[0]));
}

#[actix_web::test]
async fn an_urgent_enquiry_beyond_its_numbers_limit_still_reaches_staff() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = lasting_window(1);
    })
    .await;
    let first = accepted(post(&app, &enquiry(PHONE)).await, 201).await;
    let mut urgent = enquiry(PHONE);
    urgent["interests"] = json!(["suicidal_ideation"]);

    let answer = accepted(post(&app, &urgent).await, 201).await;

    assert!(answer["crisis_resources"].is_object());
    let (status, priority, _) = lead_row(&app, &answer["id"]);
    assert_eq!((status.as_str(), priority.as_str()), ("new", "urgent"));
    assert_eq!(
        app.lead_of(&answer["id"]),
        app.lead_of(&first["id"]),
        "it joins the lead"
    );
}

#[actix_web::test]
async fn idempotent_replays_do_not_count_against_the_rate_limit() {
    let app = spawn_app_with(|settings| settings.leads.rate_per_ip = lasting_window(1)).await;
    post_with_key(&app, "key-1", &enquiry(PHONE)).await;

    let replay = post_with_key(&app, "key-1", &enquiry(PHONE)).await;
    let replay_again = post_with_key(&app, "key-1", &enquiry(PHONE)).await;
    let new_enquiry = post(&app, &enquiry("(212) 555-0143")).await;

    assert_eq!(replay.status(), 201);
    assert_eq!(replay_again.status(), 201);
    problem(new_enquiry, 429).await;
}

#[actix_web::test]
async fn rate_limit_counters_never_hold_an_address_or_a_number() {
    let app = spawn_app().await;

    post(&app, &enquiry(PHONE)).await;

    let subjects: Vec<Vec<u8>> = beacon::db::schema::rate_limit_windows::table
        .select(beacon::db::schema::rate_limit_windows::subject)
        .load(&mut app.connection())
        .unwrap();
    assert_eq!(subjects.len(), 2, "one per address, one per number");
    for subject in subjects {
        assert_eq!(subject.len(), 32);
        let text = String::from_utf8_lossy(&subject);
        assert!(!text.contains("127.0.0.1") && !text.contains("4155552671"));
    }
}

// --- crisis care ---

#[actix_web::test]
async fn suicidal_ideation_makes_the_lead_urgent_and_the_answer_carries_crisis_resources() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["interests"] = json!(["ptsd", "suicidal_ideation"]);

    let answer = accepted(post(&app, &body).await, 201).await;

    let resources: CrisisResources =
        serde_json::from_value(answer["crisis_resources"].clone()).unwrap();
    assert_eq!(resources, CrisisResources::us_default());
    let labels = answer["crisis_resources"].to_string();
    assert!(labels.contains("988") && labels.contains("911"));
    assert_eq!(lead_row(&app, &answer["id"]).1, "urgent");
}

#[actix_web::test]
async fn without_suicidal_ideation_there_is_no_crisis_block() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["interests"] = json!(["ptsd", "treatment_resistant_depression"]);

    let answer = accepted(post(&app, &body).await, 201).await;

    assert_eq!(lead_row(&app, &answer["id"]).1, "normal");
    assert!(answer.get("crisis_resources").is_none());
}

#[actix_web::test]
async fn a_lead_stays_urgent_but_only_an_enquiry_reporting_a_crisis_gets_the_block() {
    let app = spawn_app().await;
    let mut crisis = enquiry(PHONE);
    crisis["interests"] = json!(["suicidal_ideation"]);
    accepted(post(&app, &crisis).await, 201).await;
    let mut later = enquiry(PHONE);
    later["interests"] = json!(["ptsd"]);

    let answer = accepted(post(&app, &later).await, 201).await;

    assert_eq!(lead_row(&app, &answer["id"]).1, "urgent");
    assert!(answer.get("crisis_resources").is_none());
}

#[actix_web::test]
async fn a_repeat_enquiry_reporting_a_crisis_raises_the_lead_to_urgent() {
    let app = spawn_app().await;
    let first = accepted(post(&app, &enquiry(PHONE)).await, 201).await;
    let mut crisis = enquiry(PHONE);
    crisis["interests"] = json!(["suicidal_ideation"]);

    let answer = accepted(post(&app, &crisis).await, 201).await;

    assert!(answer["crisis_resources"].is_object());
    assert_eq!(lead_row(&app, &first["id"]).1, "urgent");
}

#[actix_web::test]
async fn quarantined_spam_reporting_a_crisis_still_gets_the_block() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["interests"] = json!(["suicidal_ideation"]);
    body["website"] = json!("filled by mistake");

    let answer = accepted(post(&app, &body).await, 201).await;

    assert!(answer["crisis_resources"].is_object());
}

#[actix_web::test]
async fn the_crisis_block_is_the_configured_one() {
    let uk = CrisisResources::from_json(
        r#"{"message": "Help is available now.", "resources": [{"label": "Samaritans: 116 123", "href": "tel:116123"}]}"#,
    )
    .unwrap();
    let configured = uk.clone();
    let app = spawn_app_with(move |settings| settings.leads.crisis_resources = configured).await;
    let mut body = enquiry(PHONE);
    body["interests"] = json!(["suicidal_ideation"]);

    let answer = accepted(post(&app, &body).await, 201).await;

    assert_eq!(
        answer["crisis_resources"],
        serde_json::to_value(uk).unwrap()
    );
}

// --- consent evidence ---

type ConsentRow = (
    bool,
    String,
    Vec<u8>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn consent_rows(app: &TestApp) -> Vec<ConsentRow> {
    consent_records::table
        .order(consent_records::recorded_at)
        .select((
            consent_records::agreed,
            consent_records::wording,
            consent_records::wording_sha256,
            consent_records::form_version,
            consent_records::ip,
            consent_records::user_agent,
            consent_records::page_url,
        ))
        .load(&mut app.connection())
        .unwrap()
}

const WORDING: &str = "I agree that the clinic may call and text me about treatment.";

#[actix_web::test]
async fn consent_is_stored_with_its_wording_hash_ip_user_agent_and_page() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["consent"] = json!({"agreed": true, "text": WORDING, "version": "2026-03"});
    body["landing_page"] = json!("https://clinic.example/trd");

    let response = app
        .client
        .post(app.url("/v1/leads"))
        .header("user-agent", "Mozilla/5.0 (Test)")
        .json(&body)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
    let rows = consent_rows(&app);
    assert_eq!(rows.len(), 1);
    let (agreed, wording, hash, version, ip, agent, page) = rows[0].clone();
    assert!(agreed);
    assert_eq!(wording, WORDING);
    assert_eq!(hash, Sha256::digest(WORDING.as_bytes()).to_vec());
    assert_eq!(version.as_deref(), Some("2026-03"));
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(agent.as_deref(), Some("Mozilla/5.0 (Test)"));
    assert_eq!(page.as_deref(), Some("https://clinic.example/trd"));
}

#[actix_web::test]
async fn declined_consent_is_recorded_as_do_not_market_and_the_lead_is_still_taken() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["consent"] = json!({"agreed": false, "text": WORDING});

    let answer = accepted(post(&app, &body).await, 201).await;

    assert!(!consent_rows(&app)[0].0);
    let id = app.lead_of(&answer["id"]);
    let marketing: Option<bool> = leads::table
        .find(id)
        .select(leads::marketing_consent)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(marketing, Some(false));
}

#[actix_web::test]
async fn the_consent_page_can_be_named_or_taken_from_the_referer() {
    let app = unlimited_app().await;
    let mut named = enquiry(PHONE);
    named["consent"] =
        json!({"agreed": true, "text": WORDING, "page_url": "https://clinic.example/form"});
    let mut referred = enquiry("(212) 555-0143");
    referred["consent"] = json!({"agreed": true, "text": WORDING});

    post(&app, &named).await;
    app.client
        .post(app.url("/v1/leads"))
        .header("referer", "https://clinic.example/ptsd")
        .json(&referred)
        .send()
        .await
        .unwrap();

    let pages: Vec<Option<String>> = consent_rows(&app).into_iter().map(|r| r.6).collect();
    assert_eq!(
        pages,
        [
            Some("https://clinic.example/form".to_owned()),
            Some("https://clinic.example/ptsd".to_owned())
        ]
    );
}

#[actix_web::test]
async fn every_enquiry_adds_consent_evidence_and_none_is_ever_changed() {
    let app = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["consent"] = json!({"agreed": true, "text": WORDING});
    post(&app, &body).await;
    body["consent"] = json!({"agreed": false, "text": WORDING});
    post(&app, &body).await;

    let update = diesel::update(consent_records::table)
        .set(consent_records::agreed.eq(true))
        .execute(&mut app.connection());
    let delete = diesel::delete(consent_records::table).execute(&mut app.connection());

    let agreed: Vec<bool> = consent_rows(&app).into_iter().map(|r| r.0).collect();
    assert_eq!(agreed, [true, false]);
    assert!(update.is_err() && delete.is_err());
}

#[actix_web::test]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let trusting = spawn_app_with(|settings| {
        settings.leads.trusted_proxies =
            beacon::domain::client_ip::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let untrusting = spawn_app().await;
    let mut body = enquiry(PHONE);
    body["consent"] = json!({"agreed": true, "text": WORDING});

    for app in [&trusting, &untrusting] {
        app.client
            .post(app.url("/v1/leads"))
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
            .json(&body)
            .send()
            .await
            .unwrap();
    }

    assert_eq!(consent_rows(&trusting)[0].4.as_deref(), Some("203.0.113.9"));
    assert_eq!(consent_rows(&untrusting)[0].4.as_deref(), Some("127.0.0.1"));
}

#[actix_web::test]
async fn a_browser_on_the_clinic_site_may_send_an_idempotency_key() {
    let app = spawn_app_with(|settings| {
        settings.cors_origins = vec!["https://clinic.example".to_owned()];
    })
    .await;

    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/leads"))
        .header("origin", "https://clinic.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, idempotency-key",
        )
        .send()
        .await
        .unwrap();

    assert!(preflight.status().is_success());
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("idempotency-key"), "{allowed}");
}

// --- strangers who know someone's number: no oracle, no lever ---

const STRANGER_NAME: &str = "Mallory Stranger";
const STRANGER_EMAIL: &str = "mallory@example.net";

/// The person's own enquiry: a crisis, an email, marketing declined.
fn victims_enquiry() -> Value {
    json!({
        "name": "Jane Doe", "phone": PHONE, "email": "jane@example.com",
        "interests": ["suicidal_ideation"],
        "consent": {"agreed": false, "text": WORDING}
    })
}

/// Someone else typing the person's number, with their own details.
fn strangers_enquiry() -> Value {
    json!({
        "name": STRANGER_NAME, "phone": "+1 415 555 2671", "email": STRANGER_EMAIL,
        "interests": ["ptsd"],
        "consent": {"agreed": true, "text": WORDING}
    })
}

/// Header names of a response, without the per-request id's value.
fn header_names(response: &reqwest::Response) -> Vec<String> {
    let mut names: Vec<String> = response
        .headers()
        .keys()
        .map(|name| name.as_str().to_owned())
        .collect();
    names.sort();
    names
}

#[actix_web::test]
async fn a_repeat_enquiry_from_a_stranger_gets_the_same_status_fields_and_headers_as_a_first_one() {
    let app = spawn_app().await;
    post(&app, &victims_enquiry()).await;

    let repeat = post(&app, &strangers_enquiry()).await;
    let mut first = strangers_enquiry();
    first["phone"] = json!("(212) 555-0143");
    let first = post(&app, &first).await;

    assert_eq!(header_names(&repeat), header_names(&first));
    let repeat = accepted(repeat, 201).await;
    let first = accepted(first, 201).await;
    assert_eq!(answer_fields(&repeat), answer_fields(&first));
    assert_eq!(answer_fields(&repeat), ["contact_by", "id"]);
}

#[actix_web::test]
async fn the_answer_to_a_repeat_never_carries_the_leads_id_status_or_priority() {
    let app = spawn_app().await;
    let victim = accepted(post(&app, &victims_enquiry()).await, 201).await;
    let lead = app.lead_of(&victim["id"]);

    let response = post(&app, &strangers_enquiry()).await;

    let text = response.text().await.unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_ne!(answer["id"], victim["id"]);
    for secret in [
        lead.to_string().as_str(),
        "urgent",
        "duplicate",
        "status",
        "new",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(
        app.lead_of(&answer["id"]),
        lead,
        "staff still see the merge"
    );
}

#[actix_web::test]
async fn a_repeats_contact_by_comes_from_its_own_receipt_time_not_the_leads_deadline() {
    let calendar = BusinessCalendar::us_default();
    let app = spawn_app().await;
    post(&app, &victims_enquiry()).await;
    let soon = Utc::now().trunc_subsecs(0) + chrono::TimeDelta::seconds(30);
    diesel::update(leads::table)
        .set(leads::contact_by.eq(soon))
        .execute(&mut app.connection())
        .unwrap();
    let before = Utc::now();

    let response = post(&app, &strangers_enquiry()).await;

    let after = Utc::now();
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    let contact_by: DateTime<Utc> = answer["contact_by"].as_str().unwrap().parse().unwrap();
    let own = calendar.contact_by(before).trunc_subsecs(0)..=calendar.contact_by(after);
    assert!(
        own.contains(&contact_by),
        "{contact_by} is not this receipt's deadline"
    );
    assert_eq!(status, 201);
}

#[actix_web::test]
async fn a_strangers_repeat_does_not_change_the_leads_name_email_phone_or_marketing_consent() {
    let app = spawn_app().await;
    post(&app, &victims_enquiry()).await;

    let response = post(&app, &strangers_enquiry()).await;

    let stranger: Value = response.json().await.unwrap();
    let lead: uuid::Uuid = leads::table
        .filter(leads::phone_e164.eq(E164))
        .select(leads::id)
        .first(&mut app.connection())
        .unwrap();
    type Contact = (Option<String>, Option<String>, Option<String>, Option<bool>);
    let (name, phone, email, consent): Contact = leads::table
        .find(lead)
        .select((
            leads::name,
            leads::phone,
            leads::email,
            leads::marketing_consent,
        ))
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(name.as_deref(), Some("Jane Doe"));
    assert_eq!(phone.as_deref(), Some(PHONE));
    assert_eq!(email.as_deref(), Some("jane@example.com"));
    assert_eq!(consent, Some(false));
    let (_, priority, interests) = lead_row(&app, &stranger["id"]);
    assert_eq!(priority, "urgent", "priority only rises");
    assert_eq!(interests, ["suicidal_ideation", "ptsd"]);
    let answers: Vec<(bool, Option<String>)> = consent_records::table
        .inner_join(lead_submissions::table)
        .order(consent_records::recorded_at)
        .select((consent_records::agreed, lead_submissions::name))
        .load(&mut app.connection())
        .unwrap();
    assert_eq!(
        answers,
        [
            (false, Some("Jane Doe".to_owned())),
            (true, Some(STRANGER_NAME.to_owned()))
        ],
        "each submission keeps its own consent record"
    );
}

#[actix_web::test]
async fn the_lead_detail_lists_the_other_names_and_emails_submitted_for_its_number() {
    let app = spawn_app().await;
    let reader = app.key(&["leads:read"]);
    let victim = accepted(post(&app, &victims_enquiry()).await, 201).await;
    let mut again = victims_enquiry();
    again["email"] = json!("JANE@example.com");
    post(&app, &again).await;
    let stranger = accepted(post(&app, &strangers_enquiry()).await, 201).await;
    let lead = app.lead_of(&victim["id"]);

    let detail: Value = app
        .get_with(&reader, &format!("/v1/leads/{lead}"))
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(detail["name"], "Jane Doe");
    let others = detail["other_contact_details"].as_array().unwrap();
    assert_eq!(others.len(), 1, "{others:?}");
    assert_eq!(others[0]["submission_id"], stranger["id"]);
    assert_eq!(others[0]["name"], STRANGER_NAME);
    assert_eq!(others[0]["email"], STRANGER_EMAIL);
    assert!(others[0]["received_at"].is_string());
}

#[actix_web::test]
async fn spam_with_a_victims_number_does_not_use_up_the_victims_per_phone_limit() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = lasting_window(2);
        settings.leads.min_fill = SLOW_FILL;
    })
    .await;
    for i in 0..5 {
        let mut bot = enquiry(PHONE);
        if i % 2 == 0 {
            bot["website"] = json!("https://spam.example");
        } else {
            bot["form_rendered_at"] = json!(Utc::now().to_rfc3339());
        }
        accepted(post(&app, &bot).await, 201).await;
    }

    let real = post(&app, &enquiry(PHONE)).await;

    let real = accepted(real, 201).await;
    assert_eq!(lead_row(&app, &real["id"]).0, "new");
}

#[actix_web::test]
async fn spam_still_counts_against_the_senders_address() {
    let app = spawn_app_with(|settings| settings.leads.rate_per_ip = lasting_window(2)).await;
    let mut bot = enquiry(PHONE);
    bot["website"] = json!("https://spam.example");
    post(&app, &bot).await;
    post(&app, &bot).await;

    let third = post(&app, &bot).await;

    problem(third, 429).await;
}

#[actix_web::test]
async fn a_stranger_reusing_someones_idempotency_key_with_another_body_does_not_make_the_real_enquiry_fail()
 {
    let app = spawn_app().await;
    let stranger = accepted(
        post_with_key(&app, "jane-key", &strangers_enquiry()).await,
        201,
    )
    .await;

    let real = post_with_key(&app, "jane-key", &victims_enquiry()).await;

    let real = accepted(real, 201).await;
    assert_ne!(real["id"], stranger["id"]);
    assert!(real["crisis_resources"].is_object());
    assert_eq!(submission_count(&app), 2, "the real enquiry is not lost");
    let real_replay = post_with_key(&app, "jane-key", &victims_enquiry()).await;
    let stranger_replay = post_with_key(&app, "jane-key", &strangers_enquiry()).await;
    assert_eq!(real_replay.headers()["idempotent-replayed"], "true");
    assert_eq!(accepted(real_replay, 201).await, real);
    assert_eq!(accepted(stranger_replay, 201).await, stranger);
    assert_eq!(submission_count(&app), 2);
}

#[actix_web::test]
async fn a_strangers_request_in_flight_with_the_same_key_does_not_block_the_real_one() {
    let app = spawn_app().await;
    // The lock a stranger's request with this key and another body holds while it runs.
    let mut in_flight = app.connection();
    let lock =
        beacon::services::leads::idempotency_lock("jane-key", &body_sha256(&strangers_enquiry()));
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock})"))
        .execute(&mut in_flight)
        .unwrap();

    let real = post_with_key(&app, "jane-key", &victims_enquiry()).await;

    accepted(real, 201).await;
    assert_eq!(submission_count(&app), 1);
}

#[actix_web::test]
async fn a_replayed_repeat_enquiry_returns_its_own_first_answer() {
    let app = spawn_app().await;
    post(&app, &victims_enquiry()).await;
    let first = accepted(
        post_with_key(&app, "stranger-key", &strangers_enquiry()).await,
        201,
    )
    .await;

    let replay = post_with_key(&app, "stranger-key", &strangers_enquiry()).await;

    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(accepted(replay, 201).await, first);
    assert_eq!(submission_count(&app), 2);
}
