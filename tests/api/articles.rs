//! `/v1/articles`: the public blog, the write API, lifecycle, previews, caching and paging.

use chrono::{DateTime, Duration, Utc};
use diesel::RunQueryDsl;
use diesel::sql_types::{Timestamptz, Uuid as SqlUuid};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app, spawn_app_with};

pub const SAFE_BODY: &str = "For many trauma survivors, standard treatments bring only partial relief.\n\n\
## How ketamine helps\n\nSome patients notice changes within days.\n\n\
1. **Fast relief.** Symptoms may ease quickly.\n2. **Neuroplasticity.** New connections may form.\n\n\
## Next steps\n\n- [ ] Talk to your psychiatrist\n- [ ] Book a consultation\n";

pub fn article(title: &str) -> Value {
    json!({
        "title": title,
        "body_markdown": SAFE_BODY,
        "tags": ["PTSD", "Ketamine therapy"],
        "author": {"name": "Dr. Maya Patel", "credentials": "MD"},
    })
}

pub fn published(title: &str) -> Value {
    let mut body = article(title);
    body["status"] = json!("published");
    body
}

pub async fn create(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.post_json(key, "/v1/articles", body).await
}

/// Creates an article and returns it, failing the test unless it was a 201.
pub async fn created(app: &TestApp, key: &str, body: &Value) -> Value {
    let response = create(app, key, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    serde_json::from_str(&text).unwrap()
}

pub async fn keyed_get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    app.get_with(key, path).await
}

pub async fn post_action(
    app: &TestApp,
    key: &str,
    id: &str,
    action: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(&format!("/v1/articles/{id}/{action}")))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

pub async fn patch(
    app: &TestApp,
    key: &str,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .patch(app.url(&format!("/v1/articles/{id}")))
        .bearer_auth(key)
        .json(&body);
    if let Some(etag) = if_match {
        request = request.header("if-match", etag);
    }
    request.send().await.unwrap()
}

/// Moves an article's publication time, as the passing of time would.
pub fn set_published_at(app: &TestApp, id: &str, at: DateTime<Utc>) {
    diesel::sql_query("UPDATE articles SET published_at = $1 WHERE id = $2")
        .bind::<Timestamptz, _>(at)
        .bind::<SqlUuid, _>(uuid::Uuid::parse_str(id).unwrap())
        .execute(&mut app.connection())
        .unwrap();
}

async fn json(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn slugs(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["slug"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Creating and reading
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn creating_an_article_derives_slug_excerpt_outline_and_reading_time() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);

    let response = create(&app, &key, &article("Ketamine and PTSD: a ray of hope")).await;

    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        response.headers()["etag"]
            .to_str()
            .unwrap()
            .starts_with('"')
    );
    assert_eq!(response.headers()["cache-control"], "private, no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/articles/{}", body["id"].as_str().unwrap())
    );
    assert_eq!(body["slug"], "ketamine-and-ptsd-a-ray-of-hope");
    assert_eq!(
        body["excerpt"],
        "For many trauma survivors, standard treatments bring only partial relief."
    );
    assert_eq!(body["status"], "draft");
    assert_eq!(body["published_at"], Value::Null);
    assert_eq!(body["version"], 1);
    assert_eq!(
        body["outline"][0],
        json!({"level": 2, "text": "How ketamine helps", "anchor": "how-ketamine-helps"})
    );
    assert!(
        body["body_html"]
            .as_str()
            .unwrap()
            .contains("<h2 id=\"next-steps\">Next steps</h2>")
    );
    assert!(body["body_html"].as_str().unwrap().contains("<ol>"));
    assert!(body["word_count"].as_u64().unwrap() > 30);
    assert_eq!(body["reading_time_minutes"], 1);
    assert_eq!(
        body["tags"][0],
        json!({"slug": "ptsd", "name": "PTSD", "description": null})
    );
    assert_eq!(body["tags"][1]["slug"], "ketamine-therapy");
    assert_eq!(body["author"]["slug"], "dr-maya-patel");
}

#[actix_web::test]
async fn the_public_reads_a_published_article_whole_with_seo_and_share_blocks() {
    let app = spawn_app_with(|settings| {
        settings.content.site =
            beacon::domain::share::SiteUrls::new("https://clinic.example", "/blog/{slug}").unwrap();
    })
    .await;
    let key = app.key(&["content:write"]);
    let mut body = published("Ketamine and PTSD");
    body["cover_image"] =
        json!({"url": "https://cdn.example/c.jpg", "alt": "A path", "width": 1600, "height": 900});
    body["reviewed_by"] = json!("Dr. Sam Okafor, MD");
    body["last_reviewed_at"] = json!("2026-01-05T09:00:00Z");
    body["meta_description"] = json!("What the research says.");
    created(&app, &key, &body).await;

    let response = app.get("/v1/articles/ketamine-and-ptsd").await;

    assert_eq!(response.status(), 200);
    let article: Value = response.json().await.unwrap();
    let url = "https://clinic.example/blog/ketamine-and-ptsd";
    assert_eq!(article["status"], "published");
    assert_eq!(article["url"], url);
    assert_eq!(article["reviewed_by"], "Dr. Sam Okafor, MD");
    assert_eq!(article["last_reviewed_at"], "2026-01-05T09:00:00Z");
    assert_eq!(article["cover_image"]["width"], 1600);
    assert_eq!(
        article["seo"],
        json!({
            "title": "Ketamine and PTSD",
            "description": "What the research says.",
            "canonical_url": url,
            "og_image": "https://cdn.example/c.jpg",
        })
    );
    assert_eq!(article["share"]["url"], url);
    assert_eq!(
        article["share"]["pinterest_image"],
        "https://cdn.example/c.jpg"
    );
    assert_eq!(
        article["share"]["pinterest_description"],
        "What the research says."
    );
    assert!(
        article["share"]["links"]["facebook"]
            .as_str()
            .unwrap()
            .ends_with("u=https%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd")
    );
}

#[actix_web::test]
async fn raw_html_scripts_event_handlers_and_javascript_links_are_sanitised() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let mut body = published("Sanitised");
    body["body_markdown"] = json!(
        "Intro <script>alert('x')</script> text.\n\n\
         <img src=\"https://cdn.example/a.png\" onerror=\"alert(1)\" alt=\"a\">\n\n\
         [click](javascript:alert(1)) and <a href=\"JaVaScRiPt:alert(2)\">this</a>\n\n\
         <div onclick=\"steal()\">kept text</div>"
    );

    let article = created(&app, &key, &body).await;

    let html = article["body_html"].as_str().unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("alert('x')"), "{html}");
    assert!(!html.to_lowercase().contains("onerror"), "{html}");
    assert!(!html.to_lowercase().contains("onclick"), "{html}");
    assert!(!html.to_lowercase().contains("javascript:"), "{html}");
    assert!(html.contains("src=\"https://cdn.example/a.png\""), "{html}");
    assert!(html.contains("kept text"), "{html}");
}

#[actix_web::test]
async fn a_draft_is_a_404_to_the_public_but_an_editor_reads_it_by_slug_or_id() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let draft = created(&app, &key, &article("Work in progress")).await;
    let id = draft["id"].as_str().unwrap();

    let public = app.get("/v1/articles/work-in-progress").await;
    let by_slug = keyed_get(&app, &key, "/v1/articles/work-in-progress").await;
    let by_id = keyed_get(&app, &key, &format!("/v1/articles/{id}")).await;

    let problem_body = problem(public, 404).await;
    assert_eq!(problem_body["type"], "/problems/not-found");
    assert_eq!(by_slug.status(), 200);
    assert_eq!(by_slug.headers()["cache-control"], "private, no-store");
    assert_eq!(json(by_id).await["status"], "draft");
}

#[actix_web::test]
async fn a_stored_status_beacon_does_not_know_is_a_500_not_a_draft() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let draft = created(&app, &key, &article("Work in progress")).await;
    let id = draft["id"].as_str().unwrap();
    let mut conn = app.connection();
    diesel::sql_query("ALTER TABLE articles DROP CONSTRAINT articles_status_check")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query("UPDATE articles SET status = 'retracted'")
        .execute(&mut conn)
        .unwrap();

    let by_id = keyed_get(&app, &key, &format!("/v1/articles/{id}")).await;
    let listed = keyed_get(&app, &key, "/v1/articles?status=draft,archived").await;

    problem(by_id, 500).await;
    let listed = json(listed).await;
    assert_eq!(
        listed["items"],
        json!([]),
        "a filter never matches a name it does not know"
    );
}

#[actix_web::test]
async fn a_key_without_content_write_cannot_write_or_read_drafts() {
    let app = spawn_app().await;
    let leads = app.key(&["leads:read"]);

    let without_key = app
        .client
        .post(app.url("/v1/articles"))
        .json(&article("X"))
        .send()
        .await
        .unwrap();
    let wrong_scope = create(&app, &leads, &article("X")).await;
    let wrong_scope_read = keyed_get(&app, &leads, "/v1/articles/x").await;

    problem(without_key, 401).await;
    let body = problem(wrong_scope, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("content:write"));
    problem(wrong_scope_read, 403).await;
}

#[actix_web::test]
async fn every_invalid_field_is_a_422_with_a_pointer() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let body = json!({
        "title": "",
        "slug": "Not A Slug",
        "body_markdown": "escape \u{1b} byte",
        "tags": ["fine", "!!!"],
        "author": {"name": "Dr.\u{7} Bell"},
        "canonical_url": "javascript:alert(1)",
        "og_image": "ftp://cdn.example/x.png",
        "cover_image": {"url": "https://cdn.example/c.jpg", "alt": "", "width": 0},
        "status": "scheduled",
    });

    let response = create(&app, &key, &body).await;

    let problem_body = problem(response, 422).await;
    let pointers: Vec<&str> = problem_body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/title",
            "/slug",
            "/body_markdown",
            "/tags/1",
            "/author/name",
            "/cover_image/width",
            "/cover_image/alt",
            "/canonical_url",
            "/og_image",
            "/published_at",
        ]
    );
}

#[actix_web::test]
async fn a_pathological_body_is_answered_at_once_with_a_422_naming_the_limit() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let cases = [
        ("#\n".repeat(100_000), "must have at most 200 headings"),
        (
            ">".repeat(100_000),
            "must nest quotes, lists and emphasis at most 32 levels deep",
        ),
        (
            "[a](https://x.test) ".repeat(2_001),
            "must have at most 2000 links and images",
        ),
    ];
    for (body_markdown, message) in cases {
        let mut body = article("Pathological");
        body["body_markdown"] = json!(body_markdown);

        let response = create(&app, &key, &body).await;

        let problem_body = problem(response, 422).await;
        assert_eq!(
            problem_body["errors"],
            json!([{"pointer": "/body_markdown", "message": message}])
        );
    }
}

#[actix_web::test]
async fn fields_the_server_sets_are_refused() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);

    for (field, value) in [
        ("id", json!("0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")),
        ("version", json!(7)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("body_html", json!("<script>x</script>")),
        ("word_count", json!(1)),
    ] {
        let mut body = article("Mass assignment");
        body[field] = value;

        let response = create(&app, &key, &body).await;

        let problem_body = problem(response, 422).await;
        let message = problem_body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("unknown field `{field}`")),
            "{message}"
        );
    }
}

#[actix_web::test]
async fn a_taken_slug_is_a_409_and_a_derived_one_gets_a_number() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &article("Living with PTSD")).await;

    let mut explicit = article("Another title");
    explicit["slug"] = json!("living-with-ptsd");
    let conflict = create(&app, &key, &explicit).await;
    let second = created(&app, &key, &article("Living with PTSD")).await;

    let body = problem(conflict, 409).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("living-with-ptsd")
    );
    assert_eq!(second["slug"], "living-with-ptsd-2");
}

#[actix_web::test]
async fn the_status_and_published_at_of_a_new_article_must_agree() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let cases = [
        (
            json!("scheduled"),
            json!((Utc::now() - Duration::hours(1)).to_rfc3339()),
        ),
        (
            json!("published"),
            json!((Utc::now() + Duration::hours(1)).to_rfc3339()),
        ),
        (json!("draft"), json!(Utc::now().to_rfc3339())),
        (json!("archived"), Value::Null),
    ];
    for (status, published_at) in cases {
        let mut body = article("Timing");
        body["status"] = status.clone();
        body["published_at"] = published_at;

        let response = create(&app, &key, &body).await;

        let problem_body = problem(response, 422).await;
        let pointer = problem_body["errors"][0]["pointer"].as_str().unwrap();
        assert!(
            pointer == "/published_at" || pointer == "/status",
            "{status}: {pointer}"
        );
    }
}

#[actix_web::test]
async fn an_unknown_article_is_a_404_and_a_malformed_id_on_a_write_too() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);

    problem(app.get("/v1/articles/nothing-here").await, 404).await;
    problem(
        patch(
            &app,
            &key,
            "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
            json!({"title": "x"}),
            None,
        )
        .await,
        404,
    )
    .await;
    problem(
        patch(&app, &key, "not-a-uuid", json!({"title": "x"}), None).await,
        404,
    )
    .await;
    problem(
        post_action(
            &app,
            &key,
            "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
            "publish",
            None,
        )
        .await,
        404,
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Updating, slugs, concurrency
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_patch_changes_only_the_fields_sent_and_rederives_from_the_body() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let mut body = article("Original title");
    body["subtitle"] = json!("A subtitle");
    let original = created(&app, &key, &body).await;
    let id = original["id"].as_str().unwrap();

    let response = patch(
        &app,
        &key,
        id,
        json!({"title": "New title", "subtitle": null, "body_markdown": "A new first paragraph.\n\n## Only heading", "tags": ["Trauma"]}),
        None,
    )
    .await;

    let updated = json(response).await;
    assert_eq!(updated["title"], "New title");
    assert_eq!(
        updated["slug"], "original-title",
        "a title change keeps the address"
    );
    assert_eq!(updated["subtitle"], Value::Null);
    assert_eq!(updated["excerpt"], "A new first paragraph.");
    assert_eq!(updated["outline"].as_array().unwrap().len(), 1);
    assert_eq!(
        updated["tags"],
        json!([{"slug": "trauma", "name": "Trauma", "description": null}])
    );
    assert_eq!(updated["author"], original["author"]);
    assert_eq!(updated["version"], 2);

    let untagged = json(patch(&app, &key, id, json!({"tags": null}), None).await).await;
    let blank_search = json(app.get("/v1/articles?q=%20").await).await;

    assert_eq!(untagged["tags"], json!([]));
    assert_eq!(
        blank_search["items"],
        json!([]),
        "drafts stay hidden; a blank q is no search"
    );
}

#[actix_web::test]
async fn a_patch_refuses_nulls_for_required_fields_and_the_status() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Required")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let nulls = patch(
        &app,
        &key,
        &id,
        json!({"title": null, "author": null}),
        None,
    )
    .await;
    let status = patch(&app, &key, &id, json!({"status": "published"}), None).await;

    let body = problem(nulls, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/title");
    assert_eq!(body["errors"][1]["pointer"], "/author");
    problem(status, 422).await;
}

#[actix_web::test]
async fn an_old_slug_answers_301_to_the_new_one() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let article = created(&app, &key, &published("Ketamine basics")).await;
    let id = article["id"].as_str().unwrap();

    json(patch(&app, &key, id, json!({"slug": "ketamine-explained"}), None).await).await;
    let old = app.get("/v1/articles/ketamine-basics").await;
    let old_related = app.get("/v1/articles/ketamine-basics/related").await;
    let new = app.get("/v1/articles/ketamine-explained").await;

    assert_eq!(old.status(), 301);
    assert_eq!(old.headers()["location"], "/v1/articles/ketamine-explained");
    assert_eq!(old_related.status(), 301);
    assert_eq!(
        old_related.headers()["location"],
        "/v1/articles/ketamine-explained/related"
    );
    assert_eq!(new.status(), 200);
}

#[actix_web::test]
async fn a_slug_can_move_back_and_a_new_article_may_take_an_old_slug() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let first = created(&app, &key, &published("First name")).await;
    let id = first["id"].as_str().unwrap();
    json(patch(&app, &key, id, json!({"slug": "second-name"}), None).await).await;
    json(patch(&app, &key, id, json!({"slug": "first-name"}), None).await).await;

    let back = app.get("/v1/articles/first-name").await;
    let old = app.get("/v1/articles/second-name").await;
    let mut taker = published("Taker");
    taker["slug"] = json!("second-name");
    created(&app, &key, &taker).await;
    let taken = json(app.get("/v1/articles/second-name").await).await;

    assert_eq!(back.status(), 200);
    assert_eq!(old.headers()["location"], "/v1/articles/first-name");
    assert_eq!(taken["title"], "Taker");
}

#[actix_web::test]
async fn an_old_slug_of_a_draft_is_a_404_to_the_public() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Secret plan")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    json(patch(&app, &key, &id, json!({"slug": "secret-plan-v2"}), None).await).await;

    problem(app.get("/v1/articles/secret-plan").await, 404).await;
    assert_eq!(
        keyed_get(&app, &key, "/v1/articles/secret-plan")
            .await
            .status(),
        301
    );
}

#[actix_web::test]
async fn a_stale_if_match_is_a_412_and_the_current_one_succeeds() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Concurrent")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = keyed_get(&app, &key, &format!("/v1/articles/{id}")).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let first = patch(&app, &key, &id, json!({"title": "Editor A"}), Some(&etag)).await;
    assert_eq!(first.status(), 200);
    let new_etag = first.headers()["etag"].to_str().unwrap().to_owned();

    let stale = patch(&app, &key, &id, json!({"title": "Editor B"}), Some(&etag)).await;
    let stale_action = app
        .client
        .post(app.url(&format!("/v1/articles/{id}/publish")))
        .bearer_auth(&key)
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    let current = patch(
        &app,
        &key,
        &id,
        json!({"title": "Editor B"}),
        Some(&new_etag),
    )
    .await;
    let star = patch(&app, &key, &id, json!({"featured": true}), Some("*")).await;

    let body = problem(stale, 412).await;
    assert_eq!(body["type"], "/problems/precondition-failed");
    problem(stale_action, 412).await;
    assert_eq!(json(current).await["title"], "Editor B");
    assert_eq!(star.status(), 200);
    assert_ne!(new_etag, etag);
}

#[actix_web::test]
async fn a_malformed_if_match_is_a_400() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Header")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let read = keyed_get(&app, &key, &format!("/v1/articles/{id}")).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();

    for if_match in [
        "no-quotes".to_owned(),
        format!("{etag}, no-quotes"),
        format!("{etag} {etag}"),
        format!("*, {etag}"),
        ",".to_owned(),
    ] {
        let response = patch(&app, &key, &id, json!({"title": "x"}), Some(&if_match)).await;
        problem(response, 400).await;
    }
}

#[actix_web::test]
async fn if_match_compares_strongly_and_accepts_a_list_naming_the_current_tag() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Lists")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = keyed_get(&app, &key, &format!("/v1/articles/{id}")).await;
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();

    let weak = patch(
        &app,
        &key,
        &id,
        json!({"title": "Weak"}),
        Some(&format!("W/{etag}")),
    )
    .await;
    let listed = patch(
        &app,
        &key,
        &id,
        json!({"title": "Listed"}),
        Some(&format!("\"other\", W/\"x\", {etag}")),
    )
    .await;

    problem(weak, 412).await;
    assert_eq!(json(listed).await["title"], "Listed");
}

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn publishing_unpublishing_and_archiving_change_what_the_public_sees() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Lifecycle")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let published = json(post_action(&app, &key, &id, "publish", None).await).await;
    let visible = app.get("/v1/articles/lifecycle").await.status();
    let archived = json(post_action(&app, &key, &id, "archive", None).await).await;
    let after_archive = app.get("/v1/articles/lifecycle").await;
    let republished = json(post_action(&app, &key, &id, "publish", None).await).await;
    let unpublished = json(post_action(&app, &key, &id, "unpublish", None).await).await;
    let after_unpublish = app.get("/v1/articles/lifecycle").await;

    assert_eq!(published["status"], "published");
    assert!(published["published_at"].is_string());
    assert_eq!(visible, 200);
    assert_eq!(archived["status"], "archived");
    problem(after_archive, 404).await;
    assert_eq!(
        republished["published_at"], published["published_at"],
        "keeps its date"
    );
    assert_eq!(unpublished["status"], "draft");
    assert_eq!(unpublished["published_at"], Value::Null);
    problem(after_unpublish, 404).await;
    assert_eq!(unpublished["version"], 5);
}

#[actix_web::test]
async fn publishing_may_backdate_but_not_postdate() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Backdated")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let future = post_action(
        &app,
        &key,
        &id,
        "publish",
        Some(json!({"published_at": "2999-01-01T00:00:00Z"})),
    )
    .await;
    let past = post_action(
        &app,
        &key,
        &id,
        "publish",
        Some(json!({"published_at": "2024-03-01T08:00:00Z"})),
    )
    .await;

    let body = problem(future, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/published_at");
    assert_eq!(json(past).await["published_at"], "2024-03-01T08:00:00Z");
}

#[actix_web::test]
async fn a_scheduled_article_becomes_visible_once_its_time_has_passed() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Coming soon")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at = (Utc::now() + Duration::days(2)).to_rfc3339();
    let scheduled = json(
        post_action(
            &app,
            &key,
            &id,
            "schedule",
            Some(json!({"published_at": at})),
        )
        .await,
    )
    .await;
    assert_eq!(scheduled["status"], "scheduled");

    let before = app.get("/v1/articles/coming-soon").await;
    let listed_before = json(app.get("/v1/articles").await).await;
    set_published_at(&app, &id, Utc::now() - Duration::seconds(1));
    let after = app.get("/v1/articles/coming-soon").await;
    // The cached list learns of the update through its notification, not from the clock.
    let started = std::time::Instant::now();
    let listed_after = loop {
        let list = json(app.get("/v1/articles").await).await;
        if !slugs(&list).is_empty() || started.elapsed() > std::time::Duration::from_secs(5) {
            break list;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };

    problem(before, 404).await;
    assert!(slugs(&listed_before).is_empty());
    assert_eq!(after.status(), 200);
    assert_eq!(json(after).await["status"], "published");
    assert_eq!(slugs(&listed_after), ["coming-soon"]);
    assert_eq!(listed_after["items"][0]["status"], "published");
}

#[actix_web::test]
async fn scheduling_in_the_past_is_refused() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Too late")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let past = post_action(
        &app,
        &key,
        &id,
        "schedule",
        Some(json!({"published_at": "2020-01-01T00:00:00Z"})),
    )
    .await;
    let missing = post_action(&app, &key, &id, "schedule", Some(json!({}))).await;

    problem(past, 422).await;
    let body = problem(missing, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/published_at");
}

#[actix_web::test]
async fn a_deleted_article_is_gone() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &published("Short lived")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let deleted = app
        .client
        .delete(app.url(&format!("/v1/articles/{id}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();

    assert_eq!(deleted.status(), 204);
    problem(app.get("/v1/articles/short-lived").await, 404).await;
    problem(
        keyed_get(&app, &key, &format!("/v1/articles/{id}")).await,
        404,
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Preview tokens
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_preview_token_shows_one_draft_without_a_key() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let draft = created(&app, &key, &article("Secret draft")).await;
    let other = created(&app, &key, &article("Other draft")).await;
    let id = draft["id"].as_str().unwrap();

    let response = post_action(&app, &key, id, "preview-token", None).await;
    assert_eq!(response.status(), 201);
    let preview: Value = response.json().await.unwrap();
    let token = preview["token"].as_str().unwrap();

    let shown = app.get(preview["api_url"].as_str().unwrap()).await;
    let other_draft = app
        .get(&format!(
            "/v1/articles/{}?preview_token={token}",
            other["slug"].as_str().unwrap()
        ))
        .await;

    assert_eq!(shown.status(), 200);
    assert_eq!(shown.headers()["cache-control"], "private, no-store");
    assert_eq!(json(shown).await["title"], "Secret draft");
    problem(other_draft, 404).await;
    assert!(
        preview["url"]
            .as_str()
            .unwrap()
            .starts_with("http://localhost:3000/blog/secret-draft?preview_token=")
    );
    assert!(preview["expires_at"].is_string());
}

#[actix_web::test]
async fn an_expired_or_forged_preview_token_is_a_401() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let draft = created(&app, &key, &article("Expiring")).await;
    let id = uuid::Uuid::parse_str(draft["id"].as_str().unwrap()).unwrap();
    // Signed with the instance key, but expired an hour ago.
    let stored: Vec<u8> = {
        use diesel::prelude::*;
        diesel::table! { instance_secrets (name) { name -> Text, value -> Bytea, } }
        instance_secrets::table
            .select(instance_secrets::value)
            .first(&mut app.connection())
            .unwrap()
    };
    let instance_key = beacon::domain::preview::PreviewKey::new(stored).unwrap();
    let expired = instance_key.sign(id, Utc::now() - Duration::hours(1));
    let forged = beacon::domain::preview::PreviewKey::new(vec![9; 32])
        .unwrap()
        .sign(id, Utc::now() + Duration::hours(1));
    let valid = instance_key.sign(id, Utc::now() + Duration::hours(1));

    for token in [expired, forged, "garbage".to_owned()] {
        let response = app
            .get(&format!("/v1/articles/expiring?preview_token={token}"))
            .await;
        problem(response, 401).await;
    }
    let ok = app
        .get(&format!("/v1/articles/expiring?preview_token={valid}"))
        .await;
    assert_eq!(ok.status(), 200);
}

#[actix_web::test]
async fn a_preview_lifetime_outside_the_allowed_range_is_a_422() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Lifetime")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = post_action(
        &app,
        &key,
        &id,
        "preview-token",
        Some(json!({"expires_in_seconds": 10})),
    )
    .await;
    let short = post_action(
        &app,
        &key,
        &id,
        "preview-token",
        Some(json!({"expires_in_seconds": 120})),
    )
    .await;

    let body = problem(response, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/expires_in_seconds");
    let short: Value = short.json().await.unwrap();
    let expires_at: DateTime<Utc> = short["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires_at <= Utc::now() + Duration::seconds(121));
}

// ---------------------------------------------------------------------------------------------
// Caching
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn public_reads_carry_validators_and_a_matching_if_none_match_is_a_304() {
    let app = spawn_app_with(|settings| {
        settings.content.public_cache_control = "public, max-age=120".to_owned();
    })
    .await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &published("Cached")).await;

    for path in [
        "/v1/articles/cached",
        "/v1/articles",
        "/v1/tags",
        "/v1/articles/cached/related",
        "/v1/tags/ptsd",
    ] {
        let first = app.get(path).await;
        assert_eq!(first.status(), 200, "{path}");
        assert_eq!(
            first.headers()["cache-control"],
            "public, max-age=120",
            "{path}"
        );
        let vary = first.headers()["vary"].to_str().unwrap();
        assert!(vary.starts_with("Authorization"), "{path}: {vary}");
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(
            etag.starts_with('"') && !etag.starts_with("W/"),
            "{path}: strong"
        );
        if path != "/v1/articles/cached/related" {
            assert!(
                first.headers()["last-modified"]
                    .to_str()
                    .unwrap()
                    .ends_with(" GMT")
            );
        }

        let again = app
            .client
            .get(app.url(path))
            .header("if-none-match", format!("\"other\", {etag}"))
            .send()
            .await
            .unwrap();

        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
    }
}

#[actix_web::test]
async fn if_none_match_star_is_a_304_and_a_malformed_one_gets_the_whole_article() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &published("Starred")).await;
    let etag = app.get("/v1/articles/starred").await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let conditional = |if_none_match: String| {
        app.client
            .get(app.url("/v1/articles/starred"))
            .header("if-none-match", if_none_match)
            .send()
    };

    let star = conditional("*".to_owned()).await.unwrap();
    let weak = conditional(format!("W/{etag}")).await.unwrap();
    let malformed = conditional(format!("{etag}, no-quotes")).await.unwrap();

    assert_eq!(star.status(), 304);
    assert_eq!(weak.status(), 304);
    assert_eq!(malformed.status(), 200);
    assert_eq!(json(malformed).await["slug"], "starred");
}

#[actix_web::test]
async fn a_changed_article_gets_a_new_etag() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &published("Changing")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let etag = app.get("/v1/articles/changing").await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    json(patch(&app, &key, &id, json!({"featured": true}), None).await).await;

    let response = app
        .client
        .get(app.url("/v1/articles/changing"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_ne!(response.headers()["etag"], etag.as_str());
}

#[actix_web::test]
async fn keyed_reads_are_private_and_their_etag_is_the_version_tag() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let created_response = create(&app, &key, &published("Private")).await;
    let written_etag = created_response.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    let keyed = keyed_get(&app, &key, "/v1/articles/private").await;
    let unchanged = app
        .client
        .get(app.url("/v1/articles/private"))
        .bearer_auth(&key)
        .header("if-none-match", &written_etag)
        .send()
        .await
        .unwrap();

    assert_eq!(keyed.headers()["cache-control"], "private, no-store");
    assert_eq!(keyed.headers()["etag"], written_etag.as_str());
    assert_eq!(unchanged.status(), 304);
    assert_eq!(unchanged.headers()["cache-control"], "private, no-store");
}

// ---------------------------------------------------------------------------------------------
// Listing, paging, filtering, searching
// ---------------------------------------------------------------------------------------------

/// Publishes articles `t0`, `t1`, … with `t0` the oldest, an hour apart.
async fn publish_series(app: &TestApp, key: &str, count: usize) {
    let start = Utc::now() - Duration::days(30);
    for n in 0..count {
        let mut body = published(&format!("t{n}"));
        body["published_at"] = json!((start + Duration::hours(n as i64)).to_rfc3339());
        created(app, key, &body).await;
    }
}

#[actix_web::test]
async fn the_list_shows_published_articles_newest_first_without_bodies() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    publish_series(&app, &key, 3).await;
    created(&app, &key, &article("Draft")).await;
    let mut future = article("Future");
    future["status"] = json!("scheduled");
    future["published_at"] = json!((Utc::now() + Duration::days(1)).to_rfc3339());
    created(&app, &key, &future).await;

    let list = json(app.get("/v1/articles").await).await;

    assert_eq!(slugs(&list), ["t2", "t1", "t0"]);
    assert_eq!(list["next_cursor"], Value::Null);
    let item = &list["items"][0];
    assert!(item.get("body_markdown").is_none() && item.get("body_html").is_none());
    assert!(item.get("snippet").is_none());
    assert_eq!(item["tags"].as_array().unwrap().len(), 2);
    assert_eq!(item["url"], "http://localhost:3000/blog/t2");
}

#[actix_web::test]
async fn cursor_pages_stay_stable_while_new_articles_are_published() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    publish_series(&app, &key, 5).await;

    let first = app.get("/v1/articles?limit=2").await;
    let link = first.headers()["link"].to_str().unwrap().to_owned();
    let first = json(first).await;
    // Newer articles arrive between page requests.
    created(&app, &key, &published("Breaking one")).await;
    created(&app, &key, &published("Breaking two")).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second_path = format!("/v1/articles?limit=2&cursor={cursor}");
    let second = json(app.get(&second_path).await).await;
    let third = json(
        app.get(&format!(
            "/v1/articles?limit=2&cursor={}",
            second["next_cursor"].as_str().unwrap()
        ))
        .await,
    )
    .await;

    assert_eq!(link, format!("<{second_path}>; rel=\"next\""));
    assert_eq!(slugs(&first), ["t4", "t3"]);
    assert_eq!(slugs(&second), ["t2", "t1"]);
    assert_eq!(slugs(&third), ["t0"]);
    assert_eq!(third["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn articles_published_at_the_same_instant_are_paged_by_id_without_loss() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let at = "2026-01-01T00:00:00Z";
    for n in 0..5 {
        let mut body = published(&format!("same {n}"));
        body["published_at"] = json!(at);
        created(&app, &key, &body).await;
    }

    let mut seen = Vec::new();
    let mut path = "/v1/articles?limit=2".to_owned();
    loop {
        let page = json(app.get(&path).await).await;
        seen.extend(slugs(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/articles?limit=2&cursor={cursor}"),
            None => break,
        }
    }

    assert_eq!(seen, ["same-4", "same-3", "same-2", "same-1", "same-0"]);
}

#[actix_web::test]
async fn a_limit_outside_1_to_100_or_a_bad_cursor_is_a_400() {
    let app = spawn_app().await;

    for query in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "cursor=%21%21%21",
        "cursor=bm90LWEtY3Vyc29y",
    ] {
        let response = app.get(&format!("/v1/articles?{query}")).await;
        let body = problem(response, 400).await;
        assert_eq!(body["type"], "/problems/bad-request", "{query}");
    }
    let long_q = "a".repeat(201);
    problem(app.get(&format!("/v1/articles?q={long_q}")).await, 400).await;
    problem(app.get("/v1/articles/x/related?limit=13").await, 400).await;
}

#[actix_web::test]
async fn a_search_cursor_is_refused_without_its_search() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    for n in 0..3 {
        created(&app, &key, &published(&format!("Ketamine note {n}"))).await;
    }
    let page = json(app.get("/v1/articles?q=ketamine&limit=1").await).await;
    let cursor = page["next_cursor"].as_str().unwrap();

    let response = app.get(&format!("/v1/articles?cursor={cursor}")).await;

    problem(response, 400).await;
}

#[actix_web::test]
async fn filters_narrow_the_list_by_tag_featured_author_and_date() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let mut a = published("Alpha");
    a["tags"] = json!(["Depression"]);
    a["featured"] = json!(true);
    a["published_at"] = json!("2026-01-10T00:00:00Z");
    let mut b = published("Beta");
    b["author"] = json!({"name": "Jordan Lee, LCSW"});
    b["published_at"] = json!("2026-02-10T00:00:00Z");
    created(&app, &key, &a).await;
    created(&app, &key, &b).await;

    let by_tag = json(app.get("/v1/articles?tag=depression").await).await;
    let featured = json(app.get("/v1/articles?featured=true").await).await;
    let not_featured = json(app.get("/v1/articles?featured=false").await).await;
    let by_author = json(app.get("/v1/articles?author=jordan-lee-lcsw").await).await;
    let after = json(
        app.get("/v1/articles?published_after=2026-02-01T00:00:00Z")
            .await,
    )
    .await;
    let before = json(
        app.get("/v1/articles?published_before=2026-02-01T00:00:00Z")
            .await,
    )
    .await;
    let bad_date = app.get("/v1/articles?published_after=yesterday").await;

    assert_eq!(slugs(&by_tag), ["alpha"]);
    assert_eq!(slugs(&featured), ["alpha"]);
    assert_eq!(slugs(&not_featured), ["beta"]);
    assert_eq!(slugs(&by_author), ["beta"]);
    assert_eq!(slugs(&after), ["beta"]);
    assert_eq!(slugs(&before), ["alpha"]);
    problem(bad_date, 400).await;
}

/// Every slug of a public list, following `next_cursor` from `path` (which has a `?`).
async fn every_page(app: &TestApp, path: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next = path.to_owned();
    loop {
        let page = json(app.get(&next).await).await;
        seen.extend(slugs(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}&cursor={cursor}"),
            None => break seen,
        }
    }
}

#[actix_web::test]
async fn a_tag_page_pages_through_the_tags_public_articles_newest_first_with_its_cursor() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let start = Utc::now() - Duration::days(30);
    for n in 0..7 {
        let mut body = published(&format!("t{n}"));
        body["tags"] = json!(if n % 3 == 0 {
            vec!["Other"]
        } else {
            vec!["Anxiety", "Other"]
        });
        // Two pairs share an instant: the id breaks the tie, as in the whole list.
        body["published_at"] = json!((start + Duration::hours(n / 2)).to_rfc3339());
        created(&app, &key, &body).await;
    }
    let mut draft = article("Draft");
    draft["tags"] = json!(["Anxiety"]);
    created(&app, &key, &draft).await;
    let mut future = article("Future");
    future["tags"] = json!(["Anxiety"]);
    future["status"] = json!("scheduled");
    future["published_at"] = json!((Utc::now() + Duration::days(1)).to_rfc3339());
    created(&app, &key, &future).await;
    let whole = every_page(&app, "/v1/articles?limit=50").await;

    let tagged = every_page(&app, "/v1/articles?tag=anxiety&limit=2").await;
    let before = every_page(
        &app,
        &format!(
            "/v1/articles?tag=anxiety&limit=1&published_before={}",
            (start + Duration::hours(2))
                .to_rfc3339()
                .replace('+', "%2B")
        ),
    )
    .await;

    let expected: Vec<&String> = whole
        .iter()
        .filter(|slug| ["t1", "t2", "t4", "t5"].contains(&slug.as_str()))
        .collect();
    assert_eq!(tagged.iter().collect::<Vec<_>>(), expected);
    assert_eq!(before, ["t2", "t1"]);
}

#[actix_web::test]
async fn a_tag_page_follows_its_articles_through_lifecycle_tag_edits_and_writes_outside_beacon() {
    let app = spawn_app_with(|settings| settings.content.response_cache = None).await;
    let key = app.key(&["content:write"]);
    let id_of = |article: Value| article["id"].as_str().unwrap().to_owned();
    let mut older = published("Older");
    older["tags"] = json!(["Sleep"]);
    older["published_at"] = json!("2026-01-01T00:00:00Z");
    let older = id_of(created(&app, &key, &older).await);
    let mut newer = published("Newer");
    newer["tags"] = json!(["Sleep"]);
    newer["published_at"] = json!("2026-02-01T00:00:00Z");
    let newer = id_of(created(&app, &key, &newer).await);
    let untagged = id_of(created(&app, &key, &published("Untagged")).await);
    let page = {
        let app = &app;
        move || async move { slugs(&json(app.get("/v1/articles?tag=sleep").await).await) }
    };

    let at_first = page().await;
    json(post_action(&app, &key, &newer, "unpublish", None).await).await;
    let unpublished = page().await;
    let republish = Some(json!({"published_at": "2025-06-01T00:00:00Z"}));
    json(post_action(&app, &key, &newer, "publish", republish).await).await;
    let backdated = page().await;
    json(patch(&app, &key, &untagged, json!({"tags": ["Sleep"]}), None).await).await;
    json(patch(&app, &key, &older, json!({"tags": ["Other"]}), None).await).await;
    let retagged = page().await;
    set_published_at(&app, &untagged, "2020-01-01T00:00:00Z".parse().unwrap());
    let moved_outside = page().await;

    assert_eq!(at_first, ["newer", "older"]);
    assert_eq!(unpublished, ["older"]);
    assert_eq!(backdated, ["older", "newer"]);
    assert_eq!(retagged, ["untagged", "newer"]);
    assert_eq!(moved_outside, ["newer", "untagged"]);
}

#[actix_web::test]
async fn search_ranks_a_title_hit_above_a_body_only_hit_and_marks_snippets() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let mut body_only = published("Understanding trauma");
    body_only["body_markdown"] = json!(
        "Many patients ask about esketamine and other options.\n\nA <b>bold</b> & careful look."
    );
    body_only["published_at"] = json!("2026-03-01T00:00:00Z");
    let mut in_title = published("Esketamine explained");
    in_title["body_markdown"] = json!("A plain introduction to a nasal spray.");
    in_title["published_at"] = json!("2026-01-01T00:00:00Z");
    created(&app, &key, &body_only).await;
    created(&app, &key, &in_title).await;
    created(&app, &key, &published("Unrelated")).await;

    let results = json(app.get("/v1/articles?q=esketamine").await).await;

    assert_eq!(
        slugs(&results),
        ["esketamine-explained", "understanding-trauma"]
    );
    let snippet = results["items"][1]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>esketamine</mark>"), "{snippet}");
    assert!(!snippet.contains("<b>"), "{snippet}");
}

#[actix_web::test]
async fn search_results_page_with_a_cursor_and_never_repeat() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    for n in 0..5 {
        let mut body = published(&format!("Integration session {n}"));
        body["body_markdown"] = json!("integration ".repeat(n + 1));
        created(&app, &key, &body).await;
    }

    let mut seen = Vec::new();
    let mut path = "/v1/articles?q=integration&limit=2".to_owned();
    loop {
        let page = json(app.get(&path).await).await;
        seen.extend(slugs(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/articles?q=integration&limit=2&cursor={cursor}"),
            None => break,
        }
    }

    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 5);
    assert_eq!(unique.len(), 5);
    assert_eq!(
        seen[0], "integration-session-4",
        "the most mentions ranks first"
    );
}

// ---------------------------------------------------------------------------------------------
// The editors' list (`status`)
// ---------------------------------------------------------------------------------------------

/// Creates a draft, a scheduled, a published and an archived article, in that order.
async fn one_of_each_status(app: &TestApp, key: &str) {
    created(app, key, &article("Draft")).await;
    let mut future = article("Future");
    future["status"] = json!("scheduled");
    future["published_at"] = json!((Utc::now() + Duration::days(1)).to_rfc3339());
    created(app, key, &future).await;
    created(app, key, &published("Live")).await;
    let old = created(app, key, &published("Old")).await;
    let archived = post_action(app, key, old["id"].as_str().unwrap(), "archive", None).await;
    assert_eq!(json(archived).await["status"], "archived");
}

#[actix_web::test]
async fn an_editor_lists_drafts_and_scheduled_articles_that_the_public_list_does_not_show() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    one_of_each_status(&app, &key).await;

    let public = json(app.get("/v1/articles").await).await;
    let unfinished = json(keyed_get(&app, &key, "/v1/articles?status=draft,scheduled").await).await;
    let archived = json(keyed_get(&app, &key, "/v1/articles?status=archived").await).await;
    let all = json(
        keyed_get(
            &app,
            &key,
            "/v1/articles?status=draft,%20scheduled,published,archived",
        )
        .await,
    )
    .await;

    assert_eq!(slugs(&public), ["live"]);
    assert_eq!(slugs(&unfinished), ["future", "draft"]);
    assert_eq!(unfinished["items"][0]["status"], "scheduled");
    assert_eq!(unfinished["items"][1]["status"], "draft");
    assert_eq!(unfinished["items"][1]["published_at"], Value::Null);
    assert_eq!(slugs(&archived), ["old"]);
    assert_eq!(slugs(&all), ["old", "live", "future", "draft"]);
}

#[actix_web::test]
async fn a_scheduled_article_whose_time_has_passed_is_listed_as_published() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    one_of_each_status(&app, &key).await;
    let future = json(keyed_get(&app, &key, "/v1/articles/future").await).await;
    set_published_at(
        &app,
        future["id"].as_str().unwrap(),
        Utc::now() - Duration::seconds(1),
    );

    let scheduled = json(keyed_get(&app, &key, "/v1/articles?status=scheduled").await).await;
    let published = json(keyed_get(&app, &key, "/v1/articles?status=published").await).await;

    assert!(slugs(&scheduled).is_empty());
    assert_eq!(slugs(&published), ["live", "future"]);
    assert_eq!(published["items"][1]["status"], "published");
}

#[actix_web::test]
async fn paging_through_the_editor_list_with_its_cursor_returns_every_article_once() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    for n in 0..5 {
        let body = if n % 2 == 0 {
            article(&format!("e{n}"))
        } else {
            published(&format!("e{n}"))
        };
        created(&app, &key, &body).await;
    }

    let mut seen = Vec::new();
    let base = "/v1/articles?status=draft,published&limit=2";
    let mut path = base.to_owned();
    loop {
        let page = json(keyed_get(&app, &key, &path).await).await;
        seen.extend(slugs(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{base}&cursor={cursor}"),
            None => break,
        }
    }

    assert_eq!(seen, ["e4", "e3", "e2", "e1", "e0"]);
}

#[actix_web::test]
async fn a_public_cursor_is_refused_in_the_editor_list_and_vice_versa() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    publish_series(&app, &key, 3).await;
    let public = json(app.get("/v1/articles?limit=1").await).await;
    let public_cursor = public["next_cursor"].as_str().unwrap();
    let editor = json(keyed_get(&app, &key, "/v1/articles?status=published&limit=1").await).await;
    let editor_cursor = editor["next_cursor"].as_str().unwrap();

    let public_in_editor = keyed_get(
        &app,
        &key,
        &format!("/v1/articles?status=published&cursor={public_cursor}"),
    )
    .await;
    let editor_in_public = app
        .get(&format!("/v1/articles?cursor={editor_cursor}"))
        .await;

    for response in [public_in_editor, editor_in_public] {
        let body = problem(response, 400).await;
        assert!(body["detail"].as_str().unwrap().contains("`cursor`"));
    }
}

#[actix_web::test]
async fn status_without_a_key_is_401_with_a_wrong_scope_key_403_and_a_bad_value_400() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let leads = app.key(&["leads:read"]);

    let without_key = app.get("/v1/articles?status=draft").await;
    let bad_key = keyed_get(&app, "not-a-key", "/v1/articles?status=draft").await;
    let wrong_scope = keyed_get(&app, &leads, "/v1/articles?status=draft").await;
    let bad_values = [
        keyed_get(&app, &key, "/v1/articles?status=deleted").await,
        keyed_get(&app, &key, "/v1/articles?status=").await,
        keyed_get(&app, &key, "/v1/articles?status=draft,").await,
    ];

    problem(without_key, 401).await;
    problem(bad_key, 401).await;
    let body = problem(wrong_scope, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("content:write"));
    for response in bad_values {
        let body = problem(response, 400).await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("`status`"), "{detail}");
        assert!(
            detail.contains("`draft`, `scheduled`, `published` and `archived`"),
            "{detail}"
        );
    }
}

#[actix_web::test]
async fn the_editor_list_is_private_and_without_status_a_key_gets_the_public_list() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    one_of_each_status(&app, &key).await;

    let editor = keyed_get(&app, &key, "/v1/articles?status=draft").await;
    let keyed_public = keyed_get(&app, &key, "/v1/articles").await;
    let anonymous = app.get("/v1/articles").await;

    assert_eq!(editor.headers()["cache-control"], "private, no-store");
    assert_eq!(
        keyed_public.headers()["cache-control"],
        anonymous.headers()["cache-control"]
    );
    assert_ne!(keyed_public.headers()["cache-control"], "private, no-store");
    assert_eq!(json(keyed_public).await, json(anonymous).await);
    assert_eq!(slugs(&json(editor).await), ["draft"]);
}

#[actix_web::test]
async fn the_editor_list_keeps_the_tag_featured_author_and_search_filters() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let mut a = article("Alpha ketamine");
    a["tags"] = json!(["Depression"]);
    a["featured"] = json!(true);
    let mut b = article("Beta");
    b["author"] = json!({"name": "Jordan Lee, LCSW"});
    created(&app, &key, &a).await;
    created(&app, &key, &b).await;

    let (app, key) = (&app, key.as_str());
    let list = move |query: &str| {
        let path = format!("/v1/articles?status=draft&{query}");
        async move { slugs(&json(keyed_get(app, key, &path).await).await) }
    };

    assert_eq!(list("tag=depression").await, ["alpha-ketamine"]);
    assert_eq!(list("featured=false").await, ["beta"]);
    assert_eq!(list("author=jordan-lee-lcsw").await, ["beta"]);
    assert_eq!(list("q=alpha").await, ["alpha-ketamine"]);
    let public_search = json(app.get("/v1/articles?q=alpha").await).await;
    assert!(slugs(&public_search).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Related
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn related_articles_rank_by_shared_tags_then_recency() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let with = |title: &str, tags: Value, at: &str| {
        let mut body = published(title);
        body["tags"] = tags;
        body["published_at"] = json!(at);
        body
    };
    created(
        &app,
        &key,
        &with(
            "Source",
            json!(["PTSD", "Ketamine", "Trauma"]),
            "2026-01-01T00:00:00Z",
        ),
    )
    .await;
    created(
        &app,
        &key,
        &with(
            "Two shared",
            json!(["PTSD", "Ketamine"]),
            "2026-01-02T00:00:00Z",
        ),
    )
    .await;
    created(
        &app,
        &key,
        &with("One shared new", json!(["Trauma"]), "2026-01-04T00:00:00Z"),
    )
    .await;
    created(
        &app,
        &key,
        &with("One shared old", json!(["PTSD"]), "2026-01-03T00:00:00Z"),
    )
    .await;
    created(
        &app,
        &key,
        &with("None shared", json!(["Sleep"]), "2026-01-05T00:00:00Z"),
    )
    .await;
    let mut draft = article("Draft shared");
    draft["tags"] = json!(["PTSD", "Ketamine", "Trauma"]);
    created(&app, &key, &draft).await;

    let related = json(app.get("/v1/articles/source/related?limit=4").await).await;
    let top = json(app.get("/v1/articles/source/related?limit=1").await).await;

    assert_eq!(
        slugs(&related),
        [
            "two-shared",
            "one-shared-new",
            "one-shared-old",
            "none-shared"
        ]
    );
    assert_eq!(slugs(&top), ["two-shared"]);
    problem(app.get("/v1/articles/draft-shared/related").await, 404).await;
}

// ---------------------------------------------------------------------------------------------
// Errors of the remaining endpoints
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn a_patch_to_another_articles_slug_is_a_409() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &article("Taken")).await;
    let id = created(&app, &key, &article("Mover")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = patch(&app, &key, &id, json!({"slug": "taken"}), None).await;
    let invalid = patch(&app, &key, &id, json!({"slug": "Not valid"}), None).await;

    problem(response, 409).await;
    let body = problem(invalid, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/slug");
}

#[actix_web::test]
async fn deleting_an_unknown_or_changed_article_fails() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Guarded")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let unknown = app
        .client
        .delete(app.url("/v1/articles/0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let stale = app
        .client
        .delete(app.url(&format!("/v1/articles/{id}")))
        .bearer_auth(&key)
        .header("if-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    let anonymous = app
        .client
        .delete(app.url(&format!("/v1/articles/{id}")))
        .send()
        .await
        .unwrap();

    problem(unknown, 404).await;
    problem(stale, 412).await;
    problem(anonymous, 401).await;
    assert_eq!(
        keyed_get(&app, &key, &format!("/v1/articles/{id}"))
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn bodies_that_are_not_json_are_a_415_and_a_preview_for_nothing_is_a_404() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let id = created(&app, &key, &article("Typed")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let create_text = app
        .client
        .post(app.url("/v1/articles"))
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("title=x")
        .send()
        .await
        .unwrap();
    let publish_text = app
        .client
        .post(app.url(&format!("/v1/articles/{id}/publish")))
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("now")
        .send()
        .await
        .unwrap();
    let preview_nothing = post_action(
        &app,
        &key,
        "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
        "preview-token",
        None,
    )
    .await;

    problem(create_text, 415).await;
    problem(publish_text, 415).await;
    problem(preview_nothing, 404).await;
}

#[actix_web::test]
async fn with_a_read_replica_public_reads_come_from_it_while_writes_and_keyed_reads_use_the_primary()
 {
    // The "replica": a second migrated database, holding none of the primary's articles.
    let replica = crate::helpers::TestDatabase::create();
    let replica_url = replica.url.clone();
    let app = spawn_app_with(|settings| {
        settings.read_database_url = Some(replica_url);
        settings.content.response_cache = None;
    })
    .await;
    let key = app.key(&["content:write"]);

    let written = created(&app, &key, &published("Only on the primary")).await;
    let slug = written["slug"].as_str().unwrap();
    let path = format!("/v1/articles/{slug}");

    // Public reads see the replica (where the article is not), keyed ones the primary.
    assert_eq!(app.get(&path).await.status(), 404);
    assert_eq!(keyed_get(&app, &key, &path).await.status(), 200);
    let public_list: Value = app.get("/v1/articles").await.json().await.unwrap();
    assert_eq!(public_list["items"], json!([]));
    let keyed_list: Value = keyed_get(&app, &key, "/v1/articles?status=published")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keyed_list["items"][0]["slug"], slug);
    let public_tags: Value = app.get("/v1/tags").await.json().await.unwrap();
    let keyed_tags: Value = keyed_get(&app, &key, "/v1/tags")
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(
        public_tags, keyed_tags,
        "the tags were written to the primary only"
    );
    drop(replica);
}
