//! The `beacon` binary's key commands, run as a person or a script would.

use std::process::Command;

use crate::helpers::{problem, spawn_app};

fn beacon(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run beacon")
}

#[actix_web::test]
async fn keys_create_prints_the_key_alone_on_the_last_line_and_it_authenticates() {
    let app = spawn_app().await;

    let output = beacon(
        &app.database_url,
        &[
            "keys",
            "create",
            "--name",
            "Ops script",
            "--scopes",
            "admin,leads:read",
        ],
    );

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let key = stdout.lines().last().unwrap();
    assert!(key.starts_with("bcn_") && !key.contains(' '));
    let response = app
        .client
        .get(app.url("/v1/keys"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[actix_web::test]
async fn keys_revoke_by_prefix_makes_the_key_fail_and_keys_list_shows_it() {
    let app = spawn_app().await;
    let created = beacon(
        &app.database_url,
        &["keys", "create", "--name", "Temp", "--scopes", "admin"],
    );
    let key = String::from_utf8(created.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let prefix: String = key.split('_').take(2).collect::<Vec<_>>().join("_");

    let revoked = beacon(&app.database_url, &["keys", "revoke", &prefix]);
    let listed = beacon(&app.database_url, &["keys", "list"]);

    assert!(revoked.status.success());
    let listing = String::from_utf8(listed.stdout).unwrap();
    assert!(listing.contains(&prefix) && listing.contains("revoked"));
    assert!(!listing.contains(&key));
    let response = app
        .client
        .get(app.url("/v1/keys"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    problem(response, 401).await;
}

#[actix_web::test]
async fn keys_create_with_an_unknown_scope_fails_with_a_clear_message() {
    let app = spawn_app().await;

    let output = beacon(
        &app.database_url,
        &["keys", "create", "--name", "X", "--scopes", "everything"],
    );

    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("unknown scope `everything`"), "{stderr}");
}

#[test]
fn a_bad_setting_exits_naming_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .arg("migrate")
        .env("BEACON_DB_POOL_SIZE", "many")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("BEACON_DB_POOL_SIZE"), "{stderr}");
}

#[test]
fn openapi_prints_the_spec_alone_without_a_database() {
    let output = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .arg("openapi")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/nothing")
        .output()
        .unwrap();

    assert!(output.status.success());
    let spec: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
}

#[actix_web::test]
async fn keys_created_and_revoked_on_the_command_line_are_audited_as_the_cli() {
    let app = spawn_app().await;
    let created = beacon(
        &app.database_url,
        &[
            "keys",
            "create",
            "--name",
            "Reports",
            "--scopes",
            "leads:read",
        ],
    );
    let key = String::from_utf8(created.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let prefix: String = key.split('_').take(2).collect::<Vec<_>>().join("_");
    let revoked = beacon(&app.database_url, &["keys", "revoke", &prefix]);
    assert!(revoked.status.success());
    let admin = app.key(&["admin"]);

    let response = app.get_with(&admin, "/v1/audit?action=key.revoked").await;
    let revocations: serde_json::Value = response.json().await.unwrap();
    let response = app.get_with(&admin, "/v1/audit?action=key.created").await;
    let creations: serde_json::Value = response.json().await.unwrap();

    let revocation = &revocations["items"][0];
    assert_eq!(revocation["key_name"], "beacon keys revoke");
    assert_eq!(revocation["key_id"], serde_json::Value::Null);
    assert_eq!(revocation["api_key"]["prefix"], prefix.as_str());
    assert_eq!(
        revocation["api_key"]["scopes"],
        serde_json::json!(["leads:read"])
    );
    let creation = creations["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["api_key"]["prefix"] == prefix.as_str())
        .unwrap();
    assert_eq!(creation["key_name"], "beacon keys create");
    assert_eq!(creation["api_key"]["name"], "Reports");
    assert!(!creations.to_string().contains(&key));
}
