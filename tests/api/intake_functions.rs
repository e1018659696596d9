//! The SQL functions lead intake calls (migration `intake_functions`), tested on their own: each
//! takes a lock and reads after it in one round trip, and the read must see what the lock's
//! previous holder committed, which a single SQL statement would not.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Bytea, Jsonb, Nullable, SmallInt, Text, Timestamptz};
use serde_json::{Value, json};

use crate::helpers::{TestDatabase, spawn_app};

const TAG: [u8; 32] = [7; 32];

#[derive(QueryableByName, Debug)]
struct Claim {
    #[diesel(sql_type = Bool)]
    locked: bool,
    #[diesel(sql_type = Nullable<SmallInt>)]
    response_status: Option<i16>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    response_body: Option<Value>,
}

#[derive(QueryableByName, Debug)]
struct Number {
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    lead_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    opted_out_at: Option<DateTime<Utc>>,
}

fn claim(conn: &mut PgConnection, lock: i64, key: &str) -> Claim {
    diesel::sql_query("SELECT * FROM beacon_claim_idempotency_key($1, 'scope', $2, $3, now())")
        .bind::<BigInt, _>(lock)
        .bind::<Text, _>(key)
        .bind::<Bytea, _>(vec![1u8; 32])
        .get_result(conn)
        .unwrap()
}

fn lock_number(conn: &mut PgConnection, phone: &str, since: Option<DateTime<Utc>>) -> Number {
    diesel::sql_query("SELECT * FROM beacon_lock_number($1, $2, $3, $4)")
        .bind::<BigInt, _>(beacon::db::lock_key("lead_phone", phone))
        .bind::<Text, _>(phone)
        .bind::<Nullable<Timestamptz>, _>(since)
        .bind::<Bytea, _>(TAG.to_vec())
        .get_result(conn)
        .unwrap()
}

fn store_key(conn: &mut PgConnection, key: &str, expires_in: TimeDelta) {
    diesel::sql_query(
        "INSERT INTO idempotency_keys (scope, key, request_sha256, response_status, \
         response_body, created_at, expires_at) VALUES ('scope', $1, $2, 201, $3, now(), $4)",
    )
    .bind::<Text, _>(key)
    .bind::<Bytea, _>(vec![1u8; 32])
    .bind::<Jsonb, _>(json!({"id": key}))
    .bind::<Timestamptz, _>(Utc::now() + expires_in)
    .execute(conn)
    .unwrap();
}

#[test]
fn claiming_a_free_key_locks_it_and_returns_its_live_answer_but_never_an_expired_one() {
    let database = TestDatabase::create();
    let mut conn = database.connection();
    store_key(&mut conn, "live", TimeDelta::hours(1));
    store_key(&mut conn, "expired", TimeDelta::hours(-1));

    let live = claim(&mut conn, 1, "live");
    let expired = claim(&mut conn, 2, "expired");
    let unknown = claim(&mut conn, 3, "unknown");

    assert!(live.locked && expired.locked && unknown.locked);
    assert_eq!(live.response_status, Some(201));
    assert_eq!(live.response_body, Some(json!({"id": "live"})));
    assert_eq!(
        (expired.response_status, expired.response_body),
        (None, None)
    );
    assert_eq!(
        (unknown.response_status, unknown.response_body),
        (None, None)
    );
}

#[test]
fn claiming_a_key_whose_lock_another_transaction_holds_reports_it_at_once_and_reads_nothing() {
    let database = TestDatabase::create();
    let mut holder = database.connection();
    let mut other = database.connection();
    store_key(&mut holder, "busy", TimeDelta::hours(1));
    holder
        .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(42)")
        .unwrap();

    let busy = claim(&mut other, 42, "busy");

    assert!(!busy.locked);
    assert_eq!((busy.response_status, busy.response_body), (None, None));
    holder.batch_execute("COMMIT").unwrap();
    assert!(
        claim(&mut other, 42, "busy").locked,
        "the lock ends with the transaction"
    );
}

#[actix_web::test]
async fn locking_a_number_finds_its_recent_real_lead_unless_dedupe_is_off_or_it_is_older() {
    let app = spawn_app().await;
    let created = app
        .client
        .post(app.url("/v1/leads"))
        .json(&json!({"name": "Jane Doe", "phone": "+14155552671"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let lead_id: uuid::Uuid = {
        use beacon::db::schema::leads;
        leads::table
            .select(leads::id)
            .first(&mut app.connection())
            .unwrap()
    };
    let mut conn = app.connection();
    let hour_ago = Utc::now() - TimeDelta::hours(1);

    let recent = lock_number(&mut conn, "+14155552671", Some(hour_ago));
    let dedupe_off = lock_number(&mut conn, "+14155552671", None);
    let too_old = lock_number(
        &mut conn,
        "+14155552671",
        Some(Utc::now() + TimeDelta::hours(1)),
    );
    let other_number = lock_number(&mut conn, "+14155550000", Some(hour_ago));

    assert_eq!(recent.lead_id, Some(lead_id));
    assert_eq!(dedupe_off.lead_id, None);
    assert_eq!(too_old.lead_id, None);
    assert_eq!(other_number.lead_id, None);

    // A quarantined lead is never joined.
    conn.batch_execute("UPDATE leads SET status = 'spam'")
        .unwrap();
    assert_eq!(
        lock_number(&mut conn, "+14155552671", Some(hour_ago)).lead_id,
        None
    );
}

#[test]
fn locking_a_number_waits_for_its_holder_and_then_sees_the_opt_out_it_committed() {
    let database = TestDatabase::create();
    let phone = "+14155552671";
    let mut holder = database.connection();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({});",
            beacon::db::lock_key("lead_phone", phone)
        ))
        .unwrap();
    let url = database.url.clone();
    let waiter = std::thread::spawn(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        lock_number(&mut conn, phone, None)
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !waiting_on_a_lock(&mut holder) {
        assert!(
            Instant::now() < deadline,
            "the function never waited for the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The holder records the opt-out only after the function started waiting, then commits.
    diesel::sql_query(
        "INSERT INTO suppressed_numbers (phone_hmac, opted_out_at) VALUES ($1, now())",
    )
    .bind::<Bytea, _>(TAG.to_vec())
    .execute(&mut holder)
    .unwrap();
    holder.batch_execute("COMMIT").unwrap();

    let number = waiter.join().unwrap();
    assert!(
        number.opted_out_at.is_some(),
        "the read after the lock missed the commit"
    );
}

#[derive(QueryableByName)]
struct Waiting {
    #[diesel(sql_type = Bool)]
    waiting: bool,
}

fn waiting_on_a_lock(conn: &mut PgConnection) -> bool {
    diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) \
         AS waiting",
    )
    .get_result::<Waiting>(conn)
    .unwrap()
    .waiting
}
