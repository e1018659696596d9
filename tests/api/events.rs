//! The events outbox and `GET /v1/events`: each change records its event in its own
//! transaction (and a failed one none), payloads hold nothing personal, erasure clears the
//! personal part, the feed pages in commit-safe order, and time-based events are recorded once
//! however many scans run.

use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use beacon::db::schema::events;
use beacon::domain::article::Status;
use beacon::domain::event::{ArticleEvent, ArticlePayload, NewEvent};
use beacon::domain::rate_limit::FixedWindow;
use beacon::services::events::{Scanned, scan};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::articles::{article, created, published};
use crate::helpers::{TestApp, problem, spawn_app_with};
use crate::lead_admin::{enquire, patch, patched, person};

/// No rate limits, and no scan of its own: tests scan when they choose.
async fn app() -> TestApp {
    spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = FixedWindow::per_hour(0);
        settings.leads.opt_out_rate_per_ip = FixedWindow::per_minute(0);
        settings.events.scan_interval = None;
    })
    .await
}

async fn page(app: &TestApp, key: &str, query: &str) -> Value {
    let response = app.get_with(key, &format!("/v1/events{query}")).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Every event the feed shows now, page by page.
async fn feed(app: &TestApp, key: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(id) => format!("?limit=200&after={id}"),
            None => "?limit=200".to_owned(),
        };
        let page = page(app, key, &query).await;
        let items = page["items"].as_array().unwrap().clone();
        if items.is_empty() {
            return events;
        }
        after = Some(page["next_after"].as_str().unwrap().to_owned());
        events.extend(items);
    }
}

/// The feed once it shows at least `count` events. Transactions anywhere on the server (other
/// tests' too) can hold the feed back for a moment, never reorder it.
async fn feed_of(app: &TestApp, key: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let events = feed(app, key).await;
        if events.len() >= count || Instant::now() > deadline {
            assert_eq!(events.len(), count, "{events:#?}");
            return events;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect()
}

/// The personal part stored with each event about `subject`, oldest first.
fn personal_of(app: &TestApp, subject: Uuid) -> Vec<Option<Value>> {
    events::table
        .filter(events::subject_id.eq(subject))
        .order((events::txid, events::id))
        .select(events::personal)
        .load(&mut app.connection())
        .unwrap()
}

fn scan_at(app: &TestApp, now: DateTime<Utc>) -> Scanned {
    scan(&mut app.connection(), now).unwrap()
}

/// Runs two scans at `now` at the same moment, on two connections.
fn two_scans_at(app: &TestApp, now: DateTime<Utc>) -> Vec<Scanned> {
    let start = Arc::new(Barrier::new(2));
    let scans: Vec<_> = (0..2)
        .map(|_| {
            let mut conn = app.connection();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                scan(&mut conn, now).unwrap()
            })
        })
        .collect();
    scans.into_iter().map(|scan| scan.join().unwrap()).collect()
}

fn contact_by(app: &TestApp, lead: Uuid) -> DateTime<Utc> {
    use beacon::db::schema::leads;
    leads::table
        .find(lead)
        .select(leads::contact_by)
        .first(&mut app.connection())
        .unwrap()
}

// --- leads ---

#[actix_web::test]
async fn a_new_lead_emits_lead_created_with_its_attribution_and_its_persons_details_kept_apart() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let mut body = person("Ada Lovelace", "(415) 555-0101");
    body["utm_source"] = json!("google");
    body["utm_campaign"] = json!("trd-spring");
    body["article_slug"] = json!("ketamine-for-depression");
    body["message"] = json!("Please call after six");

    let lead = enquire(&app, body).await;

    let events = feed_of(&app, &admin, 1).await;
    let event = &events[0];
    assert_eq!(event["type"], "lead.created");
    assert_eq!(event["subject_id"], lead.to_string());
    let payload = &event["payload"];
    assert_eq!(payload["lead_id"], lead.to_string());
    assert_eq!(payload["status"], "new");
    assert_eq!(payload["source"], "google");
    assert_eq!(payload["changes"], json!([]));
    assert!(payload["contact_by"].is_string());
    assert_eq!(payload["enquiry"]["utm_campaign"], "trd-spring");
    assert_eq!(
        payload["enquiry"]["article_slug"],
        "ketamine-for-depression"
    );
    let personal = personal_of(&app, lead).remove(0).unwrap();
    assert_eq!(personal["name"], "Ada Lovelace");
    assert_eq!(personal["phone_e164"], "+14155550101");
    assert_eq!(personal["message"], "Please call after six");
    assert_eq!(personal["priority"], "normal");
}

#[actix_web::test]
async fn a_repeat_enquiry_emits_lead_updated_and_quarantined_spam_emits_nothing() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let lead = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    let mut again = person("Ada Lovelace", "(415) 555-0101");
    again["utm_source"] = json!("newsletter");
    assert_eq!(enquire(&app, again).await, lead);
    let mut spam = person("Spam Bot", "(617) 555-0123");
    spam["website"] = json!("https://spam.example");
    enquire(&app, spam).await;
    let later = enquire(&app, person("Grace Hopper", "(212) 555-0142")).await;

    let events = feed_of(&app, &admin, 3).await;

    assert_eq!(
        types(&events),
        ["lead.created", "lead.updated", "lead.created"]
    );
    let repeat = &events[1]["payload"];
    assert_eq!(repeat["lead_id"], lead.to_string());
    assert_eq!(repeat["changes"], json!(["enquiry"]));
    assert_eq!(repeat["previous_status"], Value::Null);
    assert_eq!(repeat["enquiry"]["utm_source"], "newsletter");
    assert_eq!(events[2]["subject_id"], later.to_string());
}

#[actix_web::test]
async fn staff_changes_of_status_or_assignee_emit_lead_updated_and_a_note_alone_emits_nothing() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let writer = app.key(&["leads:write"]);
    let lead = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    patched(&app, &writer, lead, json!({"status": "contacted"})).await;
    patched(&app, &writer, lead, json!({"note": "Prefers evenings"})).await;
    patched(
        &app,
        &writer,
        lead,
        json!({"assignee": "Sam", "note": "Hers"}),
    )
    .await;

    let events = feed_of(&app, &admin, 3).await;
    assert_eq!(
        types(&events),
        ["lead.created", "lead.updated", "lead.updated"]
    );
    let status = &events[1]["payload"];
    assert_eq!(status["changes"], json!(["status"]));
    assert_eq!(status["status"], "contacted");
    assert_eq!(status["previous_status"], "new");
    let assignee = &events[2]["payload"];
    assert_eq!(assignee["changes"], json!(["assignee"]));
    assert_eq!(assignee["assignee"], "Sam");
    assert_eq!(assignee["previous_status"], Value::Null);
    assert_eq!(
        personal_of(&app, lead)[1..],
        [None, None],
        "the tools know the person already"
    );
}

#[actix_web::test]
async fn a_change_that_fails_emits_nothing() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let writer = app.key(&["leads:write"]);
    let lead = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    let stale = app
        .client
        .patch(app.url(&format!("/v1/leads/{lead}")))
        .bearer_auth(&writer)
        .header("if-match", "\"v0\"")
        .json(&json!({"status": "contacted"}))
        .send()
        .await
        .unwrap();
    problem(stale, 412).await;
    let refused = patch(&app, &writer, lead, json!({"status": "closed"})).await;
    problem(refused, 409).await;
    // A change made after the failures: once its event shows, theirs would have too.
    let marker = enquire(&app, person("Grace Hopper", "(212) 555-0142")).await;

    let events = feed_of(&app, &admin, 2).await;
    assert_eq!(types(&events), ["lead.created", "lead.created"]);
    assert_eq!(events[1]["subject_id"], marker.to_string());
}

#[actix_web::test]
async fn spam_reaches_the_tools_only_when_staff_release_it_and_then_with_the_persons_details() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let writer = app.key(&["leads:write"]);
    let mut body = person("Bea Quarantined", "(617) 555-0123");
    body["website"] = json!("https://spam.example");
    let lead = enquire(&app, body).await;
    patched(&app, &writer, lead, json!({"assignee": "Sam"})).await;

    patched(&app, &writer, lead, json!({"status": "new"})).await;

    let events = feed_of(&app, &admin, 1).await;
    assert_eq!(types(&events), ["lead.updated"]);
    let payload = &events[0]["payload"];
    assert_eq!(payload["status"], "new");
    assert_eq!(payload["previous_status"], "spam");
    assert_eq!(payload["changes"], json!(["status"]));
    let personal = personal_of(&app, lead).remove(0).unwrap();
    assert_eq!(personal["name"], "Bea Quarantined");
}

#[actix_web::test]
async fn an_opt_out_emits_lead_opted_out_and_lifting_it_emits_lead_updated() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let writer = app.key(&["leads:write"]);
    let lead = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;

    let opt_out = app
        .client
        .post(app.url("/v1/leads/opt-out"))
        .json(&json!({"phone": "+1 415-555-0101"}))
        .send()
        .await
        .unwrap();
    assert_eq!(opt_out.status(), 202);
    let reinstated = app
        .post_json(
            &writer,
            &format!("/v1/leads/{lead}/reinstate"),
            &json!({"reason": "She called us and asked to be contacted"}),
        )
        .await;
    assert_eq!(
        reinstated.status(),
        200,
        "{}",
        reinstated.text().await.unwrap()
    );

    let events = feed_of(&app, &admin, 3).await;
    assert_eq!(
        types(&events),
        ["lead.created", "lead.opted_out", "lead.updated"]
    );
    let opted_out = &events[1]["payload"];
    assert_eq!(opted_out["status"], "do_not_contact");
    assert_eq!(opted_out["previous_status"], "new");
    assert!(opted_out["opted_out_at"].is_string());
    let lifted = &events[2]["payload"];
    assert_eq!(lifted["changes"], json!(["status", "opt_out_lifted"]));
    assert_eq!(lifted["status"], "new");
    assert_eq!(lifted["opted_out_at"], Value::Null);
}

#[actix_web::test]
async fn erasure_emits_lead_erased_and_clears_the_personal_part_of_every_event_of_the_lead() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let lead = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    let other = enquire(&app, person("Grace Hopper", "(212) 555-0142")).await;
    assert!(personal_of(&app, lead).iter().all(Option::is_some));

    let erased = app.delete_with(&admin, &format!("/v1/leads/{lead}")).await;
    assert_eq!(erased.status(), 200);

    assert_eq!(personal_of(&app, lead), [None, None, None]);
    assert!(
        personal_of(&app, other)[0].is_some(),
        "other leads keep theirs"
    );
    let events = feed_of(&app, &admin, 4).await;
    assert_eq!(events[3]["type"], "lead.erased");
    let payload = &events[3]["payload"];
    assert_eq!(payload["lead_id"], lead.to_string());
    assert_eq!(payload["contact_by"], Value::Null);
}

#[actix_web::test]
async fn no_event_in_the_feed_holds_the_persons_details() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let writer = app.key(&["leads:write"]);
    let mut body = person("Zelda Quixote", "(415) 555-0199");
    body["email"] = json!("zelda.quixote@example.com");
    body["interests"] = json!(["suicidal_ideation", "ptsd"]);
    body["message"] = json!("Flashbacks every night since the accident");
    body["preferred_contact_time"] = json!("Weekday mornings");
    let lead = enquire(&app, body.clone()).await;
    enquire(&app, body).await;
    patched(
        &app,
        &writer,
        lead,
        json!({"assignee": "Sam", "note": "Zelda sounded scared"}),
    )
    .await;
    patched(&app, &writer, lead, json!({"status": "contacted"})).await;
    scan_at(&app, Utc::now() + chrono::Duration::days(30));
    app.client
        .post(app.url("/v1/leads/opt-out"))
        .json(&json!({"phone": "(415) 555-0199"}))
        .send()
        .await
        .unwrap();
    app.delete_with(&admin, &format!("/v1/leads/{lead}")).await;

    let events = feed_of(&app, &admin, 6).await;

    assert_eq!(
        types(&events),
        [
            "lead.created",
            "lead.updated",
            "lead.updated",
            "lead.updated",
            "lead.opted_out",
            "lead.erased"
        ]
    );
    let text = serde_json::to_string(&events).unwrap().to_lowercase();
    for secret in [
        "zelda",
        "quixote",
        "555-0199",
        "5550199",
        "zelda.quixote@example.com",
        "suicidal",
        "ptsd",
        "flashbacks",
        "weekday mornings",
        "urgent",
        "priority",
        "scared",
    ] {
        assert!(!text.contains(secret), "the feed shows {secret:?}");
    }
}

// --- articles ---

#[actix_web::test]
async fn article_events_follow_what_readers_see() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let editor = app.key(&["content:write"]);
    let draft = created(&app, &editor, &article("A draft")).await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let edit = |title: &str| json!({"title": title});
    let action = |name: &str| format!("/v1/articles/{id}/{name}");

    app.patch_json(
        &editor,
        &format!("/v1/articles/{id}"),
        &edit("Still a draft"),
    )
    .await;
    app.post_json(&editor, &action("publish"), &json!({})).await;
    app.patch_json(&editor, &format!("/v1/articles/{id}"), &edit("Live now"))
        .await;
    app.post_json(&editor, &action("unpublish"), &json!({}))
        .await;
    app.post_json(&editor, &action("publish"), &json!({})).await;
    app.post_json(&editor, &action("archive"), &json!({})).await;
    app.post_json(&editor, &action("publish"), &json!({})).await;
    let deleted = app
        .delete_with(&editor, &format!("/v1/articles/{id}"))
        .await;
    assert_eq!(deleted.status(), 204);
    let other = created(&app, &editor, &published("Born public")).await;
    let draft_deleted = created(&app, &editor, &article("Never seen")).await;
    app.delete_with(
        &editor,
        &format!("/v1/articles/{}", draft_deleted["id"].as_str().unwrap()),
    )
    .await;

    let events = feed_of(&app, &admin, 8).await;

    assert_eq!(
        types(&events),
        [
            "article.published",
            "article.updated",
            "article.unpublished",
            "article.published",
            "article.unpublished",
            "article.published",
            "article.deleted",
            "article.published",
        ]
    );
    let updated = &events[1]["payload"];
    assert_eq!(updated["article_id"], id);
    assert_eq!(updated["title"], "Live now");
    assert_eq!(updated["status"], "published");
    assert!(updated["published_at"].is_string());
    assert!(updated["version"].is_i64());
    assert_eq!(events[2]["payload"]["status"], "draft");
    assert_eq!(events[4]["payload"]["status"], "archived");
    assert_eq!(events[7]["subject_id"], other["id"]);
}

#[actix_web::test]
async fn a_scheduled_article_is_published_once_when_its_time_comes_even_with_two_scans_at_once() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let editor = app.key(&["content:write"]);
    // Whole seconds: PostgreSQL keeps microseconds, the clock has more.
    let at = (Utc::now() + chrono::Duration::hours(1))
        .trunc_subsecs(0)
        .to_rfc3339();
    let mut body = article("Coming soon");
    body["status"] = json!("scheduled");
    body["published_at"] = json!(at);
    let scheduled = created(&app, &editor, &body).await;
    let id = scheduled["id"].as_str().unwrap().to_owned();

    assert_eq!(scan_at(&app, Utc::now()), Scanned::default());
    let later = Utc::now() + chrono::Duration::hours(2);
    let scans = two_scans_at(&app, later);
    assert_eq!(scans.iter().map(|scan| scan.published).sum::<usize>(), 1);
    assert_eq!(scan_at(&app, later).published, 0, "nothing is due twice");
    let due = beacon::db::events::due_scheduled_articles(&mut app.connection(), later, 10);
    assert!(
        due.unwrap().is_empty(),
        "the scan's key is the one recorded"
    );

    // Scheduled again, for another time: that publication is another event.
    let again = (Utc::now() + chrono::Duration::hours(5))
        .trunc_subsecs(0)
        .to_rfc3339();
    let response = app
        .post_json(
            &editor,
            &format!("/v1/articles/{id}/schedule"),
            &json!({"published_at": again}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(scan_at(&app, later).published, 0, "not yet");
    assert_eq!(
        scan_at(&app, Utc::now() + chrono::Duration::hours(6)).published,
        1
    );

    let events = feed_of(&app, &admin, 2).await;
    assert_eq!(types(&events), ["article.published", "article.published"]);
    let first = &events[0];
    assert_eq!(first["subject_id"], id);
    assert_eq!(first["payload"]["status"], "published");
    let published_at = |event: &Value| {
        DateTime::parse_from_rfc3339(event["payload"]["published_at"].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        published_at(first),
        DateTime::parse_from_rfc3339(&at).unwrap()
    );
    assert_eq!(
        published_at(&events[1]),
        DateTime::parse_from_rfc3339(&again).unwrap()
    );
    assert_eq!(first["occurred_at"], first["payload"]["published_at"]);
}

#[actix_web::test]
async fn the_running_app_publishes_a_scheduled_article_when_its_time_comes() {
    let app = spawn_app_with(|settings| {
        settings.events.scan_interval = Some(Duration::from_millis(100));
    })
    .await;
    let admin = app.key(&["admin"]);
    let editor = app.key(&["content:write"]);
    let mut body = article("In two seconds");
    body["status"] = json!("scheduled");
    body["published_at"] = json!((Utc::now() + chrono::Duration::seconds(2)).to_rfc3339());
    created(&app, &editor, &body).await;

    let events = feed_of(&app, &admin, 1).await;

    assert_eq!(types(&events), ["article.published"]);
}

#[actix_web::test]
async fn an_edit_after_a_scheduled_time_announces_the_publication_first_and_only_once() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let editor = app.key(&["content:write"]);
    let mut body = article("Due");
    body["status"] = json!("scheduled");
    body["published_at"] = json!((Utc::now() + chrono::Duration::hours(1)).to_rfc3339());
    let scheduled = created(&app, &editor, &body).await;
    let id = scheduled["id"].as_str().unwrap();
    crate::articles::set_published_at(&app, id, Utc::now() - chrono::Duration::minutes(1));

    app.patch_json(
        &editor,
        &format!("/v1/articles/{id}"),
        &json!({"title": "Due, edited"}),
    )
    .await;
    assert_eq!(scan_at(&app, Utc::now()).published, 0);

    let events = feed_of(&app, &admin, 2).await;
    assert_eq!(types(&events), ["article.published", "article.updated"]);
}

// --- time-based lead events ---

#[actix_web::test]
async fn an_overdue_new_lead_emits_lead_sla_breached_once_even_with_two_scans_at_once() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let writer = app.key(&["leads:write"]);
    let waiting = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    let called = enquire(&app, person("Grace Hopper", "(212) 555-0142")).await;
    patched(&app, &writer, called, json!({"status": "contacted"})).await;
    let mut spam = person("Spam Bot", "(617) 555-0123");
    spam["website"] = json!("https://spam.example");
    enquire(&app, spam).await;
    let deadline = contact_by(&app, waiting);

    assert_eq!(scan_at(&app, deadline).breached, 0, "not past it yet");
    let after = deadline + chrono::Duration::seconds(1);
    let scans = two_scans_at(&app, after);
    assert_eq!(scans.iter().map(|scan| scan.breached).sum::<usize>(), 1);
    assert_eq!(scan_at(&app, after + chrono::Duration::days(3)).breached, 0);
    let overdue = beacon::db::events::overdue_leads(&mut app.connection(), after, 10);
    assert!(
        overdue.unwrap().is_empty(),
        "the scan's key is the one recorded"
    );

    let events = feed_of(&app, &admin, 4).await;
    assert_eq!(
        types(&events),
        [
            "lead.created",
            "lead.created",
            "lead.updated",
            "lead.sla_breached"
        ]
    );
    let breach = &events[3];
    assert_eq!(breach["subject_id"], waiting.to_string());
    assert_eq!(breach["payload"]["status"], "new");
    assert_eq!(
        DateTime::parse_from_rfc3339(breach["occurred_at"].as_str().unwrap()).unwrap(),
        deadline
    );
}

// --- the feed ---

#[actix_web::test]
async fn the_feed_pages_in_order_with_after() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let mut leads = Vec::new();
    for n in 0..5 {
        leads.push(enquire(&app, person("Ada Lovelace", &format!("(415) 555-010{n}"))).await);
    }
    let all = feed_of(&app, &admin, 5).await;
    let subjects: Vec<String> = all
        .iter()
        .map(|event| event["subject_id"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = leads.iter().map(Uuid::to_string).collect();
    assert_eq!(
        subjects, expected,
        "made one after another, listed in that order"
    );

    let mut paged = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let page = page(&app, &admin, &query).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        if items.is_empty() {
            assert_eq!(page["next_after"], all[4]["id"], "kept while caught up");
            break;
        }
        assert_eq!(page["next_after"], items.last().unwrap()["id"]);
        paged.extend(items.iter().cloned());
        query = format!("?limit=2&after={}", page["next_after"].as_str().unwrap());
    }
    assert_eq!(paged, all);
    assert_eq!(
        page(&app, &admin, "").await["items"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[actix_web::test]
async fn the_feed_refuses_an_unknown_after_and_a_limit_out_of_range() {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let empty = page(&app, &admin, "").await;
    assert_eq!(empty, json!({"items": [], "next_after": null}));

    for query in [
        format!("?after={}", Uuid::now_v7()),
        "?after=not-an-id".to_owned(),
        "?limit=0".to_owned(),
        "?limit=201".to_owned(),
    ] {
        let response = app.get_with(&admin, &format!("/v1/events{query}")).await;
        let body = problem(response, 400).await;
        assert_eq!(body["type"], "/problems/bad-request", "{query}");
    }
}

#[actix_web::test]
async fn an_event_of_a_transaction_still_open_holds_back_itself_and_every_later_one_until_it_commits()
 {
    let app = app().await;
    let admin = app.key(&["admin"]);
    let editor = app.key(&["content:write"]);
    created(&app, &editor, &published("First")).await;
    let first = feed_of(&app, &admin, 1).await;
    let after = first[0]["id"].as_str().unwrap().to_owned();

    // A change whose transaction stays open on another connection…
    let (written, wrote) = mpsc::channel();
    let (commit, go) = mpsc::channel::<()>();
    let mut conn = app.connection();
    let slow = std::thread::spawn(move || {
        conn.transaction::<_, beacon::error::Error, _>(|conn| {
            let payload = ArticlePayload {
                article_id: Uuid::now_v7(),
                slug: "slow".to_owned(),
                title: "Slow".to_owned(),
                status: Status::Published,
                published_at: Some(Utc::now()),
                version: 1,
            };
            let event = NewEvent::article(ArticleEvent::Published, payload, Utc::now());
            beacon::services::events::record(conn, &event)?;
            written.send(()).unwrap();
            go.recv().unwrap();
            Ok(())
        })
        .unwrap();
    });
    wrote.recv().unwrap();
    // …and one made after it began, committed at once.
    let later = created(&app, &editor, &published("Later")).await;
    let committed: i64 = events::table
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(committed, 2, "the later event is committed");

    for _ in 0..5 {
        let page = page(&app, &admin, &format!("?after={after}")).await;
        assert_eq!(
            page["items"],
            json!([]),
            "neither is listed while one is open"
        );
        assert_eq!(page["next_after"], after);
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    commit.send(()).unwrap();
    slow.join().unwrap();

    let events = feed_of(&app, &admin, 3).await;
    assert_eq!(events[0], first[0]);
    assert_eq!(events[1]["payload"]["slug"], "slow");
    assert_eq!(events[2]["subject_id"], later["id"]);
}

// --- retention ---

#[actix_web::test]
async fn old_events_are_deleted_with_their_deliveries_but_never_while_one_is_pending() {
    let app = spawn_app_with(|settings| {
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = FixedWindow::per_hour(0);
        settings.events.scan_interval = None;
        settings.events.webhook_workers = 0;
        settings.events.allow_private_targets = true;
    })
    .await;
    let admin = app.key(&["admin"]);
    let subscribed = app
        .post_json(
            &admin,
            "/v1/webhooks",
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]}),
        )
        .await;
    assert_eq!(subscribed.status(), 201);
    let old = enquire(&app, person("Ada Lovelace", "(415) 555-0101")).await;
    let mut conn = app.connection();
    diesel::update(events::table.filter(events::subject_id.eq(old)))
        .set(events::occurred_at.eq(Utc::now() - chrono::Duration::days(91)))
        .execute(&mut conn)
        .unwrap();
    let recent = enquire(&app, person("Grace Hopper", "(212) 555-0142")).await;
    let purge = |conn: &mut PgConnection| {
        beacon::services::events::purge(conn, chrono::TimeDelta::days(90), Utc::now()).unwrap()
    };

    assert_eq!(purge(&mut conn), 0, "its webhook delivery is still pending");
    use beacon::db::schema::webhook_deliveries as d;
    diesel::update(d::table)
        .set(d::state.eq("delivered"))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(purge(&mut conn), 1);

    let left: Vec<Uuid> = events::table
        .select(events::subject_id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(left, [recent]);
    let deliveries: i64 = d::table.count().get_result(&mut conn).unwrap();
    assert_eq!(deliveries, 1, "the recent event's delivery stays");
}
