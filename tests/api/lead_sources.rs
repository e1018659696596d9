//! `/v1/lead-sources`: sources and their `leads:create` keys, the attribution of the leads
//! they post, and what staff see of it.

use beacon::domain::rate_limit::FixedWindow;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_pointers, problem, spawn_app, spawn_app_with};
use crate::lead_admin::{enquire, get_json, person};

/// A rate window spanning the whole test.
fn lasting_window(limit: u32) -> FixedWindow {
    FixedWindow {
        limit,
        length: chrono::TimeDelta::days(36_500),
    }
}

async fn create_source(app: &TestApp, admin: &str, body: Value) -> Value {
    let response = app.post_json(admin, "/v1/lead-sources", &body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn zapier(app: &TestApp, admin: &str) -> Value {
    create_source(
        app,
        admin,
        json!({"name": "Zapier", "kind": "api", "utm_source": "zapier",
               "utm_medium": "automation", "utm_campaign": "spring"}),
    )
    .await
}

async fn post_lead(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.post_json(key, "/v1/leads", body).await
}

#[actix_web::test]
async fn creating_an_api_source_shows_its_key_once_and_lists_it_without() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let created = zapier(&app, &admin).await;

    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with("bcn_"));
    assert_eq!(created["kind"], "api");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["utm_source"], "zapier");
    let id = created["id"].as_str().unwrap();
    let listed = get_json(&app, &admin, "/v1/lead-sources").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], id);
    assert!(listed["items"][0].get("key").is_none());
    let one = get_json(&app, &admin, &format!("/v1/lead-sources/{id}")).await;
    assert!(one.get("key").is_none());
    assert_eq!(one["key_id"], created["key_id"]);
    let keys = get_json(&app, &admin, "/v1/keys").await;
    let made = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == created["key_id"])
        .unwrap()
        .clone();
    assert_eq!(made["scopes"], json!(["leads:create"]));
}

#[actix_web::test]
async fn a_meta_source_without_its_credentials_and_bad_fields_are_named() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);

    let meta = app
        .post_json(
            &admin,
            "/v1/lead-sources",
            &json!({"name": "Ads", "kind": "meta"}),
        )
        .await;
    let bad = app
        .post_json(
            &admin,
            "/v1/lead-sources",
            &json!({"name": " ", "kind": "fax", "utm_source": "a\nb"}),
        )
        .await;

    let meta = problem(meta, 422).await;
    assert_eq!(error_pointers(&meta), ["/app_secret", "/page_access_token"]);
    let bad = problem(bad, 422).await;
    assert_eq!(error_pointers(&bad), ["/name", "/kind", "/utm_source"]);
    let listed = get_json(&app, &admin, "/v1/lead-sources").await;
    assert_eq!(listed["items"], json!([]));
}

#[actix_web::test]
async fn a_lead_posted_with_a_source_key_is_attributed_to_it_and_its_own_utm_values_win() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let reader = app.key(&["leads:read"]);
    let source = zapier(&app, &admin).await;
    let key = source["key"].as_str().unwrap();
    let mut body = person("Jane Doe", "(415) 555-2671");
    body["utm_campaign"] = json!("summer");
    let site_lead = enquire(&app, person("John Roe", "(212) 555-0143")).await;

    let response = post_lead(&app, key, &body).await;

    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    let fields: Vec<&String> = receipt.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["contact_by", "id"],
        "the public answer keeps its shape"
    );
    let lead_id = app.lead_of(&receipt["id"]);
    let lead = get_json(&app, &reader, &format!("/v1/leads/{lead_id}")).await;
    assert_eq!(
        lead["lead_source"],
        json!({"id": source["id"], "name": "Zapier", "kind": "api"})
    );
    let attribution = &lead["submissions"][0]["attribution"];
    assert_eq!(attribution["utm_source"], "zapier");
    assert_eq!(attribution["utm_medium"], "automation");
    assert_eq!(
        attribution["utm_campaign"], "summer",
        "the lead's own value wins"
    );
    let site = get_json(&app, &reader, &format!("/v1/leads/{site_lead}")).await;
    assert_eq!(site["lead_source"], Value::Null);

    let filtered = get_json(
        &app,
        &reader,
        &format!("/v1/leads?source_id={}", source["id"].as_str().unwrap()),
    )
    .await;
    let items = filtered["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], lead_id.to_string());
    assert_eq!(items[0]["lead_source"]["name"], "Zapier");
    let csv = app
        .get_with(
            &reader,
            &format!(
                "/v1/leads/export?source_id={}",
                source["id"].as_str().unwrap()
            ),
        )
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].ends_with(",lead_source"));
    assert!(lines[1].ends_with(",Zapier"), "{csv}");
}

#[actix_web::test]
async fn a_source_key_skips_the_per_address_limit_but_not_the_per_number_one() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = lasting_window(1);
        settings.leads.rate_per_phone = lasting_window(1);
    })
    .await;
    let admin = app.key(&["admin"]);
    let key = zapier(&app, &admin).await["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let phones = ["(415) 555-2671", "(212) 555-0143", "(312) 555-0199"];
    for phone in phones {
        let response = post_lead(&app, &key, &person("Jane", phone)).await;
        assert_eq!(response.status(), 201, "{phone}");
    }
    let again = post_lead(&app, &key, &person("Jane", phones[0])).await;

    let again: Value = again.json().await.unwrap();
    let spam_reason: Option<String> = {
        use beacon::db::schema::lead_submissions;
        use diesel::prelude::*;
        let id: uuid::Uuid = again["id"].as_str().unwrap().parse().unwrap();
        lead_submissions::table
            .find(id)
            .select(lead_submissions::spam_reason)
            .first(&mut app.connection())
            .unwrap()
    };
    assert_eq!(spam_reason.as_deref(), Some("rate_limited"));
    // The site's own form from the same address is still held to its limit.
    let site = app
        .client
        .post(app.url("/v1/leads"))
        .json(&person("John", "(646) 555-0100"))
        .send()
        .await
        .unwrap();
    assert_eq!(site.status(), 201);
    let site_again = app
        .client
        .post(app.url("/v1/leads"))
        .json(&person("John", "(646) 555-0101"))
        .send()
        .await
        .unwrap();
    problem(site_again, 429).await;
}

#[actix_web::test]
async fn a_disabled_source_key_gets_403_until_it_is_enabled_again() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let source = zapier(&app, &admin).await;
    let (id, key) = (
        source["id"].as_str().unwrap(),
        source["key"].as_str().unwrap(),
    );
    let path = format!("/v1/lead-sources/{id}");

    let disabled = app
        .patch_json(&admin, &path, &json!({"enabled": false}))
        .await;
    assert_eq!(disabled.status(), 200);
    let refused = post_lead(&app, key, &person("Jane", "(415) 555-2671")).await;
    let refused = problem(refused, 403).await;
    assert!(refused["detail"].as_str().unwrap().contains("disabled"));

    let enabled: Value = app
        .patch_json(&admin, &path, &json!({"enabled": true, "utm_source": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(enabled["utm_source"], Value::Null);
    assert_eq!(enabled["utm_medium"], "automation");
    let accepted = post_lead(&app, key, &person("Jane", "(415) 555-2671")).await;
    assert_eq!(accepted.status(), 201);
}

#[actix_web::test]
async fn each_submission_in_the_staff_view_names_the_source_it_came_through() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let reader = app.key(&["leads:read"]);
    let source = zapier(&app, &admin).await;
    let key = source["key"].as_str().unwrap();
    let lead_id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;

    let repeat = post_lead(&app, key, &person("Jane Doe", "(415) 555-2671")).await;

    assert_eq!(repeat.status(), 201);
    let lead = get_json(&app, &reader, &format!("/v1/leads/{lead_id}")).await;
    let submissions = lead["submissions"].as_array().unwrap();
    assert_eq!(submissions.len(), 2, "the repeat joined the site's lead");
    assert_eq!(submissions[0]["lead_source"], Value::Null);
    assert_eq!(
        submissions[1]["lead_source"],
        json!({"id": source["id"], "name": "Zapier", "kind": "api"})
    );
    assert_eq!(
        lead["lead_source"],
        Value::Null,
        "the lead keeps its first touch"
    );
}

#[actix_web::test]
async fn deleting_a_source_revokes_its_key_and_its_leads_keep_its_name() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let reader = app.key(&["leads:read"]);
    let source = zapier(&app, &admin).await;
    let (id, key) = (
        source["id"].as_str().unwrap(),
        source["key"].as_str().unwrap(),
    );
    let receipt: Value = post_lead(&app, key, &person("Jane", "(415) 555-2671"))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/lead-sources/{id}");

    let deleted = app.delete_with(&admin, &path).await;

    assert_eq!(deleted.status(), 204);
    problem(app.get_with(&admin, &path).await, 404).await;
    let listed = get_json(&app, &admin, "/v1/lead-sources").await;
    assert_eq!(listed["items"], json!([]));
    problem(
        post_lead(&app, key, &person("Jane", "(212) 555-0143")).await,
        401,
    )
    .await;
    let lead_id = app.lead_of(&receipt["id"]);
    let lead = get_json(&app, &reader, &format!("/v1/leads/{lead_id}")).await;
    assert_eq!(lead["lead_source"]["name"], "Zapier");
}

#[actix_web::test]
async fn a_source_key_may_only_post_leads_and_other_keys_are_ignored_by_intake() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let key = zapier(&app, &admin).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let unattached = app.key(&["leads:create"]);

    problem(app.get_with(&key, "/v1/leads").await, 403).await;
    problem(app.get_with(&key, "/v1/lead-sources").await, 403).await;
    let reader = post_lead(
        &app,
        &app.key(&["leads:read"]),
        &person("Jane", "(415) 555-2671"),
    )
    .await;
    assert_eq!(
        reader.status(),
        201,
        "a key without leads:create is ignored"
    );
    let orphan = post_lead(&app, &unattached, &person("John", "(212) 555-0143")).await;
    let orphan = problem(orphan, 403).await;
    assert!(
        orphan["detail"]
            .as_str()
            .unwrap()
            .contains("no lead source")
    );
    let unknown = post_lead(
        &app,
        "bcn_000000000000_nope",
        &person("Ann", "(312) 555-0199"),
    )
    .await;
    problem(unknown, 401).await;
}

#[actix_web::test]
async fn changing_and_deleting_a_source_are_written_to_the_access_audit() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let source = zapier(&app, &admin).await;
    let id = source["id"].as_str().unwrap();
    let path = format!("/v1/lead-sources/{id}");

    let patched = app
        .patch_json(&admin, &path, &json!({"enabled": false, "utm_source": ""}))
        .await;
    let deleted = app.delete_with(&admin, &path).await;

    assert_eq!(patched.status(), 200);
    assert_eq!(deleted.status(), 204);
    let updates = get_json(&app, &admin, "/v1/audit?action=lead_source.updated").await;
    let updates = updates["items"].as_array().unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["key_name"], "test key");
    assert_eq!(
        updates[0]["filter"],
        json!({"lead_source_id": id, "fields": ["enabled", "utm_source"]})
    );
    let deletions = get_json(&app, &admin, "/v1/audit?action=lead_source.deleted").await;
    let deletions = deletions["items"].as_array().unwrap();
    assert_eq!(deletions.len(), 1);
    assert_eq!(deletions[0]["filter"], json!({"lead_source_id": id}));
    let revoked = get_json(&app, &admin, "/v1/audit?action=key.revoked").await;
    assert_eq!(revoked["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_refused_source_change_writes_nothing_to_the_audit() {
    let app = spawn_app().await;
    let admin = app.key(&["admin"]);
    let id = zapier(&app, &admin).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let bad = app
        .patch_json(
            &admin,
            &format!("/v1/lead-sources/{id}"),
            &json!({"name": " "}),
        )
        .await;
    let missing = app
        .patch_json(
            &admin,
            &format!("/v1/lead-sources/{}", uuid::Uuid::now_v7()),
            &json!({"enabled": false}),
        )
        .await;

    problem(bad, 422).await;
    problem(missing, 404).await;
    let updates = get_json(&app, &admin, "/v1/audit?action=lead_source.updated").await;
    assert_eq!(updates["items"], json!([]));
}
