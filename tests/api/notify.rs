//! LISTEN/NOTIFY wake-ups on a real PostgreSQL: a committed notification wakes a waiter at
//! once, one rolled back or on another channel does not, a waiter without one wakes at its
//! fallback time, and the listener comes back after losing its connection.

use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use beacon::db::events::CHANNEL;
use beacon::db::notify::{Listener, Waiter, Wake};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{TestDatabase, spawn_app};
use crate::lead_admin::{enquire, person};

const CACHE: &str = "beacon_cache_test";
/// Far longer than any test waits for a notification, so waking early proves one arrived.
const FALLBACK: Duration = Duration::from_secs(60);

/// Waits for the wake-up every waiter gets once the listener is listening, so a notification
/// sent afterwards cannot be missed.
async fn listening(waiter: &mut Waiter) {
    assert_eq!(
        waiter.wait(sleep(Duration::from_secs(15))).await,
        Wake::Notified,
        "the listener did not connect"
    );
}

fn notify(database: &TestDatabase, channel: &str) {
    database
        .connection()
        .batch_execute(&format!("SELECT pg_notify('{channel}', '')"))
        .unwrap();
}

async fn woken_within(waiter: &mut Waiter, limit: Duration) -> Wake {
    let started = Instant::now();
    let wake = waiter.wait(sleep(FALLBACK)).await;
    assert!(
        started.elapsed() < limit,
        "woke after {:?}",
        started.elapsed()
    );
    wake
}

#[actix_web::test]
async fn a_notification_committed_on_another_connection_wakes_a_waiter_promptly() {
    let database = TestDatabase::create();
    let listener = Listener::start(&database.url, &[CHANNEL, CACHE]).unwrap();
    let mut events = listener.waiter(CHANNEL).unwrap();
    let mut cache = listener.waiter(CACHE).unwrap();
    listening(&mut events).await;
    listening(&mut cache).await;

    notify(&database, CHANNEL);

    assert_eq!(
        woken_within(&mut events, Duration::from_secs(2)).await,
        Wake::Notified
    );
    assert_eq!(
        cache.wait(sleep(Duration::from_millis(300))).await,
        Wake::Timer,
        "another channel's waiter sleeps on"
    );
}

#[actix_web::test]
async fn a_waiter_without_a_notification_wakes_at_its_fallback_time() {
    let database = TestDatabase::create();
    let listener = Listener::start(&database.url, &[CHANNEL]).unwrap();
    let mut waiter = listener.waiter(CHANNEL).unwrap();
    listening(&mut waiter).await;

    let started = Instant::now();
    let wake = waiter.wait(sleep(Duration::from_millis(300))).await;

    assert_eq!(wake, Wake::Timer);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[actix_web::test]
async fn a_notification_rolled_back_wakes_nobody() {
    let database = TestDatabase::create();
    let listener = Listener::start(&database.url, &[CHANNEL]).unwrap();
    let mut waiter = listener.waiter(CHANNEL).unwrap();
    listening(&mut waiter).await;

    database
        .connection()
        .batch_execute(&format!(
            "BEGIN; SELECT pg_notify('{CHANNEL}', ''); ROLLBACK;"
        ))
        .unwrap();

    assert_eq!(
        waiter.wait(sleep(Duration::from_millis(500))).await,
        Wake::Timer
    );
}

#[actix_web::test]
async fn the_listener_reconnects_after_losing_its_connection_and_wakes_its_waiters() {
    let database = TestDatabase::create();
    let listener = Listener::start(&database.url, &[CHANNEL]).unwrap();
    let mut waiter = listener.waiter(CHANNEL).unwrap();
    listening(&mut waiter).await;

    let terminated: Vec<bool> = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
           AND query LIKE 'LISTEN%'",
    )
    .load::<Terminated>(&mut database.connection())
    .unwrap()
    .into_iter()
    .map(|row| row.terminated)
    .collect();
    assert_eq!(terminated, [true]);

    // Listening again: anything sent meanwhile was lost, so every waiter is woken to look.
    assert_eq!(
        woken_within(&mut waiter, Duration::from_secs(10)).await,
        Wake::Notified
    );
    notify(&database, CHANNEL);
    assert_eq!(
        woken_within(&mut waiter, Duration::from_secs(2)).await,
        Wake::Notified
    );
}

#[derive(QueryableByName)]
struct Terminated {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    terminated: bool,
}

#[actix_web::test]
async fn recording_an_event_announces_it_on_the_events_channel() {
    let app = spawn_app().await;
    let listener = Listener::start(&app.database_url, &[CHANNEL]).unwrap();
    let mut waiter = listener.waiter(CHANNEL).unwrap();
    listening(&mut waiter).await;

    let mut body = person("Ada Lovelace", "(415) 555-0101");
    body["interests"] = json!(["ptsd"]);
    enquire(&app, body).await;

    assert_eq!(
        woken_within(&mut waiter, Duration::from_secs(2)).await,
        Wake::Notified
    );
}

#[actix_web::test]
async fn a_channel_the_listener_does_not_listen_on_has_no_waiters() {
    let database = TestDatabase::create();
    let listener = Listener::start(&database.url, &[CHANNEL]).unwrap();

    assert!(listener.waiter(CACHE).is_err());
}
