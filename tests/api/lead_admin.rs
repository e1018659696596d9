//! `/v1/leads` for staff: the queue and its filters, one lead with its history, the pipeline,
//! CSV export, statistics, and the scopes every endpoint requires.

use std::collections::HashSet;

use beacon::db::schema::leads;
use beacon::domain::rate_limit::FixedWindow;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, problem, spawn_app_with};

/// An app without rate limits, for tests that send many enquiries.
pub async fn app() -> TestApp {
    spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = FixedWindow::per_hour(0);
        settings.leads.opt_out_rate_per_ip = FixedWindow::per_minute(0);
    })
    .await
}

/// Sends an enquiry and returns the id of the lead it joined (the answer names only the
/// submission).
pub async fn enquire(app: &TestApp, body: Value) -> Uuid {
    let response = app
        .client
        .post(app.url("/v1/leads"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let answer: Value = response.json().await.unwrap();
    app.lead_of(&answer["id"])
}

pub fn person(name: &str, phone: &str) -> Value {
    json!({"name": name, "phone": phone})
}

pub async fn get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.get_with(key, path).await
}

pub async fn get_json(app: &TestApp, key: &str, path: &str) -> Value {
    let response = get(app, key, path).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

pub async fn patch(app: &TestApp, key: &str, id: Uuid, body: Value) -> reqwest::Response {
    app.patch_json(key, &format!("/v1/leads/{id}"), &body).await
}

pub async fn patched(app: &TestApp, key: &str, id: Uuid, body: Value) -> Value {
    let response = patch(app, key, id, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn ids(list: &Value) -> Vec<Uuid> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Moves a lead's times (creation and deadline) for tests about dates.
pub fn set_times(app: &TestApp, id: Uuid, created_at: DateTime<Utc>, contact_by: DateTime<Utc>) {
    diesel::update(leads::table.find(id))
        .set((
            leads::created_at.eq(created_at),
            leads::contact_by.eq(contact_by),
            leads::first_received_at.eq(created_at),
            leads::last_received_at.eq(created_at),
        ))
        .execute(&mut app.connection())
        .unwrap();
}

// --- the list ---

#[actix_web::test]
async fn the_list_shows_the_newest_lead_first_with_the_persons_details() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let first = enquire(&app, person("Ada First", "(415) 555-0101")).await;
    let mut body = person("Bea Second", "(415) 555-0102");
    body["email"] = json!("bea@example.com");
    body["interests"] = json!(["ptsd"]);
    body["utm_source"] = json!("google");
    let second = enquire(&app, body).await;

    let list = get_json(&app, &reader, "/v1/leads").await;

    assert_eq!(ids(&list), [second, first]);
    let item = &list["items"][0];
    assert_eq!(item["name"], "Bea Second");
    assert_eq!(item["phone"], "(415) 555-0102");
    assert_eq!(item["phone_e164"], "+14155550102");
    assert_eq!(item["email"], "bea@example.com");
    assert_eq!(item["interests"], json!(["ptsd"]));
    assert_eq!(item["source"], "google");
    assert_eq!(item["status"], "new");
    assert_eq!(item["priority"], "normal");
    assert_eq!(item["overdue"], false);
    assert_eq!(list["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn each_filter_narrows_the_list_to_the_matching_leads() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let mut body = person("Ada Lovelace", "(415) 555-0101");
    body["email"] = json!("ada@example.com");
    body["interests"] = json!(["ptsd"]);
    body["utm_source"] = json!("google");
    let ada = enquire(&app, body).await;
    let mut body = person("Grace Hopper", "(212) 555-0142");
    body["interests"] = json!(["suicidal_ideation"]);
    body["utm_source"] = json!("Facebook");
    let grace = enquire(&app, body).await;
    let mut body = person("Alan Turing", "(312) 555-0199");
    body["email"] = json!("alan@example.org");
    let alan = enquire(&app, body).await;
    let mut spam = person("Spam Bot", "(617) 555-0123");
    spam["website"] = json!("https://spam.example");
    let bot = enquire(&app, spam).await;
    patched(
        &app,
        &writer,
        grace,
        json!({"status": "contacted", "assignee": "Maria"}),
    )
    .await;
    let now = Utc::now();
    set_times(
        &app,
        alan,
        now - Duration::days(10),
        now - Duration::days(9),
    );
    set_times(&app, ada, now - Duration::days(2), now + Duration::days(1));

    let cases: Vec<(&str, Vec<Uuid>)> = vec![
        ("", vec![grace, ada, alan]),
        ("status=contacted", vec![grace]),
        ("status=new,contacted", vec![grace, ada, alan]),
        ("status=spam", vec![bot]),
        ("include_spam=true", vec![bot, grace, ada, alan]),
        ("priority=urgent", vec![grace]),
        ("priority=normal", vec![ada, alan]),
        ("interest=ptsd", vec![ada]),
        ("interest=suicidal_ideation", vec![grace]),
        ("overdue=true", vec![alan]),
        ("overdue=false", vec![grace, ada]),
        ("assignee=maria", vec![grace]),
        ("source=facebook", vec![grace]),
        ("source=google", vec![ada]),
        ("q=lovelace", vec![ada]),
        ("q=ALAN%40EXAMPLE", vec![alan]),
        ("q=%2B1%20212%20555%200142", vec![grace]),
        ("q=212.555.0142", vec![grace]),
        ("q=2125550142", vec![grace]),
        ("q=555-0142", vec![grace]),
        ("q=0199", vec![alan]),
        ("q=5550", vec![grace, ada, alan]),
        ("q=nobody", vec![]),
    ];
    let after = (now - Duration::days(3)).to_rfc3339().replace('+', "%2B");
    let before = (now - Duration::days(1)).to_rfc3339().replace('+', "%2B");
    let dated = vec![
        (format!("created_after={after}"), vec![grace, ada]),
        (format!("created_before={before}"), vec![ada, alan]),
        (
            format!("created_after={after}&created_before={before}"),
            vec![ada],
        ),
    ];

    for (query, expected) in cases
        .into_iter()
        .map(|(q, e)| (q.to_owned(), e))
        .chain(dated)
    {
        let list = get_json(&app, &reader, &format!("/v1/leads?{query}")).await;
        assert_eq!(ids(&list), expected, "{query}");
    }
}

#[actix_web::test]
async fn pages_follow_the_cursor_and_the_link_header_to_the_end_without_repeats() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(enquire(&app, person("Page Person", &format!("(415) 555-01{i:02}"))).await);
    }
    created.reverse();

    let first = get(&app, &reader, "/v1/leads?limit=2&status=new").await;
    let link = first.headers()["link"].to_str().unwrap().to_owned();
    let first: Value = first.json().await.unwrap();
    let cursor = first["next_cursor"].as_str().unwrap();
    assert_eq!(
        link,
        format!("</v1/leads?limit=2&status=new&cursor={cursor}>; rel=\"next\"")
    );
    let second = get_json(
        &app,
        &reader,
        &format!("/v1/leads?limit=2&status=new&cursor={cursor}"),
    )
    .await;
    let cursor = second["next_cursor"].as_str().unwrap();
    let third = get(
        &app,
        &reader,
        &format!("/v1/leads?limit=2&status=new&cursor={cursor}"),
    )
    .await;
    assert!(third.headers().get("link").is_none());
    let third: Value = third.json().await.unwrap();

    let seen: Vec<Uuid> = [&first, &second, &third]
        .into_iter()
        .flat_map(ids)
        .collect();
    assert_eq!(seen, created);
    assert_eq!(third["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn a_bad_cursor_limit_or_filter_is_a_400() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);

    for query in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "cursor=not-a-cursor",
        "status=won",
        "priority=high",
        "interest=Not%20A%20Code",
        "overdue=maybe",
        "created_after=yesterday",
        &format!("q={}", "x".repeat(201)),
        "q=%20",
    ] {
        let response = get(&app, &reader, &format!("/v1/leads?{query}")).await;
        problem(response, 400).await;
    }
}

// --- one lead ---

#[actix_web::test]
async fn a_lead_shows_every_submission_its_consent_attribution_and_activity() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let mut first = person("Jane Doe", "(415) 555-2671");
    first["message"] = json!("First message");
    first["utm_source"] = json!("google");
    first["utm_campaign"] = json!("spring");
    first["consent"] = json!({"agreed": true, "text": "I agree to be called.", "version": "v1"});
    let id = enquire(&app, first).await;
    let mut second = person("Jane D.", "415-555-2671");
    second["message"] = json!("Second message");
    second["utm_source"] = json!("newsletter");
    enquire(&app, second).await;
    patched(
        &app,
        &writer,
        id,
        json!({"status": "contacted", "note": "Spoke briefly."}),
    )
    .await;

    let response = get(&app, &reader, &format!("/v1/leads/{id}")).await;

    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let lead: Value = response.json().await.unwrap();
    assert_eq!(etag, format!("\"v{}\"", lead["version"]));
    assert_eq!(lead["name"], "Jane Doe", "a repeat never renames the lead");
    assert_eq!(lead["other_contact_details"][0]["name"], "Jane D.");
    assert_eq!(lead["submission_count"], 2);
    assert_eq!(lead["source"], "google", "first touch");
    assert_eq!(lead["attribution"]["utm_campaign"], "spring");
    let messages: Vec<&str> = lead["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["First message", "Second message"]);
    assert_eq!(
        lead["submissions"][1]["attribution"]["utm_source"],
        "newsletter"
    );
    assert_eq!(lead["consent"][0]["kind"], "form");
    assert_eq!(lead["consent"][0]["agreed"], true);
    assert_eq!(lead["consent"][0]["ip"], "127.0.0.1");
    let activity: Vec<(&str, &str)> = lead["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        activity,
        [("status_changed", "test key"), ("note_added", "test key")]
    );
    assert_eq!(lead["activity"][1]["note"], "Spoke briefly.");
}

#[actix_web::test]
async fn a_stored_status_beacon_does_not_know_is_a_500_never_a_guess() {
    let app = app().await;
    let key = app.key(&["leads:read", "leads:write"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    let mut conn = app.connection();
    diesel::sql_query("ALTER TABLE leads DROP CONSTRAINT leads_status_check")
        .execute(&mut conn)
        .unwrap();
    diesel::update(leads::table.find(id))
        .set(leads::status.eq("won"))
        .execute(&mut conn)
        .unwrap();

    let read = get(&app, &key, &format!("/v1/leads/{id}")).await;
    let listed = get(&app, &key, "/v1/leads").await;
    let moved = patch(&app, &key, id, json!({"status": "contacted"})).await;

    for response in [read, listed, moved] {
        let body = problem(response, 500).await;
        assert_eq!(body["type"], "/problems/internal-error");
        assert!(
            !body.to_string().contains("won"),
            "the cause stays in the log"
        );
    }
}

#[actix_web::test]
async fn an_unknown_or_malformed_lead_id_is_a_404() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);

    let unknown = get(&app, &reader, &format!("/v1/leads/{}", Uuid::now_v7())).await;
    let malformed = get(&app, &reader, "/v1/leads/not-an-id").await;

    problem(unknown, 404).await;
    problem(malformed, 404).await;
}

// --- the pipeline ---

#[actix_web::test]
async fn a_lead_moves_along_the_pipeline_and_each_move_is_recorded_with_the_keys_name() {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let reader = app.key(&["leads:read"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;

    let contacted = patched(&app, &writer, id, json!({"status": "contacted"})).await;
    patched(&app, &writer, id, json!({"status": "qualified"})).await;
    let closed = patched(&app, &writer, id, json!({"status": "closed"})).await;

    assert_eq!(
        contacted["allowed_transitions"],
        json!(["qualified", "unqualified", "do_not_contact", "spam"])
    );
    assert_eq!(closed["status"], "closed");
    assert!(
        closed.get("name").is_none(),
        "a write key sees nothing personal"
    );
    let lead = get_json(&app, &reader, &format!("/v1/leads/{id}")).await;
    let moves: Vec<(String, String)> = lead["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["from_status"].as_str().unwrap().to_owned(),
                a["to_status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("new", "contacted"),
        ("contacted", "qualified"),
        ("qualified", "closed"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(moves, expected);
    assert!(
        lead["activity"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["actor"] == "test key")
    );
}

/// What a write answer may hold: where the lead stands, nothing about the person.
pub const WRITE_ANSWER_FIELDS: [&str; 6] = [
    "id",
    "status",
    "allowed_transitions",
    "assignee",
    "version",
    "updated_at",
];

/// The fields of a write answer outside [`WRITE_ANSWER_FIELDS`].
pub fn fields_beyond_the_write_answer(answer: &Value) -> Vec<String> {
    answer
        .as_object()
        .unwrap()
        .keys()
        .filter(|field| !WRITE_ANSWER_FIELDS.contains(&field.as_str()))
        .cloned()
        .collect()
}

#[actix_web::test]
async fn a_leads_write_only_keys_patch_answer_carries_no_personal_or_health_field() {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let mut body = person("Jane Doe", "(415) 555-2671");
    body["email"] = json!("jane@example.com");
    body["interests"] = json!(["suicidal_ideation"]);
    body["message"] = json!("I keep thinking about ending it.");
    let id = enquire(&app, body).await;

    let answer = patched(
        &app,
        &writer,
        id,
        json!({"status": "contacted", "assignee": "Maria", "note": "Talked about her plans."}),
    )
    .await;

    assert_eq!(
        fields_beyond_the_write_answer(&answer),
        Vec::<String>::new()
    );
    assert_eq!(answer["status"], "contacted");
    assert_eq!(answer["assignee"], "Maria");
    let text = answer.to_string();
    for secret in ["urgent", "Jane", "2671", "example.com", "ending", "plans"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[actix_web::test]
async fn an_invalid_move_is_a_409_naming_the_allowed_ones_and_changes_nothing() {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;

    let skip = patch(&app, &writer, id, json!({"status": "closed"})).await;
    patched(&app, &writer, id, json!({"status": "do_not_contact"})).await;
    let back = patch(&app, &writer, id, json!({"status": "contacted"})).await;

    let skip = problem(skip, 409).await;
    assert_eq!(
        skip["detail"],
        "a lead cannot move from `new` to `closed`; from `new` it can move to: `contacted`, \
         `do_not_contact`, `spam`"
    );
    let back = problem(back, 409).await;
    assert!(back["detail"].as_str().unwrap().contains("`spam`"));
    let status: String = leads::table
        .find(id)
        .select(leads::status)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(status, "do_not_contact");
}

#[actix_web::test]
async fn a_stale_if_match_is_a_412_and_the_current_one_succeeds() {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let reader = app.key(&["leads:read"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    let read = get(&app, &reader, &format!("/v1/leads/{id}")).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    patched(&app, &writer, id, json!({"assignee": "Maria"})).await;

    let stale = app
        .client
        .patch(app.url(&format!("/v1/leads/{id}")))
        .bearer_auth(&writer)
        .header("if-match", &etag)
        .json(&json!({"status": "contacted"}))
        .send()
        .await
        .unwrap();
    let fresh = get(&app, &reader, &format!("/v1/leads/{id}")).await;
    let current = fresh.headers()["etag"].to_str().unwrap().to_owned();
    let retried = app
        .client
        .patch(app.url(&format!("/v1/leads/{id}")))
        .bearer_auth(&writer)
        .header("if-match", &current)
        .json(&json!({"status": "contacted"}))
        .send()
        .await
        .unwrap();

    let body = problem(stale, 412).await;
    assert!(body["detail"].as_str().unwrap().contains(&current));
    assert_eq!(retried.status(), 200);
    assert_ne!(retried.headers()["etag"].to_str().unwrap(), current);
}

#[actix_web::test]
async fn a_repeat_enquiry_changes_the_lead_so_an_old_if_match_no_longer_holds() {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    let state = patched(&app, &writer, id, json!({"assignee": "Maria"})).await;

    enquire(&app, person("Jane Doe", "415-555-2671")).await;
    let response = app
        .client
        .patch(app.url(&format!("/v1/leads/{id}")))
        .bearer_auth(&writer)
        .header("if-match", format!("\"v{}\"", state["version"]))
        .json(&json!({"status": "contacted"}))
        .send()
        .await
        .unwrap();

    problem(response, 412).await;
}

#[actix_web::test]
async fn marking_spam_and_not_spam_are_recorded_changes() {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let reader = app.key(&["leads:read"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;

    patched(&app, &writer, id, json!({"status": "spam"})).await;
    let hidden = get_json(&app, &reader, "/v1/leads").await;
    let restored = patched(&app, &writer, id, json!({"status": "new"})).await;

    assert!(ids(&hidden).is_empty());
    assert_eq!(restored["status"], "new");
    let lead = get_json(&app, &reader, &format!("/v1/leads/{id}")).await;
    let moves: Vec<&str> = lead["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(moves, ["spam", "new"]);
}

#[actix_web::test]
async fn assigning_unassigning_and_notes_are_recorded_and_repeats_change_nothing() {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let reader = app.key(&["leads:read"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;

    let assigned = patched(
        &app,
        &writer,
        id,
        json!({"assignee": " Maria ", "note": "Line 1\nLine 2"}),
    )
    .await;
    let again = patched(&app, &writer, id, json!({"assignee": "Maria"})).await;
    let unassigned = patched(&app, &writer, id, json!({"assignee": null})).await;

    assert_eq!(assigned["assignee"], "Maria");
    assert_eq!(again["version"], assigned["version"], "nothing changed");
    assert_eq!(unassigned["assignee"], Value::Null);
    let lead = get_json(&app, &reader, &format!("/v1/leads/{id}")).await;
    let actions: Vec<&str> = lead["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["assigned", "note_added", "unassigned"]);
    assert_eq!(lead["activity"][1]["note"], "Line 1\nLine 2");
}

#[actix_web::test]
async fn an_invalid_change_is_a_422_per_field_and_an_empty_one_too() {
    let app = app().await;
    let writer = app.key(&["leads:write"]);
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;

    let invalid = patch(
        &app,
        &writer,
        id,
        json!({"status": "won", "assignee": "", "note": "x".repeat(2001)}),
    )
    .await;
    let empty = patch(&app, &writer, id, json!({})).await;
    let unknown = patch(&app, &writer, id, json!({"name": "Someone else"})).await;
    let missing = patch(
        &app,
        &writer,
        Uuid::now_v7(),
        json!({"status": "contacted"}),
    )
    .await;

    let invalid = problem(invalid, 422).await;
    let pointers: Vec<&str> = invalid["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/status", "/assignee", "/note"]);
    problem(empty, 422).await;
    problem(unknown, 422).await;
    problem(missing, 404).await;
}

// --- export ---

/// Reads RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last record ends with CRLF"
    );
    rows
}

pub async fn export(app: &TestApp, key: &str, query: &str) -> reqwest::Response {
    get(app, key, &format!("/v1/leads/export{query}")).await
}

#[actix_web::test]
async fn the_export_is_csv_with_commas_quotes_newlines_and_formulas_made_safe() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let mut tricky = person("Doe, \"JJ\" Jane", "(415) 555-2671");
    tricky["email"] = json!("jane@example.com");
    tricky["interests"] = json!(["ptsd", "suicidal_ideation"]);
    tricky["utm_source"] = json!("-2+3");
    let id = enquire(&app, tricky).await;
    let formula = enquire(
        &app,
        person("=HYPERLINK(\"http://evil.example\")", "(212) 555-0142"),
    )
    .await;
    patched(&app, &writer, id, json!({"assignee": "@maria"})).await;
    // Older data may hold line breaks in a name; the export must survive them.
    diesel::update(leads::table.find(formula))
        .set(leads::name.eq("=HYPERLINK(\"http://evil.example\")\r\nsecond line"))
        .execute(&mut app.connection())
        .unwrap();

    let response = export(&app, &reader, "").await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"leads-"),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0][..5],
        ["id", "created_at", "status", "priority", "name"]
    );
    assert_eq!(rows.len(), 3);
    let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let newest = &rows[1];
    assert_eq!(newest[column("id")], formula.to_string());
    assert_eq!(
        newest[column("name")],
        "'=HYPERLINK(\"http://evil.example\")\r\nsecond line"
    );
    let older = &rows[2];
    assert_eq!(older[column("name")], "Doe, \"JJ\" Jane");
    assert_eq!(older[column("phone_e164")], "'+14155552671");
    assert_eq!(older[column("email")], "jane@example.com");
    assert_eq!(older[column("interests")], "ptsd;suicidal_ideation");
    assert_eq!(older[column("assignee")], "'@maria");
    assert_eq!(older[column("source")], "'-2+3");
    assert_eq!(older[column("priority")], "urgent");
    assert!(
        text.contains("\"Doe, \"\"JJ\"\" Jane\""),
        "quotes are doubled inside quotes"
    );
}

#[actix_web::test]
async fn the_export_takes_the_lists_filters() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let mut body = person("Ada Lovelace", "(415) 555-0101");
    body["interests"] = json!(["ptsd"]);
    let ada = enquire(&app, body).await;
    enquire(&app, person("Grace Hopper", "(212) 555-0142")).await;

    let by_interest = export(&app, &reader, "?interest=ptsd")
        .await
        .text()
        .await
        .unwrap();
    let by_phone = export(&app, &reader, "?q=415.555.0101")
        .await
        .text()
        .await
        .unwrap();
    let bad = export(&app, &reader, "?status=won").await;

    for text in [by_interest, by_phone] {
        let rows = parse_csv(&text);
        assert_eq!(rows.len(), 2, "{text}");
        assert_eq!(rows[1][0], ada.to_string());
    }
    problem(bad, 400).await;
}

#[actix_web::test]
async fn a_large_export_streams_every_lead_in_chunks() {
    const LEADS: i64 = 6_000;
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    diesel::sql_query(format!(
        "INSERT INTO leads (id, status, priority, contact_by, first_received_at, \
             last_received_at, created_at, name, phone, phone_e164, email, interests) \
         SELECT gen_random_uuid(), 'new', 'normal', now() + interval '1 day', \
             now() - n * interval '1 second', now() - n * interval '1 second', \
             now() - n * interval '1 second', 'Person ' || n, '(415) 555-' || n, \
             '+1415555' || lpad(n::text, 4, '0'), 'p' || n || '@example.com', ARRAY['ptsd'] \
         FROM generate_series(1, {LEADS}) AS n"
    ))
    .execute(&mut app.connection())
    .unwrap();

    let response = export(&app, &reader, "").await;

    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("content-length").is_none(),
        "a streamed body has no length up front"
    );
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    let text = response.text().await.unwrap();
    let rows = parse_csv(&text);
    assert_eq!(rows.len() as i64, LEADS + 1);
    let unique: HashSet<&str> = rows[1..].iter().map(|row| row[0].as_str()).collect();
    assert_eq!(unique.len() as i64, LEADS);
    assert_eq!(rows[1][4], "Person 1", "newest first");
    assert_eq!(rows[rows.len() - 1][4], format!("Person {LEADS}"));
}

// --- statistics ---

#[actix_web::test]
async fn statistics_count_by_status_interest_source_day_and_contact_timeliness() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let writer = app.key(&["leads:write"]);
    let now = Utc::now();
    let mut body = person("On Time", "(415) 555-0101");
    body["interests"] = json!(["ptsd", "suicidal_ideation"]);
    body["utm_source"] = json!("google");
    let on_time = enquire(&app, body).await;
    let mut body = person("Late", "(415) 555-0102");
    body["interests"] = json!(["ptsd"]);
    body["utm_source"] = json!("google");
    let late = enquire(&app, body).await;
    let overdue = enquire(&app, person("Overdue", "(415) 555-0103")).await;
    let mut body = person("Awaiting", "(415) 555-0104");
    body["utm_source"] = json!("facebook");
    enquire(&app, body).await;
    let mut spam = person("Spam", "(415) 555-0105");
    spam["website"] = json!("x");
    spam["utm_source"] = json!("spamsource");
    enquire(&app, spam).await;
    set_times(&app, late, now - Duration::days(3), now - Duration::days(2));
    set_times(
        &app,
        overdue,
        now - Duration::days(3),
        now - Duration::days(2),
    );
    patched(&app, &writer, on_time, json!({"status": "contacted"})).await;
    patched(&app, &writer, late, json!({"status": "contacted"})).await;

    let stats = get_json(&app, &reader, "/v1/leads/stats").await;

    assert_eq!(stats["time_zone"], "America/New_York");
    assert_eq!(stats["total"], 4);
    assert_eq!(
        stats["by_status"],
        json!({"new": 2, "contacted": 2, "qualified": 0, "unqualified": 0, "closed": 0,
               "do_not_contact": 0, "spam": 1})
    );
    assert_eq!(
        stats["by_interest"],
        json!([{"key": "ptsd", "count": 2}, {"key": "suicidal_ideation", "count": 1}])
    );
    assert_eq!(
        stats["by_source"],
        json!([{"key": "google", "count": 2}, {"key": "facebook", "count": 1},
               {"key": null, "count": 1}])
    );
    assert_eq!(
        stats["contact"],
        json!({"on_time": 1, "late": 1, "overdue": 1, "awaiting": 1})
    );
    let zone: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let today = now.with_timezone(&zone).date_naive().to_string();
    let three_days_ago = (now - Duration::days(3))
        .with_timezone(&zone)
        .date_naive()
        .to_string();
    assert_eq!(
        stats["by_day"],
        json!([{"day": three_days_ago, "count": 2}, {"day": today, "count": 2}])
    );

    let today_only = get_json(
        &app,
        &reader,
        &format!("/v1/leads/stats?from={today}&to={today}"),
    )
    .await;
    assert_eq!(today_only["total"], 2);
    assert_eq!(today_only["from"], today);
    problem(
        get(
            &app,
            &reader,
            "/v1/leads/stats?from=2026-03-02&to=2026-03-01",
        )
        .await,
        400,
    )
    .await;
}

// --- keys and scopes ---

#[actix_web::test]
async fn every_management_endpoint_refuses_a_missing_key_and_a_key_without_its_scope() {
    let app = app().await;
    let id = enquire(&app, person("Jane Doe", "(415) 555-2671")).await;
    let lead = format!("/v1/leads/{id}");
    // (method, path, body, the scope it needs)
    let endpoints: Vec<(reqwest::Method, String, Option<Value>, &str)> = vec![
        (reqwest::Method::GET, "/v1/leads".into(), None, "leads:read"),
        (reqwest::Method::GET, lead.clone(), None, "leads:read"),
        (
            reqwest::Method::GET,
            "/v1/leads/export".into(),
            None,
            "leads:read",
        ),
        (
            reqwest::Method::GET,
            "/v1/leads/stats".into(),
            None,
            "leads:read",
        ),
        (
            reqwest::Method::PATCH,
            lead.clone(),
            Some(json!({"status": "contacted"})),
            "leads:write",
        ),
        (reqwest::Method::DELETE, lead.clone(), None, "admin"),
        (reqwest::Method::GET, "/v1/audit".into(), None, "admin"),
    ];
    let all = ["content:write", "leads:read", "leads:write", "admin"];

    for (method, path, body, scope) in endpoints {
        let others: Vec<&str> = all.iter().copied().filter(|s| *s != scope).collect();
        let wrong = app.key(&others);
        let send = |key: Option<&str>| {
            let mut request = app.client.request(method.clone(), app.url(&path));
            if let Some(key) = key {
                request = request.bearer_auth(key);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            request.send()
        };
        let missing = send(None).await.unwrap();
        let revoked_like = send(Some("bcn_0000000000000000_not-a-real-key"))
            .await
            .unwrap();
        let forbidden = send(Some(&wrong)).await.unwrap();

        let name = format!("{method} {path}");
        assert_eq!(missing.status(), 401, "{name} without a key");
        problem(missing, 401).await;
        problem(revoked_like, 401).await;
        let body = problem(forbidden, 403).await;
        assert!(body["detail"].as_str().unwrap().contains(scope), "{name}");
    }
    let status: String = leads::table
        .find(id)
        .select(leads::status)
        .first(&mut app.connection())
        .unwrap();
    assert_eq!(status, "new", "nothing was changed or erased");
}
