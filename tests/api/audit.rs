//! `GET /v1/audit`: every read of personal data, export and erasure leaves an entry naming
//! the key, the action, the lead or filter, and how many leads; search terms never.

use beacon::db::schema::access_audit;
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, problem};
use crate::lead_admin::{app, enquire, get, get_json, person};

/// The lead entries of a page (the keys each test makes are audited too).
fn entries(list: &Value) -> Vec<(String, String, i64)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| !entry["action"].as_str().unwrap().starts_with("key."))
        .map(|entry| {
            (
                entry["action"].as_str().unwrap().to_owned(),
                entry["key_name"].as_str().unwrap().to_owned(),
                entry["row_count"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn audit(app: &TestApp, admin: &str, query: &str) -> Value {
    get_json(app, admin, &format!("/v1/audit{query}")).await
}

#[actix_web::test]
async fn reads_exports_and_erasures_are_audited_with_key_action_lead_and_count() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let admin = app.key(&["admin"]);
    let first = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    let second = enquire(&app, person("Grace Hopper", "(212) 555-0142")).await;

    get_json(&app, &reader, &format!("/v1/leads/{first}")).await;
    get_json(&app, &reader, "/v1/leads?status=new").await;
    get(&app, &reader, "/v1/leads/export?interest=ptsd")
        .await
        .text()
        .await
        .unwrap();
    get_json(&app, &reader, "/v1/leads/stats").await;
    app.delete_with(&admin, &format!("/v1/leads/{second}"))
        .await;

    let list = audit(&app, &admin, "").await;
    assert_eq!(
        entries(&list),
        [
            ("lead.erase".into(), "test key".into(), 1),
            ("lead.export".into(), "test key".into(), 0),
            ("lead.list".into(), "test key".into(), 2),
            ("lead.read".into(), "test key".into(), 1),
        ],
        "stats show nothing personal and are not audited"
    );
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[0]["lead_id"], second.to_string());
    assert_eq!(items[1]["filter"], json!({"interest": "ptsd"}));
    assert_eq!(items[2]["filter"], json!({"status": ["new"]}));
    assert_eq!(items[2]["lead_ids"], json!([second, first]));
    assert_eq!(items[3]["lead_id"], first.to_string());
    assert!(items.iter().take(4).all(|item| item["key_id"].is_string()));
}

#[actix_web::test]
async fn the_audit_never_stores_a_search_term() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let admin = app.key(&["admin"]);
    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    get_json(&app, &reader, "/v1/leads?q=Lovelace").await;
    get(&app, &reader, "/v1/leads/export?q=415-555-0101")
        .await
        .text()
        .await
        .unwrap();

    let list = audit(&app, &admin, "").await;
    // The number's own digits, not "555": ids and timestamps may hold that by chance.
    let text = list.to_string();
    for term in ["Lovelace", "555-0101", "5550101"] {
        assert!(!text.contains(term), "{term} in {text}");
    }
    assert_eq!(list["items"][0]["filter"], json!({"q": "[redacted]"}));
    assert_eq!(list["items"][1]["filter"], json!({"q": "[redacted]"}));
}

#[actix_web::test]
async fn the_audit_filters_by_lead_action_and_key_and_pages_newest_first() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    let admin = app.key(&["admin"]);
    let ada = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    let grace = enquire(&app, person("Grace Hopper", "(212) 555-0142")).await;
    for _ in 0..3 {
        get_json(&app, &reader, &format!("/v1/leads/{ada}")).await;
    }
    get_json(&app, &reader, &format!("/v1/leads/{grace}")).await;
    get_json(&app, &reader, "/v1/leads?q=Ada").await;

    let about_ada = audit(&app, &admin, &format!("?lead_id={ada}")).await;
    let reads = audit(&app, &admin, "?action=lead.read").await;
    let key_id: Uuid = reads["items"][0]["key_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let by_key = audit(&app, &admin, &format!("?key_id={key_id}")).await;
    let first_page = get(&app, &admin, "/v1/audit?limit=2").await;
    let link = first_page.headers()["link"].to_str().unwrap().to_owned();
    let first_page: Value = first_page.json().await.unwrap();
    let cursor = first_page["next_cursor"].as_str().unwrap();
    let rest = audit(&app, &admin, &format!("?limit=10&cursor={cursor}")).await;

    assert_eq!(
        entries(&about_ada).len(),
        4,
        "three reads and the list that showed Ada"
    );
    assert_eq!(entries(&reads).len(), 4);
    assert_eq!(entries(&by_key).len(), 5);
    assert!(link.contains(&format!("cursor={cursor}")));
    let mut ids: Vec<String> = [&first_page, &rest]
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap().iter())
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 7, "five lead entries and the two keys' creation");
    ids.dedup();
    assert_eq!(ids.len(), 7);
    for bad in ["?limit=0", "?cursor=nope", "?action=lead.delete"] {
        problem(get(&app, &admin, &format!("/v1/audit{bad}")).await, 400).await;
    }
}

#[actix_web::test]
async fn audit_entries_cannot_be_changed_or_deleted() {
    let app = app().await;
    let reader = app.key(&["leads:read"]);
    get_json(&app, &reader, "/v1/leads").await;

    let update = diesel::update(access_audit::table)
        .set(access_audit::row_count.eq(99))
        .execute(&mut app.connection());
    let delete = diesel::delete(access_audit::table).execute(&mut app.connection());

    assert!(update.is_err() && delete.is_err());
    let count: i64 = access_audit::table
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(count, 2, "the key's creation and the read");
}
