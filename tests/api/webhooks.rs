//! `/v1/webhooks`: subscriptions, their validation and the audit of personal data; and the
//! delivery of events to real local receivers: signed, retried, dead-lettered, de-identified,
//! refused for private targets, exactly once with two processes on one database.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use beacon::config::Settings;
use beacon::domain::rate_limit::FixedWindow;
use beacon::domain::webhook::RetrySchedule;
use beacon::startup::Application;
use diesel::prelude::*;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use futures_util::StreamExt;

use crate::helpers::{TestApp, error_pointers, problem, spawn_app, spawn_app_with};
use crate::lead_admin::{enquire, person};

async fn create(app: &TestApp, admin: &str, body: Value) -> reqwest::Response {
    app.post_json(admin, "/v1/webhooks", &body).await
}

async fn audit_actions(app: &TestApp, admin: &str) -> Vec<Value> {
    let body: Value = app
        .get_with(admin, "/v1/audit?action=webhook.personal_data_enabled")
        .await
        .json()
        .await
        .unwrap();
    body["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn creating_a_webhook_returns_it_with_a_whsec_secret_shown_only_then() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = create(
        &app,
        &admin,
        json!({"url": "https://crm.example.com/hook", "events": ["lead.created"],
               "description": "CRM"}),
    )
    .await;

    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/webhooks/{id}"));
    assert_eq!(created["url"], "https://crm.example.com/hook");
    assert_eq!(created["events"], json!(["lead.created"]));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["include_personal_data"], false);
    assert_eq!(created["format"], "standard");
    assert_eq!(created["description"], "CRM");
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));

    let fetched = app.get_with(&admin, &location).await.text().await.unwrap();
    let listed = app
        .get_with(&admin, "/v1/webhooks")
        .await
        .text()
        .await
        .unwrap();
    for text in [&fetched, &listed] {
        assert!(text.contains(id));
        assert!(!text.contains(secret));
        assert!(!text.contains("secret"));
    }
}

#[actix_web::test]
async fn invalid_webhook_fields_are_field_errors() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = create(
        &app,
        &admin,
        json!({"url": "ftp://example.com", "events": ["lead.deleted"], "format": "teams",
               "description": "a\nb"}),
    )
    .await;

    let problem = problem(response, 422).await;
    assert_eq!(
        error_pointers(&problem),
        vec!["/url", "/events", "/description", "/format"]
    );
}

#[actix_web::test]
async fn a_wildcard_must_stand_alone_and_slack_never_carries_personal_data() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let mixed = create(
        &app,
        &admin,
        json!({"url": "https://example.com/h", "events": ["*", "lead.created"]}),
    )
    .await;
    let slack = create(
        &app,
        &admin,
        json!({"url": "https://hooks.slack.com/x", "events": ["*"], "format": "slack",
               "include_personal_data": true}),
    )
    .await;

    assert_eq!(error_pointers(&problem(mixed, 422).await), vec!["/events"]);
    assert_eq!(
        error_pointers(&problem(slack, 422).await),
        vec!["/include_personal_data"]
    );
}

#[actix_web::test]
async fn turning_on_personal_data_is_audited_once_per_switch() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let created: Value = create(
        &app,
        &admin,
        json!({"url": "https://crm.example.com/hook", "events": ["*"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/v1/webhooks/{}", created["id"].as_str().unwrap());
    assert!(audit_actions(&app, &admin).await.is_empty());

    let on = app
        .patch_json(&admin, &path, &json!({"include_personal_data": true}))
        .await;
    assert_eq!(on.status(), 200);
    let again = app
        .patch_json(
            &admin,
            &path,
            &json!({"include_personal_data": true, "enabled": false}),
        )
        .await;
    let again: Value = again.json().await.unwrap();

    assert_eq!(again["include_personal_data"], true);
    assert_eq!(again["enabled"], false);
    let entries = audit_actions(&app, &admin).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["filter"]["webhook_id"], created["id"]);
    assert_eq!(entries[0]["key_name"], "test key");
}

#[actix_web::test]
async fn creating_with_personal_data_is_audited() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = create(
        &app,
        &admin,
        json!({"url": "https://crm.example.com/hook", "events": ["lead.created"],
               "include_personal_data": true}),
    )
    .await;

    assert_eq!(response.status(), 201);
    assert_eq!(audit_actions(&app, &admin).await.len(), 1);
}

#[actix_web::test]
async fn updating_changes_only_the_fields_sent_and_null_clears_the_description() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let created: Value = create(
        &app,
        &admin,
        json!({"url": "https://crm.example.com/hook", "events": ["lead.created"],
               "description": "CRM"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/v1/webhooks/{}", created["id"].as_str().unwrap());

    let response = app
        .patch_json(
            &admin,
            &path,
            &json!({"events": ["article.published", "article.updated"], "description": null,
                    "format": "slack"}),
        )
        .await;

    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["url"], "https://crm.example.com/hook");
    assert_eq!(
        updated["events"],
        json!(["article.published", "article.updated"])
    );
    assert_eq!(updated["description"], Value::Null);
    assert_eq!(updated["format"], "slack");
    let bad = app.patch_json(&admin, &path, &json!({"url": "nope"})).await;
    assert_eq!(error_pointers(&problem(bad, 422).await), vec!["/url"]);
}

#[actix_web::test]
async fn deleting_a_webhook_makes_it_a_404() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let created: Value = create(
        &app,
        &admin,
        json!({"url": "https://crm.example.com/hook", "events": ["*"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let path = format!("/v1/webhooks/{}", created["id"].as_str().unwrap());

    assert_eq!(app.delete_with(&admin, &path).await.status(), 204);

    problem(app.get_with(&admin, &path).await, 404).await;
    problem(app.delete_with(&admin, &path).await, 404).await;
}

#[actix_web::test]
async fn webhooks_page_newest_first_with_a_cursor() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let mut ids = Vec::new();
    for n in 0..3 {
        let created: Value = create(
            &app,
            &admin,
            json!({"url": format!("https://example.com/{n}"), "events": ["*"]}),
        )
        .await
        .json()
        .await
        .unwrap();
        ids.push(created["id"].clone());
    }

    let first: Value = app
        .get_with(&admin, "/v1/webhooks?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get_with(&admin, &format!("/v1/webhooks?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();

    let seen: Vec<Value> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|item| item["id"].clone())
        .collect();
    ids.reverse();
    assert_eq!(seen, ids);
    assert_eq!(second["next_cursor"], Value::Null);
    problem(app.get_with(&admin, "/v1/webhooks?limit=0").await, 400).await;
}

// --- delivery ---

/// One request a receiver got.
#[derive(Clone)]
struct Received {
    at: Instant,
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct ReceiverState {
    received: Mutex<Vec<Received>>,
    /// `(status, Retry-After)` for the next requests; 200 once they run out.
    answers: Mutex<VecDeque<(u16, Option<&'static str>)>>,
}

/// A local HTTP server that records what it receives and answers as told.
struct Receiver {
    url: String,
    state: web::Data<ReceiverState>,
}

fn header(req: &HttpRequest, name: &str) -> String {
    req.headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReceiverState>,
) -> HttpResponse {
    state.received.lock().unwrap().push(Received {
        at: Instant::now(),
        id: header(&req, "webhook-id"),
        timestamp: header(&req, "webhook-timestamp"),
        signature: header(&req, "webhook-signature"),
        body: body.to_vec(),
    });
    let answer = state.answers.lock().unwrap().pop_front();
    let (status, retry_after) = answer.unwrap_or((200, None));
    let mut response = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if let Some(retry_after) = retry_after {
        response.insert_header(("retry-after", retry_after));
    }
    response.finish()
}

async fn receiver(answers: &[(u16, Option<&'static str>)]) -> Receiver {
    serve(answers, None).await
}

/// A receiver over https with a self-signed certificate for `localhost`; returns it with the
/// certificate (DER) a client must trust to reach it.
async fn tls_receiver() -> (Receiver, Vec<u8>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let root = certified.cert.der().to_vec();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    (serve(&[], Some(config)).await, root)
}

async fn serve(
    answers: &[(u16, Option<&'static str>)],
    tls: Option<rustls::ServerConfig>,
) -> Receiver {
    let state = web::Data::new(ReceiverState::default());
    state
        .answers
        .lock()
        .unwrap()
        .extend(answers.iter().copied());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let shared = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .default_service(web::to(receive))
    })
    .workers(1);
    let url = match tls {
        Some(config) => {
            actix_web::rt::spawn(server.listen_rustls_0_23(listener, config).unwrap().run());
            format!("https://localhost:{port}/hook")
        }
        None => {
            actix_web::rt::spawn(server.listen(listener).unwrap().run());
            format!("http://127.0.0.1:{port}/hook")
        }
    };
    Receiver { url, state }
}

impl Receiver {
    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Polls until `count` requests arrived, or fails after a deadline.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} of {count} requests",
                received.len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn settings_for_delivery(settings: &mut Settings, schedule: &str) {
    settings.leads.rate_per_ip = FixedWindow::per_minute(0);
    settings.leads.rate_per_phone = FixedWindow::per_hour(0);
    settings.events.scan_interval = None;
    settings.events.allow_private_targets = true;
    settings.events.retry_schedule = RetrySchedule::parse(schedule).unwrap();
}

async fn delivering_app(schedule: &str) -> TestApp {
    spawn_app_with(|settings| settings_for_delivery(settings, schedule)).await
}

/// Subscribes `url` to every event; returns the secret.
async fn subscribe(app: &TestApp, admin: &str, url: &str, personal: bool) -> String {
    let response = create(
        app,
        admin,
        json!({"url": url, "events": ["*"], "include_personal_data": personal}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

/// Standard Webhooks verification written from the specification, apart from Beacon's signer.
fn verifies(secret: &str, received: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(received.id.as_bytes());
    mac.update(b".");
    mac.update(received.timestamp.as_bytes());
    mac.update(b".");
    mac.update(&received.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    received
        .signature
        .split(' ')
        .any(|candidate| candidate == format!("v1,{expected}"))
}

/// The `standardwebhooks` crate (the specification's reference library) verifying it.
fn reference_verifies(secret: &str, received: &Received) -> bool {
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in [
        ("webhook-id", &received.id),
        ("webhook-timestamp", &received.timestamp),
        ("webhook-signature", &received.signature),
    ] {
        headers.insert(name, value.parse().unwrap());
    }
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(&received.body, &headers)
        .is_ok()
}

fn delivery_states(app: &TestApp) -> Vec<(String, i32)> {
    use beacon::db::schema::webhook_deliveries as d;
    d::table
        .select((d::state, d::attempts))
        .load(&mut app.connection())
        .unwrap()
}

async fn wait_for_state(app: &TestApp, state: &str) -> Vec<(String, i32)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let states = delivery_states(app);
        if !states.is_empty() && states.iter().all(|(s, _)| s == state) {
            return states;
        }
        assert!(Instant::now() < deadline, "deliveries are {states:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_delivery_is_signed_so_that_an_independent_verifier_accepts_it() {
    let app = delivering_app("0s").await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[]).await;
    let secret = subscribe(&app, &admin, &receiver.url, false).await;

    let lead = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    let received = receiver.wait_for(1).await.remove(0);
    assert!(verifies(&secret, &received));
    assert!(reference_verifies(&secret, &received));
    let mut tampered = received.clone();
    tampered.body.push(b' ');
    assert!(!verifies(&secret, &tampered));
    assert!(!reference_verifies(&secret, &tampered));
    let now = chrono::Utc::now().timestamp();
    let timestamp: i64 = received.timestamp.parse().unwrap();
    assert!((now - timestamp).abs() < 60);
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(body["id"], received.id.as_str());
    assert_eq!(body["type"], "lead.created");
    assert!(body["occurred_at"].is_string());
    assert_eq!(body["data"]["lead_id"], lead.to_string());
    wait_for_state(&app, "delivered").await;
}

#[actix_web::test]
async fn a_receiver_failing_twice_gets_the_event_on_the_third_attempt() {
    let app = delivering_app("0s,0s,0s").await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[(500, None), (502, None)]).await;
    subscribe(&app, &admin, &receiver.url, false).await;

    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    let received = receiver.wait_for(3).await;
    assert!(
        received
            .iter()
            .all(|r| r.id == received[0].id && r.body == received[0].body)
    );
    assert_eq!(
        wait_for_state(&app, "delivered").await,
        [("delivered".to_owned(), 3)]
    );
    use beacon::db::schema::webhook_attempts as a;
    let attempts: Vec<(i32, Option<i32>, Option<String>)> = a::table
        .select((a::number, a::status_code, a::error))
        .order(a::number)
        .load(&mut app.connection())
        .unwrap();
    assert_eq!(
        attempts,
        [
            (1, Some(500), Some("HTTP 500".to_owned())),
            (2, Some(502), Some("HTTP 502".to_owned())),
            (3, Some(200), None)
        ]
    );
}

#[actix_web::test]
async fn a_retry_after_on_503_is_honoured() {
    let app = delivering_app("0s,0s").await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[(503, Some("2"))]).await;
    subscribe(&app, &admin, &receiver.url, false).await;

    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    let received = receiver.wait_for(2).await;
    let gap = received[1].at - received[0].at;
    assert!(gap >= Duration::from_millis(1900), "retried after {gap:?}");
    wait_for_state(&app, "delivered").await;
}

#[actix_web::test]
async fn a_delivery_failing_every_attempt_of_the_schedule_is_dead_lettered() {
    let app = delivering_app("0s,0s").await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[(500, None), (500, None), (500, None)]).await;
    subscribe(&app, &admin, &receiver.url, false).await;

    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    assert_eq!(
        wait_for_state(&app, "failed").await,
        [("failed".to_owned(), 2)]
    );
    assert_eq!(receiver.received().len(), 2);
}

#[actix_web::test]
async fn only_a_subscription_that_opted_in_receives_personal_or_health_data() {
    let app = delivering_app("0s").await;
    let admin = app.key(&["admin"]);
    let plain = receiver(&[]).await;
    let opted_in = receiver(&[]).await;
    subscribe(&app, &admin, &plain.url, false).await;
    subscribe(&app, &admin, &opted_in.url, true).await;
    let mut body = person("Zelda Quixote", "(415) 555-0199");
    body["email"] = json!("zelda.quixote@example.com");
    body["interests"] = json!(["suicidal_ideation", "ptsd"]);
    body["message"] = json!("Flashbacks every night since the accident");

    enquire(&app, body).await;

    let plain = String::from_utf8(plain.wait_for(1).await.remove(0).body)
        .unwrap()
        .to_lowercase();
    let opted_in = String::from_utf8(opted_in.wait_for(1).await.remove(0).body)
        .unwrap()
        .to_lowercase();
    for secret in [
        "zelda",
        "quixote",
        "555-0199",
        "5550199",
        "zelda.quixote@example.com",
        "suicidal",
        "ptsd",
        "flashbacks",
        "urgent",
        "priority",
    ] {
        assert!(!plain.contains(secret), "the payload shows {secret:?}");
    }
    assert!(opted_in.contains("zelda quixote"));
    assert!(opted_in.contains("suicidal_ideation"));
}

#[actix_web::test]
async fn a_private_target_is_refused_at_create_and_at_delivery() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.events.scan_interval = None;
        settings.events.retry_schedule = RetrySchedule::parse("0s").unwrap();
    })
    .await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[]).await;

    for url in [
        receiver.url.clone(),
        "http://localhost:9/hook".to_owned(),
        "http://169.254.169.254/latest".to_owned(),
        "http://[::1]/hook".to_owned(),
    ] {
        let response = create(&app, &admin, json!({"url": url, "events": ["*"]})).await;
        assert_eq!(
            error_pointers(&problem(response, 422).await),
            vec!["/url"],
            "{url}"
        );
    }
    // Stored around the check (as if its address changed after it was created):
    // the delivery checks again.
    let input = beacon::services::webhooks::WebhookInput {
        url: Some(receiver.url.clone()),
        events: Some(vec!["*".to_owned()]),
        ..Default::default()
    };
    beacon::services::webhooks::create(
        &mut app.connection(),
        beacon::services::webhooks::NewWebhook::parse(input).unwrap(),
        &beacon::services::audit::Actor::system("test"),
        chrono::Utc::now(),
    )
    .unwrap();
    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    wait_for_state(&app, "failed").await;
    assert!(receiver.received().is_empty());
    use beacon::db::schema::webhook_attempts as a;
    let errors: Vec<Option<String>> = a::table
        .select(a::error)
        .load(&mut app.connection())
        .unwrap();
    assert_eq!(
        errors,
        [Some(
            "the host resolves to a private, loopback, link-local or metadata address".to_owned()
        )]
    );
}

/// Starts another Beacon process on the app's database, with its own delivery workers.
async fn second_process(app: &TestApp, configure: impl FnOnce(&mut Settings)) {
    let mut settings = Settings::from_lookup(|_| None).unwrap();
    settings.database_url = Some(app.database_url.clone());
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.database.pool_size = 4;
    configure(&mut settings);
    let second = Application::build(settings).await.unwrap();
    actix_web::rt::spawn(second.run_until_stopped());
}

#[actix_web::test]
async fn two_processes_on_one_database_deliver_each_event_exactly_once() {
    let app = delivering_app("0s,0s,0s").await;
    second_process(&app, |settings| settings_for_delivery(settings, "0s,0s,0s")).await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[]).await;
    subscribe(&app, &admin, &receiver.url, false).await;
    let leads = 500;

    // Eight enquiries at a time: the workers of both processes deliver while intake goes on.
    futures_util::stream::iter(0..leads)
        .for_each_concurrent(8, |n| {
            let app = &app;
            async move {
                enquire(
                    app,
                    person("Ada Lovelace", &format!("(415) 555-{:04}", 1000 + n)),
                )
                .await;
            }
        })
        .await;

    let received = receiver.wait_for(leads).await;
    assert_eq!(wait_for_state(&app, "delivered").await.len(), leads);
    let mut ids: Vec<String> = received.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), leads);
    assert_eq!(receiver.received().len(), leads);
}

#[actix_web::test]
async fn the_deliveries_list_shows_each_attempt_with_its_status_and_error() {
    let app = delivering_app("0s,0s").await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[(500, None)]).await;
    let created: Value = create(&app, &admin, json!({"url": receiver.url, "events": ["*"]}))
        .await
        .json()
        .await
        .unwrap();
    let path = format!(
        "/v1/webhooks/{}/deliveries",
        created["id"].as_str().unwrap()
    );

    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    receiver.wait_for(2).await;
    wait_for_state(&app, "delivered").await;

    let page: Value = app.get_with(&admin, &path).await.json().await.unwrap();
    let delivery = &page["items"][0];
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(delivery["event_type"], "lead.created");
    assert_eq!(delivery["state"], "delivered");
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts[0]["error"], "HTTP 500");
    assert!(attempts[0]["next_attempt_at"].is_string());
    assert_eq!(attempts[1]["status_code"], 200);
    assert_eq!(attempts[1]["error"], Value::Null);
    assert_eq!(page["next_cursor"], Value::Null);
    let unknown = format!("/v1/webhooks/{}/deliveries", uuid::Uuid::now_v7());
    problem(app.get_with(&admin, &unknown).await, 404).await;
}

#[actix_web::test]
async fn a_dead_lettered_delivery_retried_by_hand_is_sent_once_more() {
    let app = delivering_app("0s").await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[(500, None)]).await;
    let created: Value = create(&app, &admin, json!({"url": receiver.url, "events": ["*"]}))
        .await
        .json()
        .await
        .unwrap();
    let webhook = created["id"].as_str().unwrap().to_owned();
    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    wait_for_state(&app, "failed").await;
    let page: Value = app
        .get_with(&admin, &format!("/v1/webhooks/{webhook}/deliveries"))
        .await
        .json()
        .await
        .unwrap();
    let delivery = page["items"][0]["id"].as_str().unwrap().to_owned();
    let retry = format!("/v1/webhooks/{webhook}/deliveries/{delivery}/retry");

    let response = app.post_json(&admin, &retry, &json!({})).await;

    assert_eq!(response.status(), 202);
    let received = receiver.wait_for(2).await;
    assert_eq!(received[0].id, received[1].id);
    assert_eq!(
        wait_for_state(&app, "delivered").await,
        [("delivered".to_owned(), 2)]
    );
    let unknown = format!(
        "/v1/webhooks/{webhook}/deliveries/{}/retry",
        uuid::Uuid::now_v7()
    );
    problem(app.post_json(&admin, &unknown, &json!({})).await, 404).await;
}

// --- TLS, DNS pinning, rotation, test events, disabling, leases ---

#[actix_web::test]
async fn an_https_receiver_is_reached_over_tls_only_when_its_certificate_is_trusted() {
    let (trusted, root) = tls_receiver().await;
    let app = spawn_app_with(|settings| {
        settings_for_delivery(settings, "0s");
        settings.events.extra_tls_roots = vec![root];
    })
    .await;
    let admin = app.key(&["admin"]);
    let secret = subscribe(&app, &admin, &trusted.url, false).await;
    let (untrusted, _) = tls_receiver().await;
    subscribe(&app, &admin, &untrusted.url, false).await;

    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    let received = trusted.wait_for(1).await.remove(0);
    assert!(verifies(&secret, &received));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut states = delivery_states(&app);
    while states.iter().any(|(state, _)| state == "pending") {
        assert!(Instant::now() < deadline, "deliveries are {states:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        states = delivery_states(&app);
    }
    states.sort();
    assert_eq!(
        states,
        [("delivered".to_owned(), 1), ("failed".to_owned(), 1)]
    );
    // The certificate nobody vouches for never gets the request.
    assert!(untrusted.received().is_empty());
}

/// Creates a subscription without the create-time check, as if its host's address changed
/// after it was created.
fn subscribe_unchecked(app: &TestApp, url: &str, events: &[&str]) -> uuid::Uuid {
    use beacon::services::webhooks::{NewWebhook, WebhookInput, create};
    let input = WebhookInput {
        url: Some(url.to_owned()),
        events: Some(events.iter().map(|name| (*name).to_owned()).collect()),
        ..Default::default()
    };
    create(
        &mut app.connection(),
        NewWebhook::parse(input).unwrap(),
        &beacon::services::audit::Actor::system("test"),
        chrono::Utc::now(),
    )
    .unwrap()
    .webhook
    .id
}

#[actix_web::test]
async fn a_host_name_resolving_to_a_private_address_is_refused_by_the_connection_itself() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.events.scan_interval = None;
        settings.events.retry_schedule = RetrySchedule::parse("0s").unwrap();
    })
    .await;
    let receiver = receiver(&[]).await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    subscribe_unchecked(&app, &by_name, &["*"]);

    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    wait_for_state(&app, "failed").await;
    assert!(receiver.received().is_empty());
    use beacon::db::schema::webhook_attempts as a;
    let errors: Vec<Option<String>> = a::table
        .select(a::error)
        .load(&mut app.connection())
        .unwrap();
    assert_eq!(
        errors,
        [Some(
            "the host resolves to a private, loopback, link-local or metadata address".to_owned()
        )]
    );
}

async fn send_test(app: &TestApp, admin: &str, webhook: &str) -> reqwest::Response {
    app.post_json(admin, &format!("/v1/webhooks/{webhook}/test"), &json!({}))
        .await
}

#[actix_web::test]
async fn a_test_event_goes_signed_to_that_subscription_only_and_is_listed_in_its_deliveries() {
    let app = delivering_app("0s").await;
    let admin = app.key(&["admin"]);
    let tested = receiver(&[]).await;
    let other = receiver(&[]).await;
    let created: Value = create(&app, &admin, json!({"url": tested.url, "events": ["*"]}))
        .await
        .json()
        .await
        .unwrap();
    let webhook = created["id"].as_str().unwrap().to_owned();
    subscribe(&app, &admin, &other.url, false).await;

    let response = send_test(&app, &admin, &webhook).await;

    assert_eq!(response.status(), 202);
    let queued: Value = response.json().await.unwrap();
    let received = tested.wait_for(1).await.remove(0);
    assert!(verifies(created["secret"].as_str().unwrap(), &received));
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(body["type"], "webhook.test");
    assert_eq!(body["data"]["webhook_id"], webhook.as_str());
    assert_eq!(wait_for_state(&app, "delivered").await.len(), 1);
    assert!(other.received().is_empty());
    let page: Value = app
        .get_with(&admin, &format!("/v1/webhooks/{webhook}/deliveries"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], queued["delivery_id"]);
    assert_eq!(page["items"][0]["event_type"], "webhook.test");
    assert_eq!(page["items"][0]["state"], "delivered");
    let feed: Value = app
        .get_with(&admin, "/v1/events")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(feed["items"], json!([]));

    let path = format!("/v1/webhooks/{webhook}");
    app.patch_json(&admin, &path, &json!({"enabled": false}))
        .await;
    problem(send_test(&app, &admin, &webhook).await, 409).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    problem(send_test(&app, &admin, &unknown).await, 404).await;
}

#[actix_web::test]
async fn after_a_rotation_both_secrets_verify_during_the_overlap_and_only_the_new_one_after() {
    let app = spawn_app_with(|settings| {
        settings_for_delivery(settings, "0s");
        settings.events.secret_overlap = Duration::from_secs(2);
    })
    .await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[]).await;
    let created: Value = create(&app, &admin, json!({"url": receiver.url, "events": ["*"]}))
        .await
        .json()
        .await
        .unwrap();
    let webhook = created["id"].as_str().unwrap().to_owned();
    let old = created["secret"].as_str().unwrap().to_owned();

    let response = app
        .post_json(
            &admin,
            &format!("/v1/webhooks/{webhook}/rotate-secret"),
            &json!({}),
        )
        .await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let rotated: Value = response.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_"));
    assert_ne!(new, old);
    let expires: chrono::DateTime<chrono::Utc> = rotated["previous_secret_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    assert_eq!(send_test(&app, &admin, &webhook).await.status(), 202);
    let during = receiver.wait_for(1).await.remove(0);
    assert_eq!(during.signature.split(' ').count(), 2);
    for secret in [&old, &new] {
        assert!(verifies(secret, &during));
        assert!(reference_verifies(secret, &during));
    }

    while chrono::Utc::now() <= expires {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(send_test(&app, &admin, &webhook).await.status(), 202);
    let after = receiver.wait_for(2).await.remove(1);
    assert_eq!(after.signature.split(' ').count(), 1);
    assert!(verifies(&new, &after));
    assert!(reference_verifies(&new, &after));
    assert!(!verifies(&old, &after));
    assert!(!reference_verifies(&old, &after));
    let unknown = format!("/v1/webhooks/{}/rotate-secret", uuid::Uuid::now_v7());
    problem(app.post_json(&admin, &unknown, &json!({})).await, 404).await;
}

#[actix_web::test]
async fn an_endpoint_failing_for_the_disable_after_time_is_disabled_once_and_the_others_are_told() {
    // Thirty attempts 100 ms apart: far longer than the one second it may fail.
    let schedule = format!("0s{}", ",100ms".repeat(29));
    let configure = |settings: &mut Settings| {
        settings_for_delivery(settings, &schedule);
        settings.events.disable_after = Duration::from_secs(1);
    };
    let app = spawn_app_with(configure).await;
    second_process(&app, configure).await;
    let admin = app.key(&["admin"]);
    let failing = receiver(&[(500, None); 200]).await;
    let watcher = receiver(&[]).await;
    let created: Value = create(
        &app,
        &admin,
        json!({"url": failing.url, "events": ["lead.created"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let webhook = created["id"].as_str().unwrap().to_owned();
    let watcher_secret: Value = create(
        &app,
        &admin,
        json!({"url": watcher.url, "events": ["webhook.disabled"]}),
    )
    .await
    .json()
    .await
    .unwrap();

    for n in 0..3 {
        enquire(
            &app,
            person("Ada Lovelace", &format!("(415) 555-{:04}", 1000 + n)),
        )
        .await;
    }

    let told = watcher.wait_for(1).await.remove(0);
    assert!(verifies(watcher_secret["secret"].as_str().unwrap(), &told));
    let body: Value = serde_json::from_slice(&told.body).unwrap();
    assert_eq!(body["type"], "webhook.disabled");
    assert_eq!(body["data"]["webhook_id"], webhook.as_str());
    assert!(body["data"]["failing_since"].is_string());
    let now: Value = app
        .get_with(&admin, &format!("/v1/webhooks/{webhook}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["enabled"], false);
    use beacon::db::schema::events as e;
    let disabled: i64 = e::table
        .filter(e::type_.eq("webhook.disabled"))
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(disabled, 1);
    assert!(failing.received().len() >= 2);
}

#[actix_web::test]
async fn a_delivery_claimed_by_a_worker_that_died_is_taken_again_after_its_lease() {
    let app = spawn_app_with(|settings| {
        settings_for_delivery(settings, "0s,0s");
        settings.events.webhook_workers = 0;
    })
    .await;
    let admin = app.key(&["admin"]);
    let receiver = receiver(&[]).await;
    subscribe(&app, &admin, &receiver.url, false).await;
    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    let schedule = RetrySchedule::parse("0s,0s").unwrap();
    use beacon::services::webhook_delivery as delivery;

    // A worker claims it for a second, then dies without a word.
    let lease = Duration::from_secs(1);
    let dead = delivery::claim(&mut app.connection(), &schedule, lease)
        .unwrap()
        .unwrap();
    let claimed_at = Instant::now();
    second_process(&app, |settings| settings_for_delivery(settings, "0s,0s")).await;

    let received = receiver.wait_for(1).await.remove(0);
    assert!(
        received.at - claimed_at >= Duration::from_millis(900),
        "taken again {:?} after the claim",
        received.at - claimed_at
    );
    assert_eq!(received.id, dead.event_id.to_string());
    assert_eq!(
        wait_for_state(&app, "delivered").await,
        [("delivered".to_owned(), 2)]
    );
    // Its late word moves nothing.
    let now = chrono::Utc::now();
    delivery::record(
        &mut app.connection(),
        &dead,
        &delivery::Outcome {
            status: Some(500),
            latency: Duration::from_millis(5),
            error: Some("HTTP 500".to_owned()),
            retry_after: None,
        },
        &delivery::Policy {
            schedule: &schedule,
            disable_after: Duration::from_secs(1),
        },
        now,
        now,
    )
    .unwrap();
    assert_eq!(delivery_states(&app), [("delivered".to_owned(), 2)]);
    assert_eq!(receiver.received().len(), 1);
}
