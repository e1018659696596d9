use diesel::connection::SimpleConnection;

use crate::helpers::{problem, spawn_app};

#[actix_web::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[actix_web::test]
async fn readyz_answers_ready_when_the_database_is_migrated() {
    let app = spawn_app().await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), 200);
}

#[actix_web::test]
async fn readyz_answers_503_when_a_migration_is_missing() {
    let app = spawn_app().await;
    app.connection()
        .batch_execute(
            "DELETE FROM __diesel_schema_migrations WHERE version = \
             (SELECT max(version) FROM __diesel_schema_migrations)",
        )
        .unwrap();

    let response = app.get("/readyz").await;

    let body = problem(response, 503).await;
    assert_eq!(body["type"], "/problems/service-unavailable");
}

#[actix_web::test]
async fn readyz_answers_503_when_the_database_is_gone_and_healthz_stays_ok() {
    let app = spawn_app_with_short_timeouts().await;
    app.drop_database();

    let response = app.get("/readyz").await;

    let body = problem(response, 503).await;
    assert!(
        !body.to_string().contains("beacon_test"),
        "no internals leak"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
}

async fn spawn_app_with_short_timeouts() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|settings| {
        settings.database.connect_timeout = std::time::Duration::from_secs(1);
    })
    .await
}
