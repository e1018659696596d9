//! `/v1/interests`: the checklist a lead form renders, managed by `admin`.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_pointers, problem, spawn_app};

async fn public_codes(app: &TestApp) -> Vec<String> {
    let body: Value = app.get("/v1/interests").await.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["code"].as_str().unwrap().to_owned())
        .collect()
}

async fn create(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.post_json(key, "/v1/interests", &body).await
}

async fn update(app: &TestApp, key: &str, code: &str, body: Value) -> reqwest::Response {
    app.patch_json(key, &format!("/v1/interests/{code}"), &body)
        .await
}

#[actix_web::test]
async fn the_public_list_offers_the_three_seeded_conditions_in_form_order() {
    let app = spawn_app().await;

    let response = app.get("/v1/interests").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
    let body: Value = response.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    let pairs: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["code"].as_str().unwrap(), i["label"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [
            (
                "treatment_resistant_depression",
                "Treatment-resistant depression"
            ),
            ("suicidal_ideation", "Suicidal ideation"),
            ("ptsd", "Post-traumatic stress disorder"),
        ]
    );
    assert!(items.iter().all(|i| i["active"] == true));
}

#[actix_web::test]
async fn an_admin_adds_an_interest_and_forms_see_it_in_position() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = create(
        &app,
        &admin,
        json!({"code": "generalized_anxiety", "label": "Generalized anxiety disorder", "position": 2}),
    )
    .await;

    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["location"],
        "/v1/interests/generalized_anxiety"
    );
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["label"], "Generalized anxiety disorder");
    assert_eq!(
        public_codes(&app).await,
        [
            "treatment_resistant_depression",
            "generalized_anxiety",
            "suicidal_ideation",
            "ptsd"
        ]
    );
}

#[actix_web::test]
async fn adding_an_existing_code_is_a_409() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = create(&app, &admin, json!({"code": "ptsd", "label": "PTSD"})).await;

    let body = problem(response, 409).await;
    assert!(body["detail"].as_str().unwrap().contains("ptsd"));
}

#[actix_web::test]
async fn a_bad_code_label_or_position_is_a_422_naming_each_field() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = create(
        &app,
        &admin,
        json!({"code": "Bad Code", "label": " ", "position": -1}),
    )
    .await;

    let body = problem(response, 422).await;
    assert_eq!(error_pointers(&body), ["/code", "/label", "/position"]);
}

#[actix_web::test]
async fn an_admin_relabels_an_interest() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = update(&app, &admin, "ptsd", json!({"label": "PTSD"})).await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["label"], "PTSD");
    assert_eq!(body["active"], true);
    let listed: Value = app.get("/v1/interests").await.json().await.unwrap();
    assert_eq!(listed["items"][2]["label"], "PTSD");
}

#[actix_web::test]
async fn a_deactivated_interest_leaves_the_public_list_but_admins_still_see_it() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = update(&app, &admin, "ptsd", json!({"active": false})).await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        public_codes(&app).await,
        ["treatment_resistant_depression", "suicidal_ideation"]
    );
    let all = app
        .client
        .get(app.url("/v1/interests?include_inactive=true"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(all.headers()["cache-control"], "private, no-store");
    let all: Value = all.json().await.unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    assert_eq!(all["items"][2]["active"], false);
}

#[actix_web::test]
async fn a_deactivated_interest_can_be_reactivated() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    update(&app, &admin, "ptsd", json!({"active": false})).await;

    let response = update(&app, &admin, "ptsd", json!({"active": true})).await;

    assert_eq!(response.status(), 200);
    assert_eq!(public_codes(&app).await.len(), 3);
}

#[actix_web::test]
async fn listing_inactive_interests_needs_an_admin_key() {
    let app = spawn_app().await;
    let reader = app.key(&["leads:read"]);

    let anonymous = app.get("/v1/interests?include_inactive=true").await;
    let unprivileged = app
        .client
        .get(app.url("/v1/interests?include_inactive=true"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();

    problem(anonymous, 401).await;
    problem(unprivileged, 403).await;
}

#[actix_web::test]
async fn managing_interests_needs_the_admin_scope() {
    let app = spawn_app().await;
    let writer = app.key(&["leads:write"]);

    let created = create(&app, &writer, json!({"code": "ocd", "label": "OCD"})).await;
    let changed = update(&app, &writer, "ptsd", json!({"active": false})).await;
    let anonymous = app
        .client
        .post(app.url("/v1/interests"))
        .json(&json!({"code": "ocd", "label": "OCD"}))
        .send()
        .await
        .unwrap();

    problem(created, 403).await;
    problem(changed, 403).await;
    problem(anonymous, 401).await;
    assert_eq!(public_codes(&app).await.len(), 3);
}

#[actix_web::test]
async fn changing_an_unknown_interest_is_a_404() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = update(&app, &admin, "gout", json!({"label": "Gout"})).await;

    problem(response, 404).await;
}

#[actix_web::test]
async fn unknown_fields_in_an_interest_change_are_refused() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let response = update(&app, &admin, "ptsd", json!({"code": "ptsd2"})).await;

    let body = problem(response, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/code");
}

#[actix_web::test]
async fn the_public_checklist_is_the_same_whatever_key_is_sent() {
    let app = spawn_app().await;
    let anonymous = app.get("/v1/interests").await;
    assert_eq!(anonymous.status(), 200);
    let expected: Value = anonymous.json().await.unwrap();

    let content_key = app.key(&["content:write"]);
    for key in [content_key.as_str(), "bcn_000000000000_not-a-real-key"] {
        let response = app.get_with(key, "/v1/interests").await;
        assert_eq!(response.status(), 200, "with key {key:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, expected);
    }
}
