//! `GET /metrics`: the Prometheus text moves as the requests made, needs an `admin` key on the
//! main listener and none on `BEACON_METRICS_ADDR`, and no label ever carries a person's data
//! or a path as sent.
//!
//! The recorder is process-wide, so counters are compared before and after. nextest runs each
//! test in a process of its own, where the deltas must be exact; in one shared process
//! (`cargo test`) other tests may add to the same series, so there they must be at least it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use beacon::domain::rate_limit::FixedWindow;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::{Value, json};

use crate::articles::{created, published};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// One sample of the text format: its name, its labels in order, its value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// Every sample of a scrape (comment lines skipped). Label values are unescaped.
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value = value.parse().unwrap();
            let Some((name, rest)) = series.split_once('{') else {
                return Sample {
                    name: series.to_owned(),
                    labels: Vec::new(),
                    value,
                };
            };
            Sample {
                name: name.to_owned(),
                labels: labels(rest.strip_suffix('}').unwrap()),
                value,
            }
        })
        .collect()
}

fn labels(mut text: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    while !text.is_empty() {
        let (key, rest) = text.split_once("=\"").unwrap();
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().unwrap() {
                (_, '\\') => match chars.next().unwrap().1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        labels.push((key.to_owned(), value));
        text = rest[end + 1..].trim_start_matches(',');
    }
    labels
}

/// The value of the series with exactly these labels; 0 when it was never recorded.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut wanted: Vec<(&str, &str)> = labels.to_vec();
    wanted.sort_unstable();
    samples(text)
        .into_iter()
        .find(|sample| {
            let mut have: Vec<(&str, &str)> = sample
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            have.sort_unstable();
            sample.name == name && have == wanted
        })
        .map_or(0.0, |sample| sample.value)
}

/// Whether this process runs this test alone (nextest), so deltas are exact.
fn alone_in_process() -> bool {
    std::env::var("NEXTEST_EXECUTION_MODE").as_deref() == Ok("process-per-test")
}

#[track_caller]
fn assert_moved(before: &str, after: &str, name: &str, labels: &[(&str, &str)], by: f64) {
    let delta = value(after, name, labels) - value(before, name, labels);
    if alone_in_process() {
        assert_eq!(delta, by, "{name} {labels:?}");
    } else {
        assert!(
            delta >= by,
            "{name} {labels:?} moved by {delta}, expected {by}"
        );
    }
}

async fn scrape(app: &TestApp, key: &str) -> String {
    let response = app.get_with(key, "/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/plain; version=0.0.4"));
    response.text().await.unwrap()
}

async fn post_lead(app: &TestApp, body: &Value, idempotency_key: Option<&str>) -> u16 {
    let mut request = app.client.post(app.url("/v1/leads")).json(body);
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.unwrap().status().as_u16()
}

/// No background loop touches the pool or records events behind the test's back.
fn quiet(settings: &mut beacon::config::Settings) {
    settings.events.scan_interval = None;
    settings.events.webhook_workers = 0;
    settings.meta.fetch = false;
    settings.leads.prune_interval = None;
}

#[actix_web::test]
async fn the_main_listener_serves_metrics_only_to_an_admin_key() {
    let app = spawn_app().await;
    let reader = app.key(&["leads:read", "leads:write", "content:write"]);
    let admin = app.key(&["admin"]);

    let anonymous = app.get("/metrics").await;
    let without_admin = app.get_with(&reader, "/metrics").await;
    let text = scrape(&app, &admin).await;

    assert_eq!(anonymous.status(), 401);
    assert_eq!(without_admin.status(), 403);
    assert!(text.contains("# TYPE beacon_http_requests_total counter"));
    assert!(text.contains("# TYPE beacon_http_request_duration_seconds histogram"));
    assert_eq!(value(&text, "beacon_metrics_database_up", &[]), 1.0);
}

#[actix_web::test]
async fn a_scripted_mix_of_requests_moves_each_counter_by_what_it_did() {
    let app = spawn_app_with(|settings| {
        quiet(settings);
        // Three counted enquiries from this network, then a 429, however long the test takes.
        settings.leads.rate_per_ip = FixedWindow {
            limit: 3,
            length: chrono::TimeDelta::days(36_500),
        };
    })
    .await;
    let admin = app.key(&["admin"]);
    let writer = app.key(&["content:write"]);
    created(&app, &writer, &published("Metrics and you")).await;
    let first = json!({"name": "Jane Doe", "phone": "(415) 555-3101"});
    let spam = json!({"name": "Bot", "phone": "(415) 555-3102", "website": "http://spam.example"});
    let before = scrape(&app, &admin).await;

    for _ in 0..2 {
        assert_eq!(app.get("/v1/articles/metrics-and-you").await.status(), 200);
    }
    assert_eq!(app.get("/v1/articles/no-such-article").await.status(), 404);
    assert_eq!(app.get("/v1/no/such/route").await.status(), 404);
    assert_eq!(post_lead(&app, &first, Some("mix-1")).await, 201);
    assert_eq!(post_lead(&app, &first, Some("mix-1")).await, 201);
    assert_eq!(post_lead(&app, &first, None).await, 201);
    assert_eq!(post_lead(&app, &spam, None).await, 201);
    assert_eq!(post_lead(&app, &first, None).await, 429);
    let after = scrape(&app, &admin).await;

    let requests = "beacon_http_requests_total";
    let article = [("method", "GET"), ("route", "/v1/articles/{article}")];
    let ok = [article[0], article[1], ("status", "2xx")];
    let missing = [article[0], article[1], ("status", "4xx")];
    assert_moved(&before, &after, requests, &ok, 2.0);
    assert_moved(&before, &after, requests, &missing, 1.0);
    let durations = "beacon_http_request_duration_seconds_count";
    assert_moved(&before, &after, durations, &ok, 2.0);
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "4xx")];
    assert_moved(&before, &after, requests, &unmatched, 1.0);
    let leads = [("method", "POST"), ("route", "/v1/leads")];
    assert_moved(
        &before,
        &after,
        requests,
        &[leads[0], leads[1], ("status", "2xx")],
        4.0,
    );
    assert_moved(
        &before,
        &after,
        requests,
        &[leads[0], leads[1], ("status", "4xx")],
        1.0,
    );
    let submissions = "beacon_lead_submissions_total";
    for outcome in ["accepted", "replayed", "merged", "spam", "rate_limited"] {
        let labels = [("kind", "form"), ("outcome", outcome)];
        assert_moved(&before, &after, submissions, &labels, 1.0);
    }
    let honeypot = [("kind", "form"), ("reason", "honeypot")];
    assert_moved(&before, &after, "beacon_lead_spam_total", &honeypot, 1.0);
}

#[actix_web::test]
async fn no_label_carries_personal_data_or_a_path_as_sent() {
    let app = spawn_app_with(quiet).await;
    let admin = app.key(&["admin"]);
    let person = json!({
        "name": "Quillon Zebedee",
        "phone": "(415) 555-3177",
        "email": "quillon.zebedee@example.com",
        "message": "zebedee private words",
        "interests": ["ptsd"],
        "utm_source": "zebedee-source",
        "article_slug": "zebedee-slug",
    });
    assert_eq!(post_lead(&app, &person, Some("zebedee-key")).await, 201);
    app.get("/v1/articles/zebedee-article-slug").await;
    app.get("/v1/zebedee/raw/path?q=zebedee-search").await;
    app.get("/v1/articles?q=zebedee-search").await;

    let text = scrape(&app, &admin).await;

    let spec = serde_json::to_value(beacon::routes::openapi::spec()).unwrap();
    let mut routes: BTreeSet<String> = spec["paths"].as_object().unwrap().keys().cloned().collect();
    routes.extend(["unmatched", "/docs", "/docs/{_:.*}", "/openapi.json"].map(String::from));
    let known_keys = [
        "method", "route", "status", "kind", "outcome", "reason", "state", "le",
    ];
    let samples = samples(&text);
    assert!(
        samples
            .iter()
            .any(|s| s.labels.iter().any(|(k, _)| k == "route"))
    );
    for sample in &samples {
        for (key, value) in &sample.labels {
            assert!(
                known_keys.contains(&key.as_str()),
                "label {key} on {}",
                sample.name
            );
            if key == "route" {
                assert!(
                    routes.contains(value),
                    "route label {value:?} is not a template"
                );
            }
            let lower = value.to_lowercase();
            for secret in ["zebedee", "quillon", "5553177", "555-3177", "ptsd", "?"] {
                assert!(!lower.contains(secret), "{}: {key}={value:?}", sample.name);
            }
        }
    }
    assert!(!text.to_lowercase().contains("zebedee"));
}

#[actix_web::test]
async fn overdue_leads_and_the_webhook_backlog_are_read_at_each_scrape() {
    let app = spawn_app_with(quiet).await;
    let admin = app.key(&["admin"]);
    let hook = json!({"url": "https://crm.example.com/hook", "events": ["lead.created"]});
    assert_eq!(
        app.post_json(&admin, "/v1/webhooks", &hook).await.status(),
        201
    );
    for i in 0..3 {
        let body = json!({"name": "Jane Doe", "phone": format!("(415) 555-320{i}")});
        assert_eq!(post_lead(&app, &body, None).await, 201);
    }
    let mut conn = app.connection();
    conn.batch_execute(
        "UPDATE leads SET contact_by = now() - interval '1 hour' \
             WHERE id = (SELECT id FROM leads ORDER BY id LIMIT 1);
         UPDATE webhook_deliveries SET state = 'delivered' \
             WHERE id = (SELECT id FROM webhook_deliveries ORDER BY id LIMIT 1);
         UPDATE webhook_deliveries SET state = 'failed' \
             WHERE id = (SELECT id FROM webhook_deliveries ORDER BY id DESC LIMIT 1);
         UPDATE webhook_deliveries SET created_at = now() - interval '2 hours' \
             WHERE state = 'pending';",
    )
    .unwrap();

    let text = scrape(&app, &admin).await;

    assert_eq!(value(&text, "beacon_leads_overdue", &[]), 1.0);
    for state in ["pending", "delivered", "failed"] {
        assert_eq!(
            value(&text, "beacon_webhook_deliveries", &[("state", state)]),
            1.0,
            "{state}"
        );
    }
    let age = value(&text, "beacon_webhook_oldest_pending_age_seconds", &[]);
    assert!((7_200.0..7_800.0).contains(&age), "{age}");
    assert_eq!(value(&text, "beacon_db_pool_max_connections", &[]), 4.0);
    assert!(value(&text, "beacon_db_pool_connections", &[]) >= 1.0);
}

#[actix_web::test]
async fn the_metrics_listener_serves_without_a_key_and_nothing_else() {
    let app = spawn_app_with(|settings| {
        settings.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let metrics = app.metrics_address.clone().unwrap();
    // What another part of Beacon records through the `metrics` macros shows up too.
    ::metrics::counter!("beacon_cache_hits_total").increment(1);

    let response = app
        .client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    let elsewhere = app
        .client
        .get(format!("{metrics}/v1/articles"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert_eq!(value(&text, "beacon_db_pool_max_connections", &[]), 4.0);
    assert!(value(&text, "beacon_cache_hits_total", &[]) >= 1.0);
    assert_eq!(elsewhere.status(), 404);
    assert_eq!(app.get("/metrics").await.status(), 401);
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Polls until a session of the app's database waits on a lock.
async fn wait_for_a_lock_waiter(app: &TestApp) {
    let mut conn = app.connection();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting = diesel::sql_query(
            "SELECT count(*) AS count FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result::<Count>(&mut conn)
        .unwrap()
        .count;
        if waiting > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "no request reached the lock");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_statement_timeout_and_a_checkout_that_found_no_connection_are_counted() {
    let app = spawn_app_with(|settings| {
        quiet(settings);
        settings.database.pool_size = 1;
        settings.database.connect_timeout = Duration::from_secs(1);
        settings.database.statement_timeout = Duration::from_secs(4);
    })
    .await;
    let admin = app.key(&["admin"]);
    let before = scrape(&app, &admin).await;
    let mut locker = app.connection();
    locker
        .batch_execute("BEGIN; LOCK TABLE leads IN SHARE ROW EXCLUSIVE MODE;")
        .unwrap();

    let held = {
        let client = app.client.clone();
        let url = app.url("/v1/leads");
        let body = json!({"name": "Jane Doe", "phone": "(415) 555-3301"});
        actix_web::rt::spawn(async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    wait_for_a_lock_waiter(&app).await;
    let starved = post_lead(&app, &json!({"name": "J", "phone": "(415) 555-3302"}), None).await;
    let timed_out = held.await.unwrap();
    locker.batch_execute("COMMIT").unwrap();
    let after = scrape(&app, &admin).await;

    assert_eq!(starved, 503);
    assert_eq!(timed_out, 503);
    let errors = "beacon_db_query_errors_total";
    assert_moved(
        &before,
        &after,
        errors,
        &[("kind", "statement_timeout")],
        1.0,
    );
    assert_moved(
        &before,
        &after,
        "beacon_db_pool_checkout_failures_total",
        &[],
        1.0,
    );
    let server_errors = [
        ("method", "POST"),
        ("route", "/v1/leads"),
        ("status", "5xx"),
    ];
    assert_moved(
        &before,
        &after,
        "beacon_http_requests_total",
        &server_errors,
        2.0,
    );
    if alone_in_process() {
        assert_eq!(value(&after, "beacon_db_pool_waiting", &[]), 0.0);
    }
}

#[test]
fn the_sample_dashboard_queries_only_metrics_the_readme_lists() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dashboard = std::fs::read_to_string(format!("{root}/docs/grafana-beacon.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&dashboard).unwrap();
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let section = readme.split("## Metrics").nth(1).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();

    let mut queried = BTreeSet::new();
    for target in panels
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
    {
        let expr = target["expr"].as_str().unwrap();
        for (start, _) in expr.match_indices("beacon_") {
            let name: String = expr[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            queried.insert(name);
        }
    }

    assert!(queried.len() >= 10, "{queried:?}");
    for name in queried {
        let listed = ["", "_bucket", "_count", "_sum"].iter().any(|suffix| {
            name.strip_suffix(suffix)
                .is_some_and(|base| section.contains(&format!("`{base}`")))
        });
        assert!(listed, "{name} is queried but not listed in the README");
    }
}
