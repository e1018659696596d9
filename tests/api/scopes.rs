//! What each operation documents in its `security` is what it enforces, for every operation in
//! the OpenAPI document (so a new route is checked too): a keyed operation answers 401 without
//! a key, 403 naming its scope to a key holding every other scope, and lets a key holding only
//! that scope through; an operation documented without a key never asks for one.

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

const ALL_SCOPES: &[&str] = &[
    "admin",
    "content:write",
    "leads:read",
    "leads:write",
    "leads:create",
];

/// Who an operation documents it lets in.
#[derive(Debug, PartialEq)]
enum Documented {
    Public,
    Key(String),
    /// The key is optional; sent, it must carry the scope.
    OptionalKey(String),
}

struct Operation {
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
    documented: Documented,
}

fn documented(operation: &Value) -> Documented {
    let Some(requirements) = operation["security"].as_array() else {
        return Documented::Public;
    };
    let scopes: Vec<String> = requirements
        .iter()
        .filter_map(|requirement| requirement["api_key"].as_array())
        .flatten()
        .map(|scope| scope.as_str().unwrap().to_owned())
        .collect();
    let optional = requirements
        .iter()
        .any(|requirement| requirement.as_object().unwrap().is_empty());
    match (&scopes[..], optional) {
        ([], _) => Documented::Public,
        ([scope], false) => Documented::Key(scope.clone()),
        ([scope], true) => Documented::OptionalKey(scope.clone()),
        _ => panic!("several scopes documented: {scopes:?}"),
    }
}

/// Every documented operation, with made-up path parameters (a fresh UUID names nothing, so no
/// real resource is touched) and its example body.
fn operations() -> Vec<Operation> {
    let spec = serde_json::to_value(beacon::routes::openapi::spec()).unwrap();
    let mut operations = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<reqwest::Method>() else {
                continue;
            };
            let mut path = template.clone();
            for param in operation["parameters"].as_array().into_iter().flatten() {
                if param["in"] != "path" {
                    continue;
                }
                let value = if param["schema"]["format"] == "uuid" {
                    uuid::Uuid::new_v4().to_string()
                } else {
                    "no-such-thing".to_owned()
                };
                let name = param["name"].as_str().unwrap();
                path = path.replace(&format!("{{{name}}}"), &value);
            }
            let body = operation["requestBody"]["content"]["application/json"]["example"].clone();
            operations.push(Operation {
                method,
                path,
                body: (!body.is_null()).then_some(body),
                documented: documented(operation),
            });
        }
    }
    operations
}

async fn send(app: &TestApp, operation: &Operation, key: Option<&str>) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().request(operation.method.clone(), app.url(&operation.path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = &operation.body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[actix_web::test]
async fn every_operation_enforces_exactly_the_scope_it_documents() {
    let app = spawn_app().await;
    let operations = operations();
    assert!(
        operations
            .iter()
            .any(|operation| matches!(operation.documented, Documented::Key(_))),
        "the walk found no keyed operation"
    );
    let mut wrong = Vec::new();
    for operation in &operations {
        let name = format!("{} {}", operation.method, operation.path);
        match &operation.documented {
            Documented::Public | Documented::OptionalKey(_) => {
                let (status, _) = send(&app, operation, None).await;
                if status == 401 || status == 403 {
                    wrong.push(format!(
                        "{name}: {status} without a key it documents as optional"
                    ));
                }
            }
            Documented::Key(scope) => {
                let (status, _) = send(&app, operation, None).await;
                if status != 401 {
                    wrong.push(format!("{name}: {status} without a key, not 401"));
                }
                let others: Vec<&str> = ALL_SCOPES.iter().copied().filter(|s| s != scope).collect();
                let (status, problem) = send(&app, operation, Some(&app.key(&others))).await;
                let detail = problem["detail"].as_str().unwrap_or_default();
                if status != 403 || !detail.contains(&format!("`{scope}`")) {
                    wrong.push(format!(
                        "{name}: {status} {detail:?} for a key lacking `{scope}`"
                    ));
                }
                let (status, problem) = send(&app, operation, Some(&app.key(&[scope]))).await;
                if status == 401 || status == 403 {
                    wrong.push(format!(
                        "{name}: {status} {problem} for a key with only `{scope}`"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
