//! Hostile input never becomes a 5xx. Every documented operation, read from the OpenAPI document
//! (so a new route is walked too), gets NUL bytes, overlong text, out-of-range numbers, dates
//! and cursors in each path parameter, each query parameter and each field of its example body;
//! every answer must be below 500, and every 4xx a problem.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

const ALL_SCOPES: &[&str] = &["admin", "content:write", "leads:read", "leads:write"];

/// Text PostgreSQL refuses or that breaks something downstream, as the client would send it.
fn hostile_strings() -> Vec<String> {
    let id = "0193a4f17c1e7b529a0e3f2d5c6b7a81";
    let cursor = |text: &str| URL_SAFE_NO_PAD.encode(text);
    vec![
        "a\u{0}b".to_owned(),
        "\u{0}".to_owned(),
        "%00".to_owned(),
        // Over PostgreSQL's ~2.7 KB limit for a btree index row.
        "é".repeat(3000),
        "x".repeat(9000),
        "-1".to_owned(),
        "0".to_owned(),
        "2147483648".to_owned(),
        "99999999999999999999".to_owned(),
        "1e309".to_owned(),
        "NaN".to_owned(),
        "0000-01-01".to_owned(),
        "9999-12-31".to_owned(),
        "0000-01-01T00:00:00Z".to_owned(),
        "9999-12-31T23:59:59Z".to_owned(),
        "-200000-01-01T00:00:00Z".to_owned(),
        "+200000-01-01T00:00:00Z".to_owned(),
        // Cursors that decode to instants PostgreSQL cannot store.
        cursor(&format!("p1:-8000000000000000000:{id}")),
        cursor(&format!("c1:8000000000000000000:{id}")),
        cursor(&format!("r1:2139095039:{id}")),
        "'; SELECT pg_sleep(10); --".to_owned(),
        "\u{202e}\u{fffd}\u{ffff}🌅".to_owned(),
        " ".to_owned(),
        String::new(),
    ]
}

fn hostile_numbers() -> Vec<Value> {
    vec![
        json!(-1),
        json!(0),
        json!(2_147_483_648_i64),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(-1e300),
    ]
}

struct Operation {
    method: reqwest::Method,
    /// `/v1/articles/{article}`
    template: String,
    params: Vec<Param>,
    body: Option<Value>,
    destructive: bool,
}

struct Param {
    name: String,
    location: String,
    example: Option<String>,
    is_uuid: bool,
}

fn operations(real_ids: &[(&str, String)]) -> Vec<Operation> {
    let spec = serde_json::to_value(beacon::routes::openapi::spec()).unwrap();
    let mut operations = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<reqwest::Method>() else {
                continue;
            };
            let params = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|param| Param {
                    name: param["name"].as_str().unwrap().to_owned(),
                    location: param["in"].as_str().unwrap().to_owned(),
                    example: param.get("example").map(|example| match example {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    }),
                    is_uuid: param["schema"]["format"] == "uuid",
                })
                .map(|mut param| {
                    // A real resource, so the walk gets past the lookup to what follows it.
                    if param.location == "path"
                        && param.is_uuid
                        && let Some((_, id)) = real_ids
                            .iter()
                            .find(|(prefix, _)| template.starts_with(prefix))
                    {
                        param.example = Some(id.clone());
                    }
                    param
                })
                .collect();
            let body = operation["requestBody"]["content"]["application/json"]["example"].clone();
            operations.push(Operation {
                destructive: method == reqwest::Method::DELETE,
                method,
                template: template.clone(),
                params,
                body: (!body.is_null()).then_some(body),
            });
        }
    }
    // Deleting last keeps the resources the other operations use.
    operations.sort_by_key(|operation| operation.destructive);
    operations
}

/// Each variant of a body: one leaf (string or number) replaced by a hostile value.
fn body_variants(body: &Value) -> Vec<(String, Value)> {
    let mut variants = Vec::new();
    walk_leaves(body, String::new(), &mut |pointer, leaf| {
        let replacements: Vec<Value> = match leaf {
            Value::String(_) => hostile_strings().into_iter().map(Value::String).collect(),
            Value::Number(_) => hostile_numbers(),
            _ => return,
        };
        for replacement in replacements {
            let mut variant = body.clone();
            *variant.pointer_mut(pointer).unwrap() = replacement.clone();
            variants.push((format!("body {pointer} = {}", short(&replacement)), variant));
        }
    });
    // A field no type declares, which a lenient reader might pass on to storage.
    if let Value::Object(fields) = body {
        let mut variant = fields.clone();
        variant.insert("extra\u{0}".to_owned(), json!("a\u{0}b"));
        variants.push((
            "body with an extra NUL field".to_owned(),
            Value::Object(variant),
        ));
    }
    variants
}

fn walk_leaves(value: &Value, pointer: String, visit: &mut impl FnMut(&str, &Value)) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                walk_leaves(child, format!("{pointer}/{key}"), visit);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk_leaves(child, format!("{pointer}/{index}"), visit);
            }
        }
        leaf => visit(&pointer, leaf),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!(
            "{}… ({} chars)",
            text.chars().take(20).collect::<String>(),
            text.len()
        )
    } else {
        text
    }
}

/// The URL with `path` values in the template's parameters and `query` as the query string.
fn url(
    app: &TestApp,
    operation: &Operation,
    path: &[(&str, &str)],
    query: &[(&str, &str)],
) -> String {
    let mut url = url::Url::parse(&app.url("/")).unwrap();
    {
        let mut segments = url.path_segments_mut().unwrap();
        segments.clear();
        for segment in operation.template.trim_start_matches('/').split('/') {
            let value = segment
                .strip_prefix('{')
                .and_then(|name| name.strip_suffix('}'))
                .map_or(segment, |name| {
                    path.iter()
                        .find(|(param, _)| *param == name)
                        .map_or("x", |(_, value)| value)
                });
            segments.push(value);
        }
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    url.to_string()
}

async fn send(
    app: &TestApp,
    key: &str,
    operation: &Operation,
    url: String,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(operation.method.clone(), url)
        .bearer_auth(key)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string());
    if operation
        .params
        .iter()
        .any(|param| param.name == "If-Match")
    {
        request = request.header("if-match", "*");
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

/// `None` when the answer is acceptable, else what was wrong with it.
async fn judge(response: reqwest::Response) -> Option<String> {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    if status >= 500 {
        let body = response.text().await.unwrap_or_default();
        return Some(format!("{status} {body}"));
    }
    if status >= 400 && content_type != "application/problem+json" {
        return Some(format!("{status} with content type {content_type:?}"));
    }
    None
}

async fn real_ids(app: &TestApp, key: &str) -> Vec<(&'static str, String)> {
    beacon::services::seed::demo(&mut app.connection(), Utc::now()).unwrap();
    let article: Value = app
        .get_with(key, "/v1/articles/supporting-a-loved-one-with-ptsd")
        .await
        .json()
        .await
        .unwrap();
    let lead: Value = app
        .post_json(
            key,
            "/v1/leads",
            &json!({
                "name": "Jane Doe", "phone": "(415) 555-2671",
                "interests": ["ptsd"],
                "consent": {"agreed": true, "text": "I agree that the clinic may call me.",
                    "version": "2026-03"}
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let other_key: Value = app
        .post_json(
            key,
            "/v1/keys",
            &json!({"name": "Spare", "scopes": ["leads:read"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    vec![
        ("/v1/articles/", article["id"].as_str().unwrap().to_owned()),
        ("/v1/leads/", lead["id"].as_str().unwrap().to_owned()),
        ("/v1/keys/", other_key["id"].as_str().unwrap().to_owned()),
    ]
}

#[actix_web::test]
async fn hostile_values_in_any_parameter_or_body_field_never_give_a_server_error() {
    // Rate limits off, so every request reaches the code behind them.
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = beacon::domain::rate_limit::FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = beacon::domain::rate_limit::FixedWindow::per_hour(0);
        settings.leads.opt_out_rate_per_ip = beacon::domain::rate_limit::FixedWindow::per_minute(0);
    })
    .await;
    let key = app.key(ALL_SCOPES);
    let ids = real_ids(&app, &key).await;
    let mut failures = Vec::new();
    let mut sent = 0;

    for operation in operations(&ids) {
        let path: Vec<(&str, &str)> = operation
            .params
            .iter()
            .filter(|param| param.location == "path")
            .map(|param| (param.name.as_str(), param.example.as_deref().unwrap_or("x")))
            .collect();
        let mut attempts: Vec<(String, String, Option<Value>)> = Vec::new();
        for param in &operation.params {
            for value in hostile_strings() {
                let label = format!(
                    "{} {} = {}",
                    param.location,
                    param.name,
                    short(&json!(value))
                );
                let url = match param.location.as_str() {
                    "path" => {
                        let mut path = path.clone();
                        for entry in &mut path {
                            if entry.0 == param.name {
                                entry.1 = &value;
                            }
                        }
                        url(&app, &operation, &path, &[])
                    }
                    "query" => url(&app, &operation, &path, &[(&param.name, &value)]),
                    _ => continue,
                };
                attempts.push((label, url, operation.body.clone()));
            }
        }
        if let Some(body) = &operation.body {
            for (label, variant) in body_variants(body) {
                attempts.push((label, url(&app, &operation, &path, &[]), Some(variant)));
            }
        }
        for (label, url, body) in attempts {
            sent += 1;
            let response = send(&app, &key, &operation, url, body.as_ref()).await;
            if let Some(problem) = judge(response).await {
                failures.push(format!(
                    "{} {} with {label}: {problem}",
                    operation.method, operation.template
                ));
            }
        }
    }

    assert!(sent > 1000, "only {sent} requests were sent");
    assert!(
        failures.is_empty(),
        "{} of {sent} hostile requests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
