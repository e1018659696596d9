//! `/v1/keys` and the key checks every keyed route relies on.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};

async fn create(app: &TestApp, admin_key: &str, body: Value) -> reqwest::Response {
    app.post_json(admin_key, "/v1/keys", &body).await
}

async fn list(app: &TestApp, key: &str) -> reqwest::Response {
    app.get_with(key, "/v1/keys").await
}

#[actix_web::test]
async fn an_admin_creates_a_key_whose_secret_authenticates() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = create(&app, &admin, json!({"name": "Ops", "scopes": ["admin"]})).await;

    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/keys/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["name"], "Ops");
    assert_eq!(created["scopes"], json!(["admin"]));
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with(created["prefix"].as_str().unwrap()));
    assert_eq!(list(&app, secret).await.status(), 200);
}

#[actix_web::test]
async fn listing_keys_never_shows_a_secret_or_hash() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = list(&app, &admin).await;

    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["next_cursor"], Value::Null);
    assert!(!text.contains(&admin));
    assert!(!text.contains("secret"));
    assert!(!text.contains("hash"));
}

#[actix_web::test]
async fn a_missing_key_is_a_401_with_www_authenticate() {
    let app = spawn_app().await;

    let response = app.get("/v1/keys").await;

    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"beacon\""
    );
    let body = problem(response, 401).await;
    assert_eq!(body["type"], "/problems/unauthorized");
}

#[actix_web::test]
async fn an_unknown_or_malformed_key_is_a_401() {
    let app = spawn_app().await;

    let unknown = list(&app, "bcn_000000000000_not-a-real-secret").await;
    let malformed = app
        .client
        .get(app.url("/v1/keys"))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();

    problem(unknown, 401).await;
    problem(malformed, 401).await;
}

#[actix_web::test]
async fn a_key_without_the_scope_is_a_403_naming_the_scope() {
    let app = spawn_app().await;
    let content = app.key(&["content:write", "leads:read"]);

    let response = list(&app, &content).await;

    let body = problem(response, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("admin"));
}

#[actix_web::test]
async fn a_revoked_key_is_a_401_and_stays_listed_as_revoked() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let created: Value = create(
        &app,
        &admin,
        json!({"name": "Old CMS", "scopes": ["admin"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = created["id"].as_str().unwrap();

    let revoked = app
        .client
        .delete(app.url(&format!("/v1/keys/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();

    assert_eq!(revoked.status(), 200);
    let revoked: Value = revoked.json().await.unwrap();
    assert!(revoked["revoked_at"].is_string());
    problem(list(&app, created["secret"].as_str().unwrap()).await, 401).await;
    let active: Value = app
        .client
        .get(app.url("/v1/keys?include_revoked=false"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(active["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn revoking_an_unknown_key_is_a_404_and_a_malformed_id_too() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    for id in ["0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81", "not-a-uuid"] {
        let response = app
            .client
            .delete(app.url(&format!("/v1/keys/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        problem(response, 404).await;
    }
}

#[actix_web::test]
async fn unknown_fields_in_a_new_key_are_refused() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = create(
        &app,
        &admin,
        json!({"name": "CMS", "scopes": ["admin"], "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"}),
    )
    .await;

    let body = problem(response, 422).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
}

/// The audit entries with this action, newest first.
async fn audited(app: &TestApp, admin: &str, action: &str) -> Vec<Value> {
    let response = app
        .get_with(admin, &format!("/v1/audit?action={action}"))
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn creating_and_revoking_a_key_over_http_is_audited_with_its_scopes_and_who_did_it() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let response = create(
        &app,
        &admin,
        json!({"name": "Front desk", "scopes": ["leads:read"]}),
    )
    .await;
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let secret = created["secret"].as_str().unwrap();

    let revoked = app.delete_with(&admin, &format!("/v1/keys/{id}")).await;
    let again = app.delete_with(&admin, &format!("/v1/keys/{id}")).await;

    assert_eq!(
        (revoked.status().as_u16(), again.status().as_u16()),
        (200, 200)
    );
    let made = audited(&app, &admin, "key.created").await;
    let entry = made.iter().find(|e| e["api_key"]["id"] == id).unwrap();
    assert_eq!(entry["key_name"], "test key");
    assert!(entry["key_id"].is_string(), "the admin key that acted");
    assert_eq!(
        entry["api_key"],
        json!({"id": id, "prefix": created["prefix"], "name": "Front desk", "scopes": ["leads:read"]})
    );
    assert_eq!(entry["filter"], Value::Null);
    let gone = audited(&app, &admin, "key.revoked").await;
    assert_eq!(gone.len(), 1, "revoking a revoked key records nothing");
    assert_eq!(gone[0]["api_key"]["id"], id);
    assert_eq!(gone[0]["api_key"]["scopes"], json!(["leads:read"]));
    assert_eq!(gone[0]["key_id"], entry["key_id"]);
    let everything = app
        .get_with(&admin, "/v1/audit")
        .await
        .text()
        .await
        .unwrap();
    assert!(!everything.contains(secret));
}
