//! A `2xx` is sent only after the lead is committed: SIGKILL the real `beacon` binary in the
//! middle of a stream of enquiries, restart it, retry every unacknowledged request with its
//! `Idempotency-Key`, and count rows. No acknowledged lead is lost and none is duplicated.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use beacon::db::schema::{idempotency_keys, lead_submissions, leads};
use diesel::prelude::*;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::helpers::TestDatabase;
use crate::process::Server;

const REQUESTS: usize = 60;
const CONCURRENCY: usize = 6;
/// The server is killed once this many answers have arrived, with others still in flight.
const ACKNOWLEDGED_BEFORE_KILL: usize = 15;
const CONFLICT_RETRIES: usize = 50;
const PAUSE: Duration = Duration::from_millis(50);

struct Enquiry {
    key: String,
    body: Value,
    e164: String,
}

fn enquiries() -> Vec<Enquiry> {
    (0..REQUESTS)
        .map(|i| Enquiry {
            key: format!("durability-{i}"),
            body: json!({
                "name": format!("Durable Person {i}"),
                "phone": format!("(415) 555-{}", 2600 + i),
                "email": format!("person{i}@example.com"),
                "message": format!("Private message {i}"),
                "interests": ["ptsd"],
            }),
            e164: format!("+1415555{}", 2600 + i),
        })
        .collect()
}

/// `(status, body)`, or `None` when no answer arrived.
async fn send(client: &reqwest::Client, base_url: &str, enquiry: &Enquiry) -> Option<(u16, Value)> {
    let response = client
        .post(format!("{base_url}/v1/leads"))
        .header("idempotency-key", &enquiry.key)
        .json(&enquiry.body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.ok()?;
    Some((status, body))
}

/// Retries as a client should: a 409 means the key's first attempt still holds its lock (a
/// dead connection's transaction is rolled back as soon as PostgreSQL notices it).
async fn retry(client: &reqwest::Client, base_url: &str, enquiry: &Enquiry) -> Value {
    for _ in 0..CONFLICT_RETRIES {
        match send(client, base_url, enquiry).await {
            Some((409, _)) => actix_web::rt::time::sleep(PAUSE).await,
            Some((status, body)) if (200..300).contains(&status) => return body,
            other => panic!("retry of {} failed: {other:?}", enquiry.key),
        }
    }
    panic!("{} stayed in flight", enquiry.key);
}

#[actix_web::test]
async fn killing_the_server_mid_stream_loses_no_acknowledged_lead_and_retries_make_no_duplicates() {
    let database = TestDatabase::create();
    let log = crate::process::log_file("durability");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let enquiries = enquiries();
    let mut server = Server::start(&database.url, &log, &client).await;

    // Act 1: a stream of enquiries, killed part-way.
    let mut answers: Vec<Option<Value>> = vec![None; REQUESTS];
    let mut acknowledged = 0;
    let base_url = server.base_url.clone();
    let mut stream = futures_util::stream::iter(enquiries.iter().enumerate())
        .map(|(i, enquiry)| {
            let (client, base_url) = (&client, &base_url);
            async move { (i, send(client, base_url, enquiry).await) }
        })
        .buffer_unordered(CONCURRENCY);
    let mut killed = false;
    while let Some((i, answer)) = stream.next().await {
        if let Some((status, body)) = answer
            && (200..300).contains(&status)
        {
            answers[i] = Some(body);
            acknowledged += 1;
        }
        if !killed && acknowledged >= ACKNOWLEDGED_BEFORE_KILL {
            server.kill();
            killed = true;
        }
    }
    drop(stream);
    let acknowledged_before_kill: Vec<(usize, String)> = answers
        .iter()
        .enumerate()
        .filter_map(|(i, a)| Some((i, a.as_ref()?["id"].as_str()?.to_owned())))
        .collect();
    assert!(killed);
    assert!(
        acknowledged_before_kill.len() < REQUESTS,
        "some requests went unanswered"
    );

    // Act 2: restart and retry everything unacknowledged with the same key and body.
    let restarted = Server::start(&database.url, &log, &client).await;
    for (i, enquiry) in enquiries.iter().enumerate() {
        if answers[i].is_none() {
            answers[i] = Some(retry(&client, &restarted.base_url, enquiry).await);
        }
    }

    // Assert: one lead and one submission per distinct request, each answer naming its own.
    let mut conn = database.connection();
    let lead_count: i64 = leads::table.count().get_result(&mut conn).unwrap();
    let submission_count: i64 = lead_submissions::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let key_count: i64 = idempotency_keys::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(lead_count, REQUESTS as i64);
    assert_eq!(submission_count, REQUESTS as i64);
    assert_eq!(key_count, REQUESTS as i64);
    for (i, id) in &acknowledged_before_kill {
        assert_eq!(
            answers[*i].as_ref().unwrap()["id"].as_str(),
            Some(id.as_str())
        );
    }
    let mut leads_seen = HashSet::new();
    for (enquiry, answer) in enquiries.iter().zip(&answers) {
        let id: uuid::Uuid = answer.as_ref().unwrap()["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let (lead, phone): (uuid::Uuid, Option<String>) = lead_submissions::table
            .find(id)
            .select((lead_submissions::lead_id, lead_submissions::phone_e164))
            .first(&mut conn)
            .unwrap();
        assert!(leads_seen.insert(lead), "{} shares its lead", enquiry.key);
        assert_eq!(phone.as_deref(), Some(enquiry.e164.as_str()));
    }
    assert_logs_hold_no_personal_data(&log);
    drop(restarted);
    let _ = std::fs::remove_file(&log);
}

/// Both runs' logs name leads by id only.
fn assert_logs_hold_no_personal_data(log: &PathBuf) {
    let logs = std::fs::read_to_string(log).unwrap();
    assert!(logs.contains("lead received") && logs.contains("lead_id"));
    for personal in [
        "Durable Person",
        "example.com",
        "Private message",
        "555-26",
        "+1415555",
        "ptsd",
    ] {
        assert!(
            !logs.contains(personal),
            "the log holds {personal:?}: {}",
            log.display()
        );
    }
}
