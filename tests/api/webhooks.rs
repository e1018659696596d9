//! `/v1/webhooks`: subscriptions, their validation and the audit of personal data.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_pointers, problem, spawn_app};

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
