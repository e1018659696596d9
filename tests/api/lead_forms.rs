//! `POST /v1/leads` from a plain HTML form: real `application/x-www-form-urlencoded` posts as a
//! browser sends them, and the answers a browser gets.

use beacon::db::schema::{consent_records, lead_submissions, leads};
use diesel::prelude::*;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const THANKS: &str = "https://clinic.example/thanks";
const CRISIS: &str = "https://clinic.example/help-now";

const FORM: &str = "name=Jane+Doe&phone=%28415%29+555-2671&interests=ptsd\
    &interests=treatment_resistant_depression&consent=on\
    &consent_text=I+agree+that+the+clinic+may+call+me.&consent_version=2026-03\
    &form_rendered_at=&website=";

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// As a browser posts a form from a landing page on another origin (no CORS preflight).
async fn submit(app: &TestApp, accept: &str, form: &str) -> reqwest::Response {
    browser()
        .post(app.url("/v1/leads"))
        .header("origin", "https://landing.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", accept)
        .body(form.to_owned())
        .send()
        .await
        .unwrap()
}

async fn with_pages() -> TestApp {
    spawn_app_with(|settings| {
        settings.leads.form_thanks_url = Some(THANKS.to_owned());
        settings.leads.form_crisis_url = Some(CRISIS.to_owned());
        settings.cors_origins = vec!["https://clinic.example".to_owned()];
    })
    .await
}

fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

fn lead_count(app: &TestApp) -> i64 {
    leads::table
        .count()
        .get_result(&mut app.connection())
        .unwrap()
}

#[actix_web::test]
async fn a_browser_form_post_is_recorded_and_sent_303_to_the_thank_you_page() {
    let app = with_pages().await;

    let response = submit(&app, BROWSER_ACCEPT, FORM).await;

    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), THANKS);
    let mut conn = app.connection();
    let (name, interests): (Option<String>, Option<Vec<Option<String>>>) = leads::table
        .select((leads::name, leads::interests))
        .first(&mut conn)
        .unwrap();
    assert_eq!(name.as_deref(), Some("Jane Doe"));
    assert_eq!(
        interests.unwrap(),
        [
            Some("ptsd".to_owned()),
            Some("treatment_resistant_depression".to_owned())
        ]
    );
    let (agreed, wording, version): (bool, String, Option<String>) = consent_records::table
        .select((
            consent_records::agreed,
            consent_records::wording,
            consent_records::form_version,
        ))
        .first(&mut conn)
        .unwrap();
    assert!(agreed);
    assert_eq!(wording, "I agree that the clinic may call me.");
    assert_eq!(version.as_deref(), Some("2026-03"));
}

#[actix_web::test]
async fn a_form_reporting_suicidal_thoughts_is_sent_to_the_crisis_page() {
    let app = with_pages().await;

    let response = submit(
        &app,
        BROWSER_ACCEPT,
        &format!("{FORM}&interests=suicidal_ideation"),
    )
    .await;

    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), CRISIS);
    assert_eq!(lead_count(&app), 1);
}

#[actix_web::test]
async fn without_configured_pages_the_browser_gets_beacons_own_crisis_and_thanks_pages() {
    let app = spawn_app().await;

    let crisis = submit(
        &app,
        BROWSER_ACCEPT,
        &format!("{FORM}&interests=suicidal_ideation"),
    )
    .await;
    let thanks = submit(&app, BROWSER_ACCEPT, "name=John&phone=2125550143").await;

    assert_eq!(crisis.status(), 200);
    assert!(
        crisis.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = crisis.text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">"), "{page}");
    assert!(
        page.contains("988"),
        "the configured resources are listed: {page}"
    );
    assert_eq!(thanks.status(), 200);
    assert!(
        thanks
            .text()
            .await
            .unwrap()
            .contains("<title>Thank you</title>")
    );
    assert_eq!(lead_count(&app), 2);
}

#[actix_web::test]
async fn field_errors_are_an_accessible_html_page_with_every_value_escaped() {
    let app = with_pages().await;

    let response = submit(
        &app,
        BROWSER_ACCEPT,
        "name=&phone=555-1234&email=%3Cscript%3Ealert(1)%3C%2Fscript%3E&interests=no+such\
         &redirect=https%3A%2F%2Fclinic.example%2F%22%3E%3Cscript%3E",
    )
    .await;

    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = response.text().await.unwrap();
    assert_eq!(status, 422, "{page}");
    assert!(content_type.starts_with("text/html"));
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("<title>"),
        "{page}"
    );
    assert!(page.contains("role=\"alert\""), "{page}");
    for field in ["name", "phone", "email", "interests"] {
        assert!(
            page.contains(&format!("<strong>{field}</strong>")),
            "{field}: {page}"
        );
    }
    assert!(!page.contains("<script>"), "{page}");
    assert!(
        page.contains("href=\"https://clinic.example\""),
        "a way back: {page}"
    );
    assert_eq!(lead_count(&app), 0);
}

#[actix_web::test]
async fn a_redirect_to_an_origin_not_allowed_is_ignored_never_an_open_redirect() {
    let app = with_pages().await;

    let evil = submit(
        &app,
        BROWSER_ACCEPT,
        &format!("{FORM}&redirect=https%3A%2F%2Fevil.example%2Fphish"),
    )
    .await;
    let allowed = submit(
        &app,
        BROWSER_ACCEPT,
        "name=John&phone=2125550143&redirect=https%3A%2F%2Fclinic.example%2Fspring%2Fthanks",
    )
    .await;

    assert_eq!(evil.status(), 303);
    assert_eq!(location(&evil), THANKS);
    assert_eq!(allowed.status(), 303);
    assert_eq!(location(&allowed), "https://clinic.example/spring/thanks");
}

#[actix_web::test]
async fn json_clients_keep_their_answers_whatever_the_body_type() {
    let app = with_pages().await;

    let form = submit(&app, "application/json", FORM).await;
    let json = browser()
        .post(app.url("/v1/leads"))
        .json(&serde_json::json!({"name": "John", "phone": "(212) 555-0143"}))
        .send()
        .await
        .unwrap();
    let invalid = submit(&app, "*/*", "name=&phone=1").await;

    assert_eq!(form.status(), 201);
    assert_eq!(form.headers()["content-type"], "application/json");
    let receipt: Value = form.json().await.unwrap();
    let fields: Vec<&String> = receipt.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["contact_by", "id"]);
    assert_eq!(json.status(), 201);
    assert_eq!(json.headers()["content-type"], "application/json");
    assert_eq!(invalid.status(), 422);
    assert_eq!(
        invalid.headers()["content-type"],
        "application/problem+json"
    );
}

#[actix_web::test]
async fn a_form_with_its_honeypot_filled_is_quarantined_and_answered_the_same() {
    let app = with_pages().await;

    let response = submit(
        &app,
        BROWSER_ACCEPT,
        &FORM.replace("website=", "website=spam"),
    )
    .await;

    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), THANKS);
    let spam: Option<String> = lead_submissions::table
        .select(lead_submissions::spam_reason)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(spam.as_deref(), Some("honeypot"));
}

#[actix_web::test]
async fn an_idempotency_key_on_a_form_post_replays_and_records_once() {
    let app = with_pages().await;
    let post = || {
        browser()
            .post(app.url("/v1/leads"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", BROWSER_ACCEPT)
            .header("idempotency-key", "form-1")
            .body(FORM)
            .send()
    };

    let first = post().await.unwrap();
    let again = post().await.unwrap();

    assert_eq!(
        (first.status().as_u16(), again.status().as_u16()),
        (303, 303)
    );
    assert_eq!(lead_count(&app), 1);
    let submissions: i64 = lead_submissions::table
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(submissions, 1);
}

#[actix_web::test]
async fn a_stranger_posting_a_known_number_from_a_form_learns_nothing_and_overwrites_nothing() {
    let app = with_pages().await;
    let first = submit(&app, BROWSER_ACCEPT, FORM).await;
    let stranger_form = FORM.replace("name=Jane+Doe", "name=Mallory+Smith");

    let repeat = submit(&app, BROWSER_ACCEPT, &stranger_form).await;

    // The same answer a first enquiry gets: nothing tells the number enquired before.
    assert_eq!(repeat.status(), first.status());
    assert_eq!(location(&repeat), location(&first));
    let header_names = |response: &reqwest::Response| {
        let mut names: Vec<String> = response.headers().keys().map(|k| k.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(header_names(&repeat), header_names(&first));
    // The enquiry is kept, and the person's details are not replaced by the stranger's.
    let name: Option<String> = leads::table
        .select(leads::name)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(name.as_deref(), Some("Jane Doe"));
    assert_eq!(lead_count(&app), 1);
    let submissions: i64 = lead_submissions::table
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(submissions, 2);
}

/// The status, `Content-Type` and body of an answer.
async fn page_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

#[actix_web::test]
async fn a_browser_over_the_network_limit_gets_an_html_429_page_and_a_json_client_a_problem() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = beacon::domain::rate_limit::FixedWindow::per_minute(1);
        settings.leads.form_thanks_url = Some(THANKS.to_owned());
    })
    .await;
    submit(&app, BROWSER_ACCEPT, FORM).await;

    let browser = submit(&app, BROWSER_ACCEPT, "name=John&phone=2125550143").await;
    let json = submit(&app, "application/json", "name=John&phone=2125550143").await;

    let retry_after = browser.headers()["retry-after"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, content_type, page) = page_of(browser).await;
    assert_eq!(status, 429, "{page}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(retry_after.parse::<u64>().unwrap() <= 60);
    assert!(page.contains("<title>Too many enquiries</title>"), "{page}");
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(
        page.contains("href=\"https://clinic.example\""),
        "a way back: {page}"
    );
    crate::helpers::problem(json, 429).await;
    assert_eq!(lead_count(&app), 1);
}

#[actix_web::test]
async fn a_browser_form_too_large_gets_an_html_413_page_and_a_json_client_a_problem() {
    let app = spawn_app_with(|settings| settings.max_body_bytes = 1024).await;
    let long = format!("{FORM}&message={}", "a".repeat(2_000));

    let browser = submit(&app, BROWSER_ACCEPT, &long).await;
    let json = submit(&app, "application/json", &long).await;

    let (status, content_type, page) = page_of(browser).await;
    assert_eq!(status, 413, "{page}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("shorten your message"), "{page}");
    assert!(page.contains("Back button"), "{page}");
    crate::helpers::problem(json, 413).await;
    assert_eq!(lead_count(&app), 0);
}

#[actix_web::test]
async fn a_browser_form_sent_again_while_the_first_is_recorded_gets_an_html_409_page() {
    use sha2::{Digest, Sha256};
    let app = spawn_app().await;
    let form = "name=Jane&phone=4155552671";
    // The lock the request holds while it runs: the key, and the hash of the form as JSON.
    let document = serde_json::json!({"name": "Jane", "phone": "4155552671"});
    let sha256: [u8; 32] = Sha256::digest(serde_json::to_vec(&document).unwrap()).into();
    let lock = beacon::services::leads::idempotency_lock("key-1", &sha256);
    let mut in_flight = app.connection();
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock})"))
        .execute(&mut in_flight)
        .unwrap();

    let during = browser()
        .post(app.url("/v1/leads"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", BROWSER_ACCEPT)
        .header("idempotency-key", "key-1")
        .body(form)
        .send()
        .await
        .unwrap();
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock})"))
        .execute(&mut in_flight)
        .unwrap();

    let (status, content_type, page) = page_of(during).await;
    assert_eq!(status, 409, "{page}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("will not be recorded twice"), "{page}");
    assert_eq!(lead_count(&app), 0);
}
