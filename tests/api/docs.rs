//! `/openapi.json` and `/docs/`: the spec is complete, committed without drift, and the docs
//! page needs nothing but Beacon.

use serde_json::Value;

use crate::helpers::spawn_app;

const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

fn generated() -> String {
    beacon::routes::openapi::to_json(&beacon::routes::openapi::spec()).unwrap()
}

fn operations(spec: &Value) -> Vec<(String, &Value)> {
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations.push((format!("{} {path}", method.to_uppercase()), operation));
        }
    }
    operations
}

#[test]
fn the_committed_spec_matches_the_code() {
    let committed = std::fs::read_to_string(SPEC_PATH).unwrap_or_default();

    assert!(
        committed == generated(),
        "openapi/openapi.json is out of date; regenerate it with \
         `cargo run -q -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_has_a_summary_a_description_and_declared_security() {
    let spec: Value = serde_json::from_str(&generated()).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["servers"][0]["url"], "/");

    for (name, operation) in operations(&spec) {
        assert!(operation["summary"].is_string(), "{name} has no summary");
        assert!(
            operation["description"].is_string(),
            "{name} has no description"
        );
        assert!(
            operation["security"].is_array(),
            "{name} declares no security"
        );
        assert!(
            operation["operationId"].is_string(),
            "{name} has no operationId"
        );
        for (status, response) in operation["responses"].as_object().unwrap() {
            let described = response["description"].is_string() || response["$ref"].is_string();
            assert!(described, "{name} {status} has no description");
        }
    }
}

#[test]
fn every_request_body_and_success_response_has_an_example() {
    let spec: Value = serde_json::from_str(&generated()).unwrap();

    for (name, operation) in operations(&spec) {
        if let Some(body) = operation.get("requestBody") {
            for (media, content) in body["content"].as_object().unwrap() {
                assert!(
                    content.get("example").is_some(),
                    "{name} request {media} has no example"
                );
            }
        }
        for (status, response) in operation["responses"].as_object().unwrap() {
            if !status.starts_with('2') {
                continue;
            }
            for (media, content) in response["content"].as_object().into_iter().flatten() {
                assert!(
                    content.get("example").is_some() || content.get("examples").is_some(),
                    "{name} {status} {media} has no example"
                );
            }
        }
    }
}

#[test]
fn keyed_operations_name_their_scope_and_document_401_and_403() {
    let spec: Value = serde_json::from_str(&generated()).unwrap();

    for (name, operation) in operations(&spec) {
        let security = operation["security"].as_array().unwrap();
        if let Some(requirement) = security.first() {
            let scopes = requirement["api_key"].as_array().unwrap();
            assert_eq!(scopes.len(), 1, "{name} names one scope");
            assert!(
                operation["responses"]["401"].is_object(),
                "{name} lacks 401"
            );
            assert!(
                operation["responses"]["403"].is_object(),
                "{name} lacks 403"
            );
        }
    }
}

#[test]
fn operations_reading_a_query_header_or_body_document_400() {
    let spec: Value = serde_json::from_str(&generated()).unwrap();

    for (name, operation) in operations(&spec) {
        let parses = operation.get("requestBody").is_some()
            || operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|param| param["in"] == "query" || param["in"] == "header");
        if parses {
            assert!(
                operation["responses"]["400"].is_object(),
                "{name} lacks 400"
            );
        }
    }
}

#[actix_web::test]
async fn the_served_spec_is_the_generated_one() {
    let app = spawn_app().await;

    let served: Value = app.get("/openapi.json").await.json().await.unwrap();

    assert_eq!(served, serde_json::from_str::<Value>(&generated()).unwrap());
}

#[actix_web::test]
async fn docs_redirects_to_docs_slash() {
    let app = spawn_app().await;

    let response = app.get("/docs").await;

    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "/docs/");
}

#[actix_web::test]
async fn the_docs_page_loads_every_asset_from_beacon_itself() {
    let app = spawn_app().await;

    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let initializer = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();

    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(initializer.contains("\"/openapi.json\""), "{initializer}");
    assert!(
        initializer.contains("\"validatorUrl\": \"none\""),
        "{initializer}"
    );
    for asset in [
        "swagger-ui.css",
        "index.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    ] {
        assert!(html.contains(asset), "page references {asset}");
        let response = app.get(&format!("/docs/{asset}")).await;
        assert_eq!(response.status(), 200, "{asset} is served");
    }
}
