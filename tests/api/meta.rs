//! `/v1/lead-sources/{id}/meta`: Meta's subscription check, signed lead notifications, and
//! the fetch of each lead from a fake Graph API served by the test: exactly one lead per
//! `leadgen_id`, through outages, redeliveries and refusals.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use beacon::config::Settings;
use beacon::domain::meta::AppSecret;
use beacon::domain::rate_limit::FixedWindow;
use beacon::domain::webhook::RetrySchedule;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_pointers, problem, spawn_app_with};
use crate::lead_admin::get_json;

const APP_SECRET: &str = "5f1a8e3c2b7d4a6f9e0c1b2a3d4e5f60";
const PAGE_TOKEN: &str = "EAAGm0PX4ZCpsBAPageTokenForTests";

/// The sample Meta's app dashboard sends for the `leadgen` field, as Meta formats it.
const SAMPLE: &str = r#"{"object":"page","entry":[{"id":"444444444444","time":1502300000,"changes":[{"field":"leadgen","value":{"ad_id":"444444444","form_id":"444444444444","leadgen_id":"444444444444","created_time":1502300000,"page_id":"444444444444","adgroup_id":"44444444444"}}]}]}"#;

/// The lead Graph answers for the sample: Meta's documented shape, a custom question included.
fn graph_lead() -> Value {
    json!({
        "created_time": "2017-08-09T17:33:20+0000",
        "id": "444444444444",
        "ad_id": "444444444",
        "form_id": "444444444444",
        "campaign_id": "23842888888888",
        "is_organic": false,
        "field_data": [
            {"name": "full_name", "values": ["Dana Example"]},
            {"name": "phone_number", "values": ["+14155552671"]},
            {"name": "email", "values": ["dana@example.com"]},
            {"name": "zip_code", "values": ["94107"]},
            {"name": "best_time_to_call", "values": ["mornings"]}
        ]
    })
}

/// What the fake Graph server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    query: String,
    authorization: Option<String>,
}

#[derive(Default)]
struct GraphState {
    /// Scripted answers, in order; once they run out, the lead.
    answers: Mutex<VecDeque<(u16, Value)>>,
    seen: Mutex<Vec<Seen>>,
}

struct FakeGraph {
    url: String,
    state: web::Data<GraphState>,
}

async fn graph_answer(req: HttpRequest, state: web::Data<GraphState>) -> HttpResponse {
    state.seen.lock().unwrap().push(Seen {
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        authorization: req
            .headers()
            .get("authorization")
            .map(|value| value.to_str().unwrap().to_owned()),
    });
    let (status, body) = state
        .answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, graph_lead()));
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(body)
}

async fn fake_graph(answers: Vec<(u16, Value)>) -> FakeGraph {
    let state = web::Data::new(GraphState::default());
    state.answers.lock().unwrap().extend(answers);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let shared = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .default_service(web::to(graph_answer))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    FakeGraph {
        url: format!("http://127.0.0.1:{port}"),
        state,
    }
}

impl FakeGraph {
    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

/// The app fetching from `graph`, retrying quickly; the private-address exception is a
/// settings field no environment variable reaches.
async fn app_with_graph(graph: &FakeGraph) -> TestApp {
    let url = graph.url.clone();
    spawn_app_with(move |settings: &mut Settings| {
        settings.meta.graph_url = url::Url::parse(&url).unwrap();
        settings.meta.allow_private_graph = true;
        settings.events.retry_schedule = RetrySchedule::parse("0s,50ms,50ms,50ms,50ms").unwrap();
        settings.events.scan_interval = None;
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = FixedWindow::per_hour(0);
    })
    .await
}

/// A `meta` source's create answer.
/// A service whose Graph API is a fake answering `answers` first, an admin key, and a Meta
/// source created with it.
struct MetaSetup {
    graph: FakeGraph,
    app: TestApp,
    admin: String,
    source: Value,
}

async fn meta_setup(answers: Vec<(u16, Value)>) -> MetaSetup {
    let graph = fake_graph(answers).await;
    let app = app_with_graph(&graph).await;
    let admin = app.key(&["admin"]);
    let source = meta_source(&app, &admin).await;
    MetaSetup {
        graph,
        app,
        admin,
        source,
    }
}

async fn meta_source(app: &TestApp, admin: &str) -> Value {
    let response = app
        .post_json(
            admin,
            "/v1/lead-sources",
            &json!({"name": "Facebook: spring", "kind": "meta", "app_secret": APP_SECRET,
                    "page_access_token": PAGE_TOKEN, "utm_source": "facebook",
                    "utm_medium": "paid_social"}),
        )
        .await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Posts `body` to the source's callback URL as Meta would, with `signature`.
async fn notify(
    app: &TestApp,
    source: &Value,
    body: &str,
    signature: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(source["webhook_url"].as_str().unwrap()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.send().await.unwrap()
}

fn signed(body: &str) -> String {
    AppSecret::parse(APP_SECRET).unwrap().sign(body.as_bytes())
}

/// `(state, attempts, last_error)` of every fetch queued.
fn fetches(app: &TestApp) -> Vec<(String, i32, Option<String>)> {
    use beacon::db::schema::meta_lead_fetches as f;
    f::table
        .order(f::created_at)
        .select((f::state, f::attempts, f::last_error))
        .load(&mut app.connection())
        .unwrap()
}

/// Polls until every fetch left `pending`, or fails after a deadline.
async fn settled(app: &TestApp) -> Vec<(String, i32, Option<String>)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let fetches = fetches(app);
        if !fetches.is_empty() && fetches.iter().all(|(state, _, _)| state != "pending") {
            return fetches;
        }
        assert!(Instant::now() < deadline, "still pending: {fetches:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

fn lead_count(app: &TestApp) -> i64 {
    use beacon::db::schema::leads;
    leads::table
        .count()
        .get_result(&mut app.connection())
        .unwrap()
}

#[actix_web::test]
async fn meta_answers_the_subscription_check_only_with_the_sources_verify_token() {
    let MetaSetup {
        graph: _graph,
        app,
        source,
        ..
    } = meta_setup(Vec::new()).await;
    let token = source["verify_token"].as_str().unwrap();
    let check = |mode: &str, token: &str| {
        let url = app.url(source["webhook_url"].as_str().unwrap());
        let client = app.client.clone();
        let url = url::Url::parse_with_params(
            &url,
            [
                ("hub.mode", mode),
                ("hub.verify_token", token),
                ("hub.challenge", "1158201444"),
            ],
        )
        .unwrap();
        async move { client.get(url).send().await.unwrap() }
    };

    let right = check("subscribe", token).await;
    let wrong = check("subscribe", "bmv_not-the-token").await;
    let other_mode = check("unsubscribe", token).await;

    assert_eq!(right.status(), 200);
    assert_eq!(right.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(right.text().await.unwrap(), "1158201444");
    problem(wrong, 403).await;
    problem(other_mode, 403).await;
}

#[actix_web::test]
async fn a_missing_or_wrong_signature_is_401_and_queues_nothing() {
    let MetaSetup {
        graph, app, source, ..
    } = meta_setup(Vec::new()).await;
    let other_secret = AppSecret::parse("not-the-app-secret").unwrap();

    let missing = notify(&app, &source, SAMPLE, None).await;
    let wrong_secret = notify(
        &app,
        &source,
        SAMPLE,
        Some(&other_secret.sign(SAMPLE.as_bytes())),
    )
    .await;
    let other_body = notify(&app, &source, SAMPLE, Some(&signed("{}"))).await;

    for response in [missing, wrong_secret, other_body] {
        problem(response, 401).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert!(fetches(&app).is_empty());
    assert!(graph.seen().is_empty());
    assert_eq!(lead_count(&app), 0);
}

#[actix_web::test]
async fn a_graph_outage_that_heals_loses_nothing_and_records_the_lead_once() {
    let outage = vec![(500, json!({"error": {"code": 2, "is_transient": true}})); 3];
    let MetaSetup {
        graph, app, source, ..
    } = meta_setup(outage).await;

    let response = notify(&app, &source, SAMPLE, Some(&signed(SAMPLE))).await;

    assert_eq!(response.status(), 200);
    let fetches = settled(&app).await;
    assert_eq!(fetches.len(), 1);
    assert_eq!(fetches[0].0, "delivered");
    assert_eq!(fetches[0].1, 4, "three failures, then the lead");
    assert_eq!(graph.seen().len(), 4);
    assert_eq!(lead_count(&app), 1);
}

#[actix_web::test]
async fn a_graph_refusal_fails_the_fetch_visibly_without_a_lead_or_a_retry() {
    let refusal = json!({"error": {"message": "Invalid OAuth access token.",
        "type": "OAuthException", "code": 190, "error_subcode": 463}});
    let MetaSetup {
        graph,
        app,
        admin,
        source,
    } = meta_setup(vec![(400, refusal)]).await;

    let response = notify(&app, &source, SAMPLE, Some(&signed(SAMPLE))).await;

    assert_eq!(response.status(), 200);
    let fetches = settled(&app).await;
    assert_eq!(
        fetches,
        vec![(
            "failed".to_owned(),
            1,
            Some("HTTP 400, Graph error 190/463".to_owned())
        )]
    );
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(graph.seen().len(), 1, "a refusal is not retried");
    assert_eq!(lead_count(&app), 0);
    let id = source["id"].as_str().unwrap();
    let shown = get_json(&app, &admin, &format!("/v1/lead-sources/{id}")).await;
    assert_eq!(shown["meta_fetches"]["failed"], 1);
    assert_eq!(
        shown["meta_fetches"]["last_error"],
        "HTTP 400, Graph error 190/463"
    );
    let metrics = app
        .get_with(&app.key(&["admin"]), "/metrics")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("beacon_meta_lead_fetches_total{outcome=\"failed\"}"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn a_meta_source_needs_its_app_secret_and_page_token_and_never_shows_them_again() {
    let graph = fake_graph(Vec::new()).await;
    let app = app_with_graph(&graph).await;
    let admin = app.key(&["admin"]);

    let missing = app
        .post_json(
            &admin,
            "/v1/lead-sources",
            &json!({"name": "Facebook", "kind": "meta"}),
        )
        .await;
    let misplaced = app
        .post_json(
            &admin,
            "/v1/lead-sources",
            &json!({"name": "Zapier", "kind": "api", "app_secret": "x"}),
        )
        .await;
    let source = meta_source(&app, &admin).await;

    assert_eq!(
        error_pointers(&problem(missing, 422).await),
        ["/app_secret", "/page_access_token"]
    );
    assert_eq!(
        error_pointers(&problem(misplaced, 422).await),
        ["/app_secret"]
    );
    let id = source["id"].as_str().unwrap();
    assert_eq!(source["kind"], "meta");
    assert_eq!(source["webhook_url"], format!("/v1/lead-sources/{id}/meta"));
    assert!(source["verify_token"].as_str().unwrap().starts_with("bmv_"));
    let shown = app
        .get_with(&admin, &format!("/v1/lead-sources/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let listed = app
        .get_with(&admin, "/v1/lead-sources")
        .await
        .text()
        .await
        .unwrap();
    for text in [&shown, &listed] {
        assert!(text.contains(&format!("/v1/lead-sources/{id}/meta")));
        assert!(!text.contains(APP_SECRET) && !text.contains(PAGE_TOKEN));
        assert!(!text.contains(source["verify_token"].as_str().unwrap()));
    }
}

#[actix_web::test]
async fn replacing_the_app_secret_makes_only_the_new_one_sign() {
    let MetaSetup {
        graph: _graph,
        app,
        admin,
        source,
    } = meta_setup(Vec::new()).await;
    let id = source["id"].as_str().unwrap();
    let rotated = AppSecret::parse("a-rotated-app-secret").unwrap();

    let changed = app
        .patch_json(
            &admin,
            &format!("/v1/lead-sources/{id}"),
            &json!({"app_secret": rotated.expose()}),
        )
        .await;

    assert_eq!(changed.status(), 200);
    let old = notify(&app, &source, SAMPLE, Some(&signed(SAMPLE))).await;
    problem(old, 401).await;
    let new = notify(
        &app,
        &source,
        SAMPLE,
        Some(&rotated.sign(SAMPLE.as_bytes())),
    )
    .await;
    assert_eq!(new.status(), 200);
}

/// The one lead recorded, as staff see it.
async fn the_lead(app: &TestApp) -> Value {
    use beacon::db::schema::leads;
    let id: uuid::Uuid = leads::table
        .select(leads::id)
        .first(&mut app.connection())
        .unwrap();
    get_json(app, &app.key(&["leads:read"]), &format!("/v1/leads/{id}")).await
}

#[actix_web::test]
async fn a_signed_leadgen_notification_becomes_one_lead_with_its_answers_and_attribution() {
    let MetaSetup {
        graph, app, source, ..
    } = meta_setup(Vec::new()).await;

    let response = notify(&app, &source, SAMPLE, Some(&signed(SAMPLE))).await;

    assert_eq!(response.status(), 200);
    let acknowledged: Value = response.json().await.unwrap();
    assert_eq!(acknowledged["queued"], 1);
    assert_eq!(acknowledged["already_queued"], 0);
    assert_eq!(settled(&app).await[0].0, "delivered");
    let seen = graph.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v21.0/444444444444");
    assert_eq!(
        seen[0].query,
        "fields=created_time%2Cfield_data%2Cad_id%2Cform_id%2Ccampaign_id%2Cis_organic"
    );
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {PAGE_TOKEN}").as_str())
    );
    assert_eq!(lead_count(&app), 1);
    let lead = the_lead(&app).await;
    assert_eq!(lead["name"], "Dana Example");
    assert_eq!(lead["phone"], "+14155552671");
    assert_eq!(lead["email"], "dana@example.com");
    assert_eq!(lead["lead_source"]["id"], source["id"]);
    let submission = &lead["submissions"][0];
    assert_eq!(submission["external_id"], "444444444444");
    assert_eq!(submission["attribution"]["utm_source"], "facebook");
    assert_eq!(submission["attribution"]["utm_medium"], "paid_social");
    assert_eq!(
        submission["external_context"],
        json!({"campaign_id": "23842888888888", "adgroup_id": "44444444444",
               "ad_id": "444444444", "form_id": "444444444444", "page_id": "444444444444"})
    );
    let answers = submission["custom_answers"].as_array().unwrap();
    assert!(
        answers
            .iter()
            .any(|a| a["key"] == "best_time_to_call" && a["answer"] == "mornings"),
        "{answers:?}"
    );
    assert!(
        answers.iter().any(|a| a["answer"] == "94107"),
        "{answers:?}"
    );
}

#[actix_web::test]
async fn a_redelivered_notification_queues_no_second_fetch_and_makes_no_second_lead() {
    let MetaSetup {
        graph, app, source, ..
    } = meta_setup(Vec::new()).await;

    let first = notify(&app, &source, SAMPLE, Some(&signed(SAMPLE))).await;
    assert_eq!(first.status(), 200);
    settled(&app).await;
    let again = notify(&app, &source, SAMPLE, Some(&signed(SAMPLE))).await;

    assert_eq!(again.status(), 200);
    let acknowledged: Value = again.json().await.unwrap();
    assert_eq!(acknowledged["queued"], 0);
    assert_eq!(acknowledged["already_queued"], 1);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fetches(&app).len(), 1);
    assert_eq!(graph.seen().len(), 1);
    assert_eq!(lead_count(&app), 1);
}

#[actix_web::test]
async fn a_stranger_posting_a_known_number_to_the_meta_callback_learns_nothing_and_changes_nothing()
{
    let MetaSetup {
        graph, app, source, ..
    } = meta_setup(Vec::new()).await;
    let known = app
        .client
        .post(app.url("/v1/leads"))
        .json(&json!({"name": "Jane Doe", "phone": "(415) 555-2671"}))
        .send()
        .await
        .unwrap();
    assert_eq!(known.status(), 201);
    let body_with = |phone: &str| {
        json!({"object": "page", "entry": [{"id": "1", "time": 1, "changes": [{"field": "leadgen",
            "value": {"leadgen_id": "444444444444", "page_id": "1", "form_id": "2",
                "field_data": [{"name": "full_name", "values": ["Mallory"]},
                               {"name": "phone_number", "values": [phone]}]}}]}]})
        .to_string()
    };

    let mut answers = Vec::new();
    for phone in ["+14155552671", "+14155550199"] {
        let body = body_with(phone);
        let unsigned = notify(&app, &source, &body, None).await;
        let forged = AppSecret::parse("a-guessed-secret")
            .unwrap()
            .sign(body.as_bytes());
        let forged = notify(&app, &source, &body, Some(&forged)).await;
        for response in [unsigned, forged] {
            let status = response.status().as_u16();
            let mut headers: Vec<String> = response
                .headers()
                .iter()
                .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
                .map(|(name, value)| format!("{name}: {value:?}"))
                .collect();
            headers.sort();
            let mut body: Value = response.json().await.unwrap();
            body.as_object_mut().unwrap().remove("request_id");
            answers.push((status, headers, body));
        }
    }

    assert_eq!(answers[0].0, 401);
    assert_eq!(
        answers[0..2],
        answers[2..4],
        "a known number changes nothing in the answer"
    );
    assert_eq!(
        answers[0], answers[1],
        "a forged signature is answered like a missing one"
    );
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert!(fetches(&app).is_empty());
    assert!(graph.seen().is_empty());
    assert_eq!(lead_count(&app), 1);
    let reader = app.key(&["leads:read"]);
    let leads = get_json(&app, &reader, "/v1/leads").await;
    assert_eq!(leads["items"][0]["name"], "Jane Doe");
    assert_eq!(leads["items"][0]["submission_count"], 1);
}
