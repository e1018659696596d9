//! Every error path answers problem+json with the request id; nothing answers plain text.

use crate::helpers::{problem, spawn_app};

#[actix_web::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;

    let response = app.get("/v1/nothing-here").await;

    let body = problem(response, 404).await;
    assert_eq!(body["type"], "/problems/not-found");
}

#[actix_web::test]
async fn a_wrong_method_is_a_405_problem_listing_the_allowed_methods() {
    let app = spawn_app().await;

    let response = app.client.put(app.url("/v1/keys")).send().await.unwrap();

    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert_eq!(allow, "GET, POST, OPTIONS");
    let body = problem(response, 405).await;
    assert_eq!(body["type"], "/problems/method-not-allowed");
}

#[actix_web::test]
async fn a_wrong_method_on_a_path_with_a_parameter_is_a_405() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/v1/keys/0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["allow"], "DELETE, OPTIONS");
    problem(response, 405).await;
}

#[actix_web::test]
async fn options_on_a_known_path_lists_its_methods() {
    let app = spawn_app().await;

    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/healthz"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["allow"], "GET, OPTIONS");
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem() {
    let app = spawn_app().await;
    let key = app.key(&["admin"]);

    let response = app
        .client
        .post(app.url("/v1/keys"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(r#"{"name": "CMS", "scopes": ["#)
        .send()
        .await
        .unwrap();

    let body = problem(response, 400).await;
    assert_eq!(body["type"], "/problems/bad-request");
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = spawn_app().await;
    let key = app.key(&["admin"]);

    let response = app
        .client
        .post(app.url("/v1/keys"))
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("name=CMS")
        .send()
        .await
        .unwrap();

    let body = problem(response, 415).await;
    assert_eq!(body["type"], "/problems/unsupported-media-type");
}

#[actix_web::test]
async fn an_oversized_body_is_a_413_problem() {
    let app = spawn_app_with_small_bodies().await;
    let key = app.key(&["admin"]);
    let name = "x".repeat(4096);

    let response = app
        .client
        .post(app.url("/v1/keys"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": name, "scopes": ["admin"]}))
        .send()
        .await
        .unwrap();

    let body = problem(response, 413).await;
    assert_eq!(body["type"], "/problems/payload-too-large");
    assert!(body["detail"].as_str().unwrap().contains("1024"));
}

async fn spawn_app_with_small_bodies() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|settings| settings.max_body_bytes = 1024).await
}

#[actix_web::test]
async fn oversized_headers_are_a_431_problem() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-padding", "p".repeat(40 * 1024))
        .send()
        .await
        .unwrap();

    let body = problem(response, 431).await;
    assert_eq!(body["type"], "/problems/request-headers-too-large");
}

#[actix_web::test]
async fn a_bad_query_string_is_a_400_problem() {
    let app = spawn_app().await;
    let key = app.key(&["admin"]);

    let response = app
        .client
        .get(app.url("/v1/keys?include_revoked=perhaps"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();

    let body = problem(response, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("query string"));
}

#[actix_web::test]
async fn invalid_fields_are_a_422_problem_with_one_entry_per_field() {
    let app = spawn_app().await;
    let key = app.key(&["admin"]);

    let response = app
        .client
        .post(app.url("/v1/keys"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "  ", "scopes": ["leads:delete"]}))
        .send()
        .await
        .unwrap();

    let body = problem(response, 422).await;
    assert_eq!(body["type"], "/problems/validation-failed");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["pointer"], "/name");
    assert_eq!(errors[1]["pointer"], "/scopes");
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("leads:delete")
    );
}

#[actix_web::test]
async fn a_field_of_the_wrong_type_is_a_422_pointing_at_it() {
    let app = spawn_app().await;
    let key = app.key(&["admin"]);

    let response = app
        .client
        .post(app.url("/v1/keys"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "CMS", "scopes": "admin"}))
        .send()
        .await
        .unwrap();

    let body = problem(response, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/scopes");
}

#[actix_web::test]
async fn a_callers_request_id_is_echoed_and_a_missing_one_is_generated() {
    let app = spawn_app().await;

    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "edge-1234")
        .send()
        .await
        .unwrap();
    let generated = app.get("/healthz").await;

    assert_eq!(echoed.headers()["x-request-id"], "edge-1234");
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
}

#[actix_web::test]
async fn responses_carry_security_headers_and_are_not_cached_by_default() {
    let app = spawn_app().await;

    let response = app.get("/healthz").await;

    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(headers["cache-control"], "no-store");
}

#[actix_web::test]
async fn cors_allows_configured_origins_only() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.cors_origins = vec!["https://clinic.example".to_owned()];
    })
    .await;

    let allowed = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://clinic.example")
        .send()
        .await
        .unwrap();
    let other = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/keys"))
        .header("origin", "https://clinic.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();

    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://clinic.example"
    );
    assert!(other.headers().get("access-control-allow-origin").is_none());
    assert_eq!(preflight.status(), 200);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://clinic.example"
    );
}

#[actix_web::test]
async fn a_nul_byte_is_a_404_in_the_path_a_400_in_the_query_and_a_422_in_the_body() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);

    let in_path = app.get("/v1/articles/hello%00/related").await;
    let in_query = app.get("/v1/articles?tag=a%00").await;
    let in_body = app
        .patch_json(
            &key,
            "/v1/tags/ptsd",
            &serde_json::json!({"name": "PTSD\u{0}"}),
        )
        .await;

    assert_eq!(problem(in_path, 404).await["type"], "/problems/not-found");
    let body = problem(in_query, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("NUL"));
    let body = problem(in_body, 422).await;
    assert_eq!(crate::helpers::error_pointers(&body), ["/name"]);
    assert_eq!(
        body["errors"][0]["message"],
        "must not contain NUL characters"
    );
}

#[actix_web::test]
async fn a_time_outside_the_years_0000_to_9999_is_refused_not_a_500() {
    let app = spawn_app().await;

    let response = app
        .get("/v1/articles?published_after=-200000-01-01T00:00:00Z")
        .await;

    let body = problem(response, 400).await;
    assert!(body["detail"].as_str().unwrap().contains("0000 and 9999"));
}
