//! `beacon seed --demo`: demo content a front-end can use at once, loaded only once.

use std::process::Command;

use serde_json::Value;

use crate::helpers::spawn_app;

fn seed(database_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(["seed", "--demo"])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run beacon")
}

#[actix_web::test]
async fn seeding_twice_loads_the_demo_articles_once() {
    let app = spawn_app().await;

    let first = seed(&app.database_url);
    let second = seed(&app.database_url);

    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        String::from_utf8(first.stdout).unwrap().trim(),
        "Seeded 6 demo articles (0 already present)."
    );
    assert_eq!(
        String::from_utf8(second.stdout).unwrap().trim(),
        "Seeded 0 demo articles (6 already present)."
    );
    let list: Value = app.get("/v1/articles").await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        4,
        "the scheduled one and the draft stay hidden"
    );
    assert_eq!(
        items[0]["slug"],
        "esketamine-nasal-spray-and-iv-ketamine-how-they-differ"
    );
    let featured: Value = app
        .get("/v1/articles?featured=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        featured["items"][0]["slug"],
        "ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors"
    );
    let tags: Value = app.get("/v1/tags").await.json().await.unwrap();
    assert!(tags["items"].as_array().unwrap().len() >= 6);
}

#[test]
fn seed_without_a_kind_of_content_explains_itself() {
    let output = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .arg("seed")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nothing")
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("pass --demo"), "{stderr}");
}
