//! `POST /v1/lead-sources/{id}/google-ads`: Google Ads lead form extensions posting leads to a
//! `google_ads` source's webhook.

use beacon::db::schema::{lead_submissions, leads};
use beacon::domain::rate_limit::FixedWindow;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};
use crate::lead_admin::{enquire, get_json, person};

/// Google's documented example lead (the webhook implementation guide's sample body).
fn documented_example(key: &str) -> Value {
    json!({
        "lead_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEe",
        "user_column_data": [
            {"column_name": "Full Name", "string_value": "FirstName LastName", "column_id": "FULL_NAME"},
            {"column_name": "User Phone", "string_value": "+16505550123", "column_id": "PHONE_NUMBER"},
            {"column_name": "User Email", "string_value": "test@example.com", "column_id": "EMAIL"}
        ],
        "api_version": "1.0",
        "form_id": 40000000000_i64,
        "campaign_id": 20000000000_i64,
        "google_key": key,
        "is_test": true,
        "gcl_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEe",
        "adgroup_id": 30000000000_i64,
        "creative_id": 50000000000_i64
    })
}

/// A real (not test) lead with a custom question.
fn real_lead(key: &str, lead_id: &str, name: &str, phone: &str) -> Value {
    json!({
        "lead_id": lead_id,
        "google_key": key,
        "is_test": false,
        "gcl_id": "Cj0KCQ-click",
        "form_id": 40000000000_i64,
        "campaign_id": 20000000000_i64,
        "user_column_data": [
            {"column_id": "FIRST_NAME", "column_name": "First Name", "string_value": name},
            {"column_id": "PHONE_NUMBER", "column_name": "User Phone", "string_value": phone},
            {"column_id": "POSTAL_CODE", "string_value": "94110"},
            {"column_id": "which_condition", "column_name": "Which condition would you like help with?",
             "string_value": "PTSD, post-traumatic stress disorder; Treatment-resistant depression"},
            {"column_id": "best_time", "column_name": "Best time to call?", "string_value": "Mornings"}
        ]
    })
}

struct Source {
    id: String,
    key: String,
    admin: String,
}

async fn google_source(app: &TestApp) -> Source {
    let admin = app.key(&["admin"]);
    let response = app
        .post_json(
            &admin,
            "/v1/lead-sources",
            &json!({"name": "Google Ads: spring form", "kind": "google_ads",
                    "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "trd-spring",
                    "interests_question": "which_condition"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["webhook_url"],
        format!("/v1/lead-sources/{id}/google-ads")
    );
    Source {
        key: created["key"].as_str().unwrap().to_owned(),
        id,
        admin,
    }
}

async fn deliver(app: &TestApp, source: &Source, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/v1/lead-sources/{}/google-ads", source.id)))
        .json(body)
        .send()
        .await
        .unwrap()
}

fn submission_count(app: &TestApp) -> i64 {
    lead_submissions::table
        .count()
        .get_result(&mut app.connection())
        .unwrap()
}

#[actix_web::test]
async fn the_documented_example_is_stored_as_one_test_lead_with_its_fields_and_attribution() {
    let app = spawn_app().await;
    let source = google_source(&app).await;
    let reader = app.key(&["leads:read"]);

    let response = deliver(&app, &source, &documented_example(&source.key)).await;

    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer.as_object().unwrap().len(),
        1,
        "a small body: {answer}"
    );
    let lead_id = app.lead_of(&answer["id"]);
    let lead = get_json(&app, &reader, &format!("/v1/leads/{lead_id}")).await;
    assert_eq!(lead["name"], "FirstName LastName");
    assert_eq!(lead["email"], "test@example.com");
    assert_eq!(lead["is_test"], true);
    assert_eq!(lead["lead_source"]["kind"], "google_ads");
    let submission = &lead["submissions"][0];
    assert_eq!(
        submission["external_id"],
        "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEe"
    );
    assert_eq!(submission["is_test"], true);
    assert_eq!(
        submission["attribution"]["gclid"],
        "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEe"
    );
    assert_eq!(submission["attribution"]["utm_source"], "google");
    assert_eq!(submission["attribution"]["utm_campaign"], "trd-spring");
    assert_eq!(
        submission["external_context"],
        json!({"campaign_id": "20000000000", "adgroup_id": "30000000000",
               "creative_id": "50000000000", "form_id": "40000000000", "api_version": "1.0"})
    );
    let phone: Option<String> = leads::table
        .select(leads::phone_e164)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(phone.as_deref(), Some("+16505550123"));
}

#[actix_web::test]
async fn a_test_lead_is_hidden_from_the_queue_and_the_stats_unless_asked_for() {
    let app = spawn_app().await;
    let source = google_source(&app).await;
    let reader = app.key(&["leads:read"]);
    enquire(&app, person("Jane Doe", "(415) 555-2671")).await;

    let response = deliver(&app, &source, &documented_example(&source.key)).await;

    assert_eq!(response.status(), 200);
    let queue = get_json(&app, &reader, "/v1/leads").await;
    let names: Vec<&Value> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["name"])
        .collect();
    assert_eq!(names, [&json!("Jane Doe")]);
    let tests = get_json(&app, &reader, "/v1/leads?test=true").await;
    let names: Vec<&Value> = tests["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["name"])
        .collect();
    assert_eq!(names, [&json!("FirstName LastName")]);
    let stats = get_json(&app, &reader, "/v1/leads/stats").await;
    assert_eq!(stats["total"], 1);
}

#[actix_web::test]
async fn a_wrong_or_missing_key_or_a_disabled_source_gets_401_an_unknown_source_404_and_nothing_is_recorded()
 {
    let app = spawn_app().await;
    let source = google_source(&app).await;
    let mut wrong = documented_example(&source.key);
    wrong["google_key"] = json!(format!("{}x", source.key));
    let mut missing = documented_example(&source.key);
    missing.as_object_mut().unwrap().remove("google_key");

    let wrong = deliver(&app, &source, &wrong).await;
    let missing = deliver(&app, &source, &missing).await;
    let unknown = app
        .client
        .post(app.url(&format!(
            "/v1/lead-sources/{}/google-ads",
            uuid::Uuid::now_v7()
        )))
        .json(&documented_example(&source.key))
        .send()
        .await
        .unwrap();
    let disabled = app
        .patch_json(
            &source.admin,
            &format!("/v1/lead-sources/{}", source.id),
            &json!({"enabled": false}),
        )
        .await;
    assert_eq!(disabled.status(), 200);
    let while_disabled = deliver(&app, &source, &documented_example(&source.key)).await;

    problem(unknown, 404).await;
    for response in [wrong, missing, while_disabled] {
        let problem = problem(response, 401).await;
        assert_eq!(
            problem["type"].as_str().unwrap().rsplit('/').next(),
            Some("unauthorized")
        );
    }
    assert_eq!(submission_count(&app), 0);
}

#[actix_web::test]
async fn a_deleted_source_refuses_its_key() {
    let app = spawn_app().await;
    let source = google_source(&app).await;
    let deleted = app
        .delete_with(&source.admin, &format!("/v1/lead-sources/{}", source.id))
        .await;
    assert_eq!(deleted.status(), 204);

    let response = deliver(&app, &source, &documented_example(&source.key)).await;

    problem(response, 404).await;
    assert_eq!(submission_count(&app), 0);
}

#[actix_web::test]
async fn a_redelivered_lead_id_gets_the_same_answer_and_records_nothing_more() {
    let app = spawn_app().await;
    let source = google_source(&app).await;
    let body = real_lead(&source.key, "lead-1", "Jane", "(415) 555-2671");

    let first = deliver(&app, &source, &body).await;
    let mut again = body.clone();
    again["api_version"] = json!("1.1");
    let second = deliver(&app, &source, &again).await;

    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200);
    let first: Value = first.json().await.unwrap();
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(submission_count(&app), 1);
    let leads: i64 = leads::table
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(leads, 1);
}

#[actix_web::test]
async fn custom_answers_are_kept_the_checklist_question_fills_interests_and_erasure_clears_them() {
    let app = spawn_app().await;
    let source = google_source(&app).await;
    let reader = app.key(&["leads:read"]);

    let response = deliver(
        &app,
        &source,
        &real_lead(&source.key, "lead-2", "Jane", "(415) 555-2671"),
    )
    .await;

    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let lead_id = app.lead_of(&answer["id"]);
    let lead = get_json(&app, &reader, &format!("/v1/leads/{lead_id}")).await;
    assert_eq!(lead["is_test"], false);
    assert_eq!(
        lead["interests"],
        json!(["ptsd", "treatment_resistant_depression"])
    );
    let answers = &lead["submissions"][0]["custom_answers"];
    assert_eq!(
        answers,
        &json!([
            {"key": "which_condition", "question": "Which condition would you like help with?",
             "answer": "PTSD, post-traumatic stress disorder; Treatment-resistant depression"},
            {"key": "best_time", "question": "Best time to call?", "answer": "Mornings"},
            {"key": "POSTAL_CODE", "question": "Postal code", "answer": "94110"}
        ])
    );

    let erased = app
        .delete_with(&source.admin, &format!("/v1/leads/{lead_id}"))
        .await;

    assert_eq!(erased.status(), 200, "{}", erased.text().await.unwrap());
    let kept: Vec<Option<Value>> = lead_submissions::table
        .select(lead_submissions::custom_answers)
        .load(&mut app.connection())
        .unwrap();
    assert!(kept.iter().all(Option::is_none), "{kept:?}");
}

#[actix_web::test]
async fn a_stranger_posting_a_known_number_learns_nothing_and_overwrites_nothing() {
    let app = spawn_app().await;
    let source = google_source(&app).await;
    let fresh = deliver(
        &app,
        &source,
        &real_lead(&source.key, "lead-a", "Someone", "(212) 555-0143"),
    )
    .await;
    enquire(&app, person("Jane Doe", "(415) 555-2671")).await;

    let stranger = deliver(
        &app,
        &source,
        &real_lead(&source.key, "lead-b", "Mallory", "(415) 555-2671"),
    )
    .await;

    // The same answer a first enquiry gets: nothing tells the number enquired before.
    assert_eq!(stranger.status(), fresh.status());
    let fresh: Value = fresh.json().await.unwrap();
    let stranger: Value = stranger.json().await.unwrap();
    let keys = |answer: &Value| {
        answer
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&stranger), keys(&fresh));
    let lead_id = app.lead_of(&stranger["id"]);
    let name: Option<String> = leads::table
        .find(lead_id)
        .select(leads::name)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(name.as_deref(), Some("Jane Doe"));
    assert_eq!(submission_count(&app), 3);
}

#[actix_web::test]
async fn googles_servers_are_not_held_by_the_per_address_limit() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow {
            limit: 1,
            length: chrono::TimeDelta::days(1),
        };
    })
    .await;
    let source = google_source(&app).await;

    for (i, phone) in ["(415) 555-2671", "(212) 555-0143", "(415) 867-5309"]
        .into_iter()
        .enumerate()
    {
        let response = deliver(
            &app,
            &source,
            &real_lead(&source.key, &format!("lead-{i}"), "Jane", phone),
        )
        .await;
        assert_eq!(response.status(), 200);
    }
}

#[actix_web::test]
async fn a_body_that_is_not_json_or_lacks_a_phone_is_a_clear_problem() {
    let app = spawn_app().await;
    let source = google_source(&app).await;

    let broken = app
        .client
        .post(app.url(&format!("/v1/lead-sources/{}/google-ads", source.id)))
        .header("Content-Type", "application/json")
        .body("{\"lead_id\": ")
        .send()
        .await
        .unwrap();
    let mut no_phone = real_lead(&source.key, "lead-3", "Jane", "");
    no_phone["user_column_data"][1]["string_value"] = json!("");
    let no_phone = deliver(&app, &source, &no_phone).await;

    problem(broken, 400).await;
    let no_phone = problem(no_phone, 422).await;
    assert_eq!(crate::helpers::error_pointers(&no_phone), ["/phone"]);
    assert_eq!(submission_count(&app), 0);
}
