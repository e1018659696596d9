//! The response cache of public reads (`routes::response_cache`): what it serves, what clears
//! it (on this process and on another), what it never touches, and compression.

use std::io::Read;
use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use chrono::Utc;
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::articles::{created, patch, post_action, published};
use crate::helpers::{TestApp, spawn_app, spawn_app_with, spawn_server};

const DEADLINE: Duration = Duration::from_secs(5);

fn x_cache(response: &reqwest::Response) -> Option<&str> {
    response
        .headers()
        .get("x-cache")
        .map(|value| value.to_str().unwrap())
}

async fn get_at(app: &TestApp, base: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
}

/// A public read answered from the cache: its ETag and body. Reads until one is a hit, as the
/// listener clears the cache once when it connects.
async fn hit(app: &TestApp, path: &str) -> (String, Value) {
    hit_at(app, &app.address, path).await
}

/// [`hit`] on the process at `base`.
async fn hit_at(app: &TestApp, base: &str, path: &str) -> (String, Value) {
    let started = Instant::now();
    loop {
        let response = get_at(app, base, path).await;
        assert_eq!(response.status(), 200, "{path}");
        if x_cache(&response) == Some("hit") {
            let etag = response.headers()["etag"].to_str().unwrap().to_owned();
            return (etag, response.json().await.unwrap());
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{path} is never served from the cache"
        );
    }
}

/// Until the app's listener has connected (and so done its one clear on connecting).
async fn listening(app: &TestApp) {
    listeners(app, 1).await;
}

/// Until `count` processes listen for content writes on the app's database.
async fn listeners(app: &TestApp, count: i64) {
    let started = Instant::now();
    loop {
        let listeners: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
              AND query LIKE 'LISTEN \"beacon_content\"%')",
        ))
        .get_result(&mut app.connection())
        .unwrap();
        if listeners >= count {
            return;
        }
        assert!(started.elapsed() < DEADLINE, "the listener did not connect");
        sleep(Duration::from_millis(20)).await;
    }
}

/// Until every write made so far has been announced to the app: a notification sent now is
/// delivered after theirs, so once the cache is seen cleared by it, none of theirs is pending.
async fn settled(app: &TestApp, path: &str) {
    listening(app).await;
    hit(app, path).await;
    app.connection()
        .batch_execute("NOTIFY beacon_content")
        .unwrap();
    let started = Instant::now();
    while x_cache(&app.get(path).await) == Some("hit") {
        assert!(
            started.elapsed() < DEADLINE,
            "the notification never arrived"
        );
        sleep(Duration::from_millis(20)).await;
    }
}

fn slugs(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["slug"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_second_public_read_is_served_from_the_cache_with_the_same_body_and_etag() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &published("Cached read")).await;
    settled(&app, "/v1/tags/ketamine-therapy").await;

    for path in [
        "/v1/articles/cached-read",
        "/v1/articles?limit=5",
        "/v1/articles/cached-read/related",
        "/v1/tags",
        "/v1/tags/ptsd",
        "/v1/interests",
    ] {
        let first = app.get(path).await;
        assert_eq!(x_cache(&first), Some("miss"), "{path}");
        let first_etag = first.headers()["etag"].clone();
        let first_body = first.bytes().await.unwrap();

        let second = app.get(path).await;

        assert_eq!(second.status(), 200, "{path}");
        assert_eq!(x_cache(&second), Some("hit"), "{path}");
        assert_eq!(second.headers()["etag"], first_etag, "{path}");
        assert!(second.headers().contains_key("x-request-id"));
        assert_eq!(second.bytes().await.unwrap(), first_body, "{path}");
    }
    let reordered = app.get("/v1/articles?limit=5&").await;
    assert_eq!(
        x_cache(&reordered),
        Some("hit"),
        "the same query written differently"
    );
}

#[actix_web::test]
async fn the_cache_never_serves_a_stale_answer_after_a_write_on_the_same_process() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &published("Fresh news")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    hit(&app, "/v1/articles/fresh-news").await;
    let updated = patch(&app, &key, &id, json!({"title": "Fresher news"}), None).await;
    assert_eq!(updated.status(), 200);
    let read: Value = app
        .get("/v1/articles/fresh-news")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["title"], "Fresher news", "after an update");

    assert_eq!(slugs(&hit(&app, "/v1/articles").await.1), ["fresh-news"]);
    let unpublished = post_action(&app, &key, &id, "unpublish", None).await;
    assert_eq!(unpublished.status(), 200);
    assert_eq!(app.get("/v1/articles/fresh-news").await.status(), 404);
    let list: Value = app.get("/v1/articles").await.json().await.unwrap();
    assert!(slugs(&list).is_empty(), "after unpublishing");

    let (_, public_tags) = hit(&app, "/v1/tags").await;
    assert!(public_tags["items"].as_array().unwrap().is_empty());
    let republished = post_action(&app, &key, &id, "publish", None).await;
    assert_eq!(republished.status(), 200);
    let list: Value = app.get("/v1/articles").await.json().await.unwrap();
    assert_eq!(slugs(&list), ["fresh-news"], "after publishing");
    let tags: Value = app.get("/v1/tags").await.json().await.unwrap();
    assert_eq!(tags["items"].as_array().unwrap().len(), 2);

    hit(&app, "/v1/articles/fresh-news").await;
    let renamed = app
        .patch_json(&key, "/v1/tags/ptsd", &json!({"name": "Trauma"}))
        .await;
    assert_eq!(renamed.status(), 200);
    let read: Value = app
        .get("/v1/articles/fresh-news")
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = read["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Trauma"), "after a tag change: {names:?}");

    hit(&app, "/v1/articles/fresh-news").await;
    let deleted = app.delete_with(&key, &format!("/v1/articles/{id}")).await;
    assert!(deleted.status().is_success());
    assert_eq!(app.get("/v1/articles/fresh-news").await.status(), 404);
}

#[actix_web::test]
async fn an_edit_on_one_process_clears_the_cache_of_another_on_the_same_database() {
    let app = spawn_app().await;
    let other = spawn_server(&app.database_url, |_| {}).await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &published("Shared story")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = "/v1/articles/shared-story";
    listeners(&app, 2).await;
    let (_, cached) = hit_at(&app, &other, path).await;
    assert_eq!(cached["title"], "Shared story");

    let updated = patch(
        &app,
        &key,
        &id,
        json!({"title": "Shared story, revised"}),
        None,
    )
    .await;
    assert_eq!(updated.status(), 200);

    // The TTL (30 s by default) is far beyond the deadline: only the notification clears it.
    let started = Instant::now();
    loop {
        let read: Value = get_at(&app, &other, path).await.json().await.unwrap();
        if read["title"] == "Shared story, revised" {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the other process still serves {}",
            read["title"]
        );
        sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_keyed_or_preview_request_never_reads_or_fills_the_cache() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &published("Open to all")).await;
    let draft = created(&app, &key, &crate::articles::article("Not yet")).await;

    let (_, public) = hit(&app, "/v1/articles/open-to-all").await;
    let keyed = app.get_with(&key, "/v1/articles/open-to-all").await;
    assert_eq!(x_cache(&keyed), Some("bypass"));
    assert_eq!(keyed.headers()["cache-control"], "private, no-store");
    let keyed: Value = keyed.json().await.unwrap();
    assert_eq!(keyed["title"], public["title"]);

    let filled_by_key = app.get_with(&key, "/v1/articles/open-to-all/related").await;
    assert_eq!(x_cache(&filled_by_key), Some("bypass"));
    let first_public = app.get("/v1/articles/open-to-all/related").await;
    assert_eq!(
        x_cache(&first_public),
        Some("miss"),
        "a keyed read stored nothing"
    );

    let token = post_action(
        &app,
        &key,
        draft["id"].as_str().unwrap(),
        "preview-token",
        None,
    )
    .await
    .json::<Value>()
    .await
    .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let preview = app
        .get(&format!("/v1/articles/not-yet?preview_token={token}"))
        .await;
    assert_eq!(preview.status(), 200);
    assert_eq!(x_cache(&preview), Some("bypass"));
    for _ in 0..2 {
        let public = app.get("/v1/articles/not-yet").await;
        assert_eq!(
            public.status(),
            404,
            "the preview was not stored for the public"
        );
    }
}

#[actix_web::test]
async fn a_scheduled_article_appears_on_time_in_a_cached_list() {
    let app = spawn_app_with(|settings| {
        // Neither the TTL nor a notification can explain the article appearing.
        if let Some(cache) = settings.content.response_cache.as_mut() {
            cache.ttl = Duration::from_secs(600);
        }
        settings.events.scan_interval = None;
    })
    .await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &published("Already out")).await;
    let soon = created(&app, &key, &crate::articles::article("Coming right up")).await;
    let at = Utc::now() + chrono::Duration::seconds(2);
    let scheduled = post_action(
        &app,
        &key,
        soon["id"].as_str().unwrap(),
        "schedule",
        Some(json!({"published_at": at.to_rfc3339()})),
    )
    .await;
    assert_eq!(scheduled.status(), 200);

    let (_, before) = hit(&app, "/v1/articles").await;
    assert_eq!(slugs(&before), ["already-out"]);

    let started = Instant::now();
    loop {
        let list: Value = app.get("/v1/articles").await.json().await.unwrap();
        if slugs(&list).contains(&"coming-right-up") {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE + Duration::from_secs(2),
            "the scheduled article did not appear"
        );
        sleep(Duration::from_millis(100)).await;
    }
    assert!(Utc::now() >= at);
}

#[actix_web::test]
async fn a_matching_if_none_match_is_a_304_from_the_cache_without_the_database() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &published("Validated")).await;
    let path = "/v1/articles/validated";
    settled(&app, path).await;
    let (etag, _) = hit(&app, path).await;

    // Any read of the articles would now wait for the lock (and time out).
    let mut locker = app.connection();
    locker
        .batch_execute("BEGIN; LOCK TABLE articles IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let conditional = app
        .client
        .get(app.url(path))
        .header("if-none-match", &etag)
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    locker.batch_execute("ROLLBACK").unwrap();

    let conditional = conditional.expect("answered while the table was locked");
    assert_eq!(conditional.status(), 304);
    assert_eq!(x_cache(&conditional), Some("hit"));
    assert_eq!(conditional.headers()["etag"], etag.as_str());
    assert!(conditional.bytes().await.unwrap().is_empty());
}

fn decode(coding: &str, bytes: &[u8]) -> Value {
    let mut text = String::new();
    match coding {
        "gzip" => flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .unwrap(),
        "br" => brotli::Decompressor::new(bytes, 4096)
            .read_to_string(&mut text)
            .unwrap(),
        other => panic!("unexpected coding {other}"),
    };
    serde_json::from_str(&text).unwrap()
}

#[actix_web::test]
async fn gzip_and_brotli_answers_decode_to_the_same_json_with_an_etag_of_their_own() {
    for cache_on in [true, false] {
        let app = spawn_app_with(|settings| {
            if !cache_on {
                settings.content.response_cache = None;
            }
        })
        .await;
        let key = app.key(&["content:write"]);
        created(&app, &key, &published("Squeezed")).await;

        for path in ["/v1/articles/squeezed", "/v1/articles"] {
            let plain = app.get(path).await;
            assert_eq!(x_cache(&plain).is_some(), cache_on);
            assert!(plain.headers().get("content-encoding").is_none());
            let plain_etag = plain.headers()["etag"].to_str().unwrap().to_owned();
            let vary = plain.headers()["vary"].to_str().unwrap().to_owned();
            assert!(vary.contains("Accept-Encoding"), "{vary}");
            let expected: Value = plain.json().await.unwrap();

            for (accept, coding) in [("gzip", "gzip"), ("gzip, deflate, br", "br")] {
                for _ in 0..2 {
                    let response = app
                        .client
                        .get(app.url(path))
                        .header("accept-encoding", accept)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                    assert_eq!(response.headers()["content-encoding"], coding);
                    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
                    assert_ne!(etag, plain_etag, "{coding}: a strong tag per encoding");
                    let body = response.bytes().await.unwrap();
                    assert_eq!(decode(coding, &body), expected, "{path} {coding}");

                    let not_modified = app
                        .client
                        .get(app.url(path))
                        .header("accept-encoding", accept)
                        .header("if-none-match", &etag)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(not_modified.status(), 304);
                    assert_eq!(not_modified.headers()["etag"], etag.as_str());
                }
            }
        }
    }
}
