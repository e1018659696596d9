//! `/v1/tags`: counts of published articles, renaming and deleting.

use serde_json::{Value, json};

use crate::articles::{article, created, keyed_get, published};
use crate::helpers::{TestApp, problem, spawn_app};

async fn patch_tag(app: &TestApp, key: &str, slug: &str, body: Value) -> reqwest::Response {
    app.patch_json(key, &format!("/v1/tags/{slug}"), &body)
        .await
}

#[actix_web::test]
async fn the_public_tag_list_counts_only_published_articles() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let mut one = published("One");
    one["tags"] = json!(["PTSD", "Ketamine therapy"]);
    let mut two = published("Two");
    two["tags"] = json!(["ptsd"]);
    let mut draft = article("Draft");
    draft["tags"] = json!(["PTSD", "Unreleased topic"]);
    created(&app, &key, &one).await;
    created(&app, &key, &two).await;
    created(&app, &key, &draft).await;

    let public: Value = app.get("/v1/tags").await.json().await.unwrap();
    let editor: Value = keyed_get(&app, &key, "/v1/tags")
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(
        public,
        json!({
            "items": [
                {"slug": "ketamine-therapy", "name": "Ketamine therapy", "description": null, "article_count": 1},
                {"slug": "ptsd", "name": "PTSD", "description": null, "article_count": 2},
            ],
            "next_cursor": null,
        })
    );
    assert_eq!(editor["items"].as_array().unwrap().len(), 3);
    assert_eq!(editor["items"][2]["article_count"], 0);
}

#[actix_web::test]
async fn a_tag_page_shows_the_tag_and_unused_tags_are_404_to_the_public() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &published("Visible")).await;
    let mut draft = article("Hidden");
    draft["tags"] = json!(["Unreleased"]);
    created(&app, &key, &draft).await;

    let tag: Value = app.get("/v1/tags/ptsd").await.json().await.unwrap();
    let unused = app.get("/v1/tags/unreleased").await;
    let unused_keyed = keyed_get(&app, &key, "/v1/tags/unreleased").await;

    assert_eq!(tag["name"], "PTSD");
    assert_eq!(tag["article_count"], 1);
    problem(unused, 404).await;
    assert_eq!(unused_keyed.status(), 200);
    problem(app.get("/v1/tags/nothing").await, 404).await;
}

#[actix_web::test]
async fn renaming_a_tag_shows_on_its_articles_and_moves_their_version() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let before = created(&app, &key, &published("Renamed")).await;

    let response = patch_tag(
        &app,
        &key,
        "ketamine-therapy",
        json!({"name": "Ketamine-assisted therapy", "slug": "ketamine-assisted-therapy", "description": "How it works."}),
    )
    .await;

    assert_eq!(response.status(), 200);
    let tag: Value = response.json().await.unwrap();
    assert_eq!(tag["slug"], "ketamine-assisted-therapy");
    assert_eq!(tag["article_count"], 1);
    let after: Value = app.get("/v1/articles/renamed").await.json().await.unwrap();
    assert_eq!(
        after["tags"][1],
        json!({"slug": "ketamine-assisted-therapy", "name": "Ketamine-assisted therapy", "description": "How it works."})
    );
    assert_eq!(after["version"], before["version"].as_i64().unwrap() + 1);
    let listed: Value = app
        .get("/v1/articles?tag=ketamine-assisted-therapy")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_tag_update_is_validated_and_a_taken_slug_is_a_409() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &published("Tagged")).await;

    let invalid = patch_tag(&app, &key, "ptsd", json!({"name": "", "slug": "Bad Slug"})).await;
    let taken = patch_tag(&app, &key, "ptsd", json!({"slug": "ketamine-therapy"})).await;
    let unknown = patch_tag(&app, &key, "nothing", json!({"name": "X"})).await;
    let anonymous = app
        .client
        .patch(app.url("/v1/tags/ptsd"))
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();

    let body = problem(invalid, 422).await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    problem(taken, 409).await;
    problem(unknown, 404).await;
    problem(anonymous, 401).await;
}

#[actix_web::test]
async fn deleting_a_tag_removes_it_from_its_articles() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    created(&app, &key, &published("Untagged soon")).await;

    let deleted = app
        .client
        .delete(app.url("/v1/tags/ptsd"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();

    assert_eq!(deleted.status(), 204);
    let article: Value = app
        .get("/v1/articles/untagged-soon")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(article["tags"].as_array().unwrap().len(), 1);
    assert_eq!(article["version"], 2);
    problem(app.get("/v1/tags/ptsd").await, 404).await;
}

#[actix_web::test]
async fn deleting_an_unknown_tag_is_a_404_and_needs_the_scope() {
    let app = spawn_app().await;
    let key = app.key(&["content:write"]);
    let leads = app.key(&["leads:read"]);

    let unknown = app
        .client
        .delete(app.url("/v1/tags/nothing"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let wrong_scope = app
        .client
        .delete(app.url("/v1/tags/nothing"))
        .bearer_auth(&leads)
        .send()
        .await
        .unwrap();

    problem(unknown, 404).await;
    problem(wrong_scope, 403).await;
}
