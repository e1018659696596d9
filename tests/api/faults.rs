//! Faults Beacon must survive: the database down at start or restarted under load, an exhausted
//! pool, slow statements, slow clients, and shutdown with a request in flight. The database
//! "goes away" behind a proxy each test owns; the shared PostgreSQL is never touched.

use std::time::{Duration, Instant};

use beacon::db::schema::{idempotency_keys, leads};
use beacon::domain::rate_limit::FixedWindow;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestDatabase, problem, spawn_app_on, spawn_app_with};
use crate::process::{Proxy, Server, log_file};

const PAUSE: Duration = Duration::from_millis(100);

fn enquiry(i: usize) -> Value {
    json!({
        "name": format!("Fault Person {i}"),
        "phone": format!("(415) 555-{}", 3000 + i),
        "email": format!("fault{i}@example.com"),
        "message": format!("Private fault message {i}"),
        "interests": ["ptsd"],
    })
}

fn e164(i: usize) -> String {
    format!("+1415555{}", 3000 + i)
}

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}

fn leads_with_phone(conn: &mut PgConnection, i: usize) -> i64 {
    leads::table
        .filter(leads::phone_e164.eq(e164(i)))
        .count()
        .get_result(conn)
        .unwrap()
}

/// Holds a lock that makes every new lead's INSERT wait, until the transaction ends.
fn block_lead_inserts(conn: &mut PgConnection) {
    conn.batch_execute("BEGIN; LOCK TABLE leads IN SHARE ROW EXCLUSIVE MODE;")
        .unwrap();
}

fn release(conn: &mut PgConnection) {
    conn.batch_execute("COMMIT").unwrap();
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Sessions of this database other than the caller's, optionally only those waiting on a lock.
fn other_sessions(conn: &mut PgConnection, waiting_on_a_lock: bool) -> i64 {
    let filter = if waiting_on_a_lock {
        "AND wait_event_type = 'Lock'"
    } else {
        ""
    };
    diesel::sql_query(format!(
        "SELECT count(*) AS count FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() {filter}"
    ))
    .get_result::<Count>(conn)
    .unwrap()
    .count
}

async fn wait_for_lock_waiters(mut conn: PgConnection, waiters: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while other_sessions(&mut conn, true) < waiters {
        assert!(Instant::now() < deadline, "no request reached the lock");
        actix_web::rt::time::sleep(PAUSE).await;
    }
}

fn has_retry_after(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.parse::<u64>().is_ok_and(|secs| secs > 0))
}

async fn post_lead(client: &reqwest::Client, base_url: &str, i: usize) -> reqwest::Response {
    client
        .post(format!("{base_url}/v1/leads"))
        .header("idempotency-key", format!("fault-{i}"))
        .json(&enquiry(i))
        .send()
        .await
        .unwrap()
}

/// Polls `url` until it answers `status`; the time that took.
async fn wait_for_status(client: &reqwest::Client, url: &str, status: u16) -> Duration {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    loop {
        let answered = client
            .get(url)
            .send()
            .await
            .is_ok_and(|response| response.status() == status);
        if answered {
            return started.elapsed();
        }
        assert!(Instant::now() < deadline, "{url} never answered {status}");
        actix_web::rt::time::sleep(PAUSE).await;
    }
}

#[actix_web::test]
async fn beacon_starts_without_its_database_answers_503_and_heals_when_the_database_appears() {
    let database = TestDatabase::create_empty();
    let proxy = Proxy::refusing(&database.url).await;
    let client = client(Duration::from_secs(5));
    let log = log_file("down-at-start");
    let server = Server::start_with(
        &proxy.url_for(&database.url),
        &log,
        &client,
        &[("BEACON_DB_CONNECT_TIMEOUT_SECS", "1")],
        "/healthz",
    )
    .await;
    let url = |path: &str| format!("{}{path}", server.base_url);

    let readyz = client.get(url("/readyz")).send().await.unwrap();
    problem(readyz, 503).await;
    let started = Instant::now();
    let list = client.get(url("/v1/articles")).send().await.unwrap();
    assert!(has_retry_after(&list));
    assert_eq!(
        problem(list, 503).await["type"],
        "/problems/service-unavailable"
    );
    let lead = post_lead(&client, &server.base_url, 1).await;
    assert!(has_retry_after(&lead));
    problem(lead, 503).await;
    eprintln!("two 503s while down took {:?}", started.elapsed());

    proxy.open();
    let healed = wait_for_status(&client, &url("/readyz"), 200).await;
    eprintln!("ready {healed:?} after the database appeared");

    assert_eq!(post_lead(&client, &server.base_url, 1).await.status(), 201);
    assert_eq!(leads_with_phone(&mut database.connection(), 1), 1);
    assert_eq!(
        client
            .get(url("/v1/articles"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    drop(server);
    let _ = std::fs::remove_file(&log);
}

#[actix_web::test]
async fn restarting_the_database_under_load_fails_only_requests_in_flight_and_loses_no_lead() {
    const REQUESTS: usize = 200;
    const CONCURRENCY: usize = 8;
    const ANSWERS_BEFORE_CUT: usize = 40;
    const DOWN_FOR: Duration = Duration::from_millis(500);
    let database = TestDatabase::create();
    let proxy = Proxy::refusing(&database.url).await;
    proxy.open();
    let url = proxy.url_for(&database.url);
    let app = spawn_app_on(database, url, |settings| {
        settings.database.connect_timeout = Duration::from_secs(1);
        settings.leads.rate_per_ip = FixedWindow::per_minute(0);
        settings.leads.rate_per_phone = FixedWindow::per_hour(0);
    })
    .await;
    let client = client(Duration::from_secs(10));

    // Act 1: a stream of enquiries; the database restarts part-way.
    let mut statuses: Vec<Option<u16>> = vec![None; REQUESTS];
    let mut stream = futures_util::stream::iter(0..REQUESTS)
        .map(|i| {
            let (client, base_url) = (&client, &app.address);
            async move {
                let response = client
                    .post(format!("{base_url}/v1/leads"))
                    .header("idempotency-key", format!("fault-{i}"))
                    .json(&enquiry(i))
                    .send()
                    .await;
                (i, response.ok().map(|r| r.status().as_u16()))
            }
        })
        .buffer_unordered(CONCURRENCY);
    let (mut answered, mut cut_at) = (0, None);
    while let Some((i, status)) = stream.next().await {
        statuses[i] = status;
        answered += 1;
        if answered == ANSWERS_BEFORE_CUT {
            proxy.cut();
            cut_at = Some(Instant::now());
        }
        if cut_at.is_some_and(|at| at.elapsed() >= DOWN_FOR) {
            proxy.open();
        }
    }
    drop(stream);
    proxy.open();
    let unanswered = statuses.iter().filter(|s| s.is_none()).count();
    assert_eq!(unanswered, 0, "requests hung or lost their connection");
    let failed: Vec<u16> = statuses
        .iter()
        .flatten()
        .copied()
        .filter(|s| *s != 201)
        .collect();
    assert!(
        failed.iter().all(|status| *status == 503),
        "failures other than 503: {failed:?}"
    );
    eprintln!(
        "{} of {REQUESTS} requests got 503 during the restart",
        failed.len()
    );

    // Act 2: the pool heals; every unacknowledged request is retried with its key.
    let healed = wait_for_status(&client, &app.url("/v1/articles"), 200).await;
    eprintln!("pool healed {healed:?} after the database came back");
    for i in (0..REQUESTS).filter(|i| statuses[*i] != Some(201)) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = post_lead(&client, &app.address, i).await.status().as_u16();
            if status == 201 {
                break;
            }
            assert!(
                [409, 503].contains(&status) && Instant::now() < deadline,
                "retry of {i} got {status}"
            );
            actix_web::rt::time::sleep(PAUSE).await;
        }
    }

    // Assert: exactly one lead per key, acknowledged or retried.
    let mut conn = app.connection();
    for i in 0..REQUESTS {
        assert_eq!(leads_with_phone(&mut conn, i), 1, "lead {i}");
    }
    let keys: i64 = idempotency_keys::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(keys, REQUESTS as i64);
}

#[actix_web::test]
async fn pooled_connections_killed_while_idle_cost_at_most_one_503_each_and_are_replaced() {
    const POOL: u32 = 3;
    let database = TestDatabase::create();
    let proxy = Proxy::refusing(&database.url).await;
    proxy.open();
    let url = proxy.url_for(&database.url);
    let app = spawn_app_on(database, url, |settings| {
        settings.database.pool_size = POOL;
    })
    .await;
    let client = client(Duration::from_secs(10));
    let articles = app.url("/v1/articles");
    // Every connection of the pool has served a request.
    let warm = futures_util::future::join_all((0..POOL * 2).map(|_| client.get(&articles).send()));
    assert!(
        warm.await
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
    );

    // Act: the database drops every connection while they sit idle in the pool (no checkout
    // test notices), then comes straight back.
    proxy.cut();
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    proxy.open();
    let mut statuses = Vec::new();
    for _ in 0..POOL * 4 {
        statuses.push(
            client
                .get(&articles)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }

    // Assert: only the requests that met a dead connection failed, as retryable 503s, and each
    // dead connection was dropped rather than handed out again.
    assert!(
        statuses.iter().all(|s| [200, 503].contains(s)),
        "{statuses:?}"
    );
    let failed = statuses.iter().filter(|s| **s == 503).count();
    assert!(failed <= POOL as usize, "{failed} failures: {statuses:?}");
    assert!(
        statuses[POOL as usize..].iter().all(|s| *s == 200),
        "{statuses:?}"
    );
}

#[actix_web::test]
async fn a_request_that_cannot_get_a_connection_answers_503_with_retry_after_within_the_connect_timeout()
 {
    let app = spawn_app_with(|settings| {
        settings.database.pool_size = 2;
        settings.database.connect_timeout = Duration::from_secs(1);
        settings.database.statement_timeout = Duration::from_secs(60);
    })
    .await;
    let mut locker = app.connection();
    block_lead_inserts(&mut locker);
    let held: Vec<_> = (0..2)
        .map(|i| {
            let (client, base_url) = (app.client.clone(), app.address.clone());
            actix_web::rt::spawn(async move { post_lead(&client, &base_url, i).await.status() })
        })
        .collect();
    wait_for_lock_waiters(app.connection(), 2).await;

    let started = Instant::now();
    let response = app.get("/v1/articles").await;
    let waited = started.elapsed();

    assert!(has_retry_after(&response));
    assert_eq!(
        problem(response, 503).await["type"],
        "/problems/service-unavailable"
    );
    assert!(waited < Duration::from_secs(8), "waited {waited:?}");
    eprintln!("an exhausted pool answered 503 after {waited:?}");
    release(&mut locker);
    for request in held {
        assert_eq!(request.await.unwrap(), 201);
    }
}

#[actix_web::test]
async fn a_statement_held_past_the_statement_timeout_is_cancelled_and_answers_503_with_retry_after()
{
    let app = spawn_app_with(|settings| {
        settings.database.statement_timeout = Duration::from_secs(1);
    })
    .await;
    let mut locker = app.connection();
    block_lead_inserts(&mut locker);

    let response = post_lead(&app.client, &app.address, 7).await;

    assert!(has_retry_after(&response));
    problem(response, 503).await;
    release(&mut locker);
    assert_eq!(leads_with_phone(&mut app.connection(), 7), 0);
}

#[derive(QueryableByName)]
struct StatementTimeout {
    #[diesel(sql_type = Text)]
    statement_timeout: String,
}

#[actix_web::test]
async fn every_pooled_connection_has_the_statement_timeout() {
    let database = TestDatabase::create();
    let mut settings = beacon::config::Settings::from_lookup(|_| None).unwrap();
    settings.database.pool_size = 3;
    settings.database.statement_timeout = Duration::from_secs(2);
    let pool = beacon::db::pool(&database.url, &settings.database);

    let connections: Vec<_> = (0..3).map(|_| pool.get().unwrap()).collect();

    for mut conn in connections {
        let shown = diesel::sql_query("SHOW statement_timeout")
            .get_result::<StatementTimeout>(&mut conn.pg)
            .unwrap();
        assert_eq!(shown.statement_timeout, "2s");
    }
}

#[actix_web::test]
async fn sigterm_during_a_lead_post_still_commits_and_answers_it() {
    let database = TestDatabase::create();
    let client = client(Duration::from_secs(30));
    let log = log_file("sigterm");
    let mut server = Server::start_with(
        &database.url,
        &log,
        &client,
        &[("BEACON_SHUTDOWN_TIMEOUT_SECS", "20")],
        "/readyz",
    )
    .await;
    let mut locker = database.connection();
    block_lead_inserts(&mut locker);
    let post = {
        let (client, base_url) = (client.clone(), server.base_url.clone());
        actix_web::rt::spawn(async move { post_lead(&client, &base_url, 11).await.status() })
    };
    wait_for_lock_waiters(database.connection(), 1).await;

    server.terminate();
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    release(&mut locker);

    assert_eq!(post.await.unwrap(), 201);
    let exit = server.exited_within(Duration::from_secs(10)).await;
    assert!(exit.is_some_and(|status| status.success()), "{exit:?}");
    assert_eq!(leads_with_phone(&mut database.connection(), 11), 1);
    let _ = std::fs::remove_file(&log);
}

#[actix_web::test]
async fn a_request_stuck_past_the_shutdown_timeout_neither_keeps_the_process_alive_nor_commits() {
    let database = TestDatabase::create();
    let client = client(Duration::from_secs(60));
    let log = log_file("stuck-shutdown");
    let mut server = Server::start_with(
        &database.url,
        &log,
        &client,
        &[
            ("BEACON_SHUTDOWN_TIMEOUT_SECS", "2"),
            ("BEACON_DB_STATEMENT_TIMEOUT_SECS", "120"),
        ],
        "/readyz",
    )
    .await;
    let mut locker = database.connection();
    block_lead_inserts(&mut locker);
    let post = {
        let (client, base_url) = (client.clone(), server.base_url.clone());
        actix_web::rt::spawn(async move {
            client
                .post(format!("{base_url}/v1/leads"))
                .json(&enquiry(12))
                .send()
                .await
                .ok()
                .map(|response| response.status().as_u16())
        })
    };
    wait_for_lock_waiters(database.connection(), 1).await;

    let started = Instant::now();
    server.terminate();
    let exit = server.exited_within(Duration::from_secs(8)).await;
    let took = started.elapsed();

    assert!(exit.is_some(), "still running {took:?} after SIGTERM");
    eprintln!("exited {took:?} after SIGTERM with a request stuck");
    release(&mut locker);
    drop(locker);
    let mut conn = database.connection();
    let deadline = Instant::now() + Duration::from_secs(10);
    while other_sessions(&mut conn, false) > 0 {
        assert!(Instant::now() < deadline, "the stuck session lingers");
        actix_web::rt::time::sleep(PAUSE).await;
    }
    assert_eq!(leads_with_phone(&mut conn, 12), 0);
    assert_eq!(post.await.unwrap(), None, "the stuck request got an answer");
    let _ = std::fs::remove_file(&log);
}

/// Writes `prefix`, then one byte of `dribble` every 200 ms until the server answers or closes;
/// what the server sent and when, or `None` if it was still waiting after `limit`.
async fn dribble(address: &str, prefix: &str, limit: Duration) -> Option<(String, Duration)> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let started = Instant::now();
    stream.write_all(prefix.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.try_read(&mut buffer) {
            Ok(0) => return Some((String::from_utf8_lossy(&received).into(), started.elapsed())),
            Ok(n) => {
                received.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&received).to_string();
                if text.contains("\r\n\r\n") && text.ends_with('}') {
                    return Some((text, started.elapsed()));
                }
                continue;
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return Some((String::from_utf8_lossy(&received).into(), started.elapsed())),
        }
        if stream.write_all(b"a").await.is_err() {
            let _ = stream.read_to_end(&mut received).await;
            return Some((String::from_utf8_lossy(&received).into(), started.elapsed()));
        }
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

async fn start_with(env: &[(&str, &str)], name: &str) -> (Server, TestDatabase) {
    let database = TestDatabase::create();
    let server = Server::start_with(
        &database.url,
        &log_file(name),
        &client(Duration::from_secs(5)),
        env,
        "/readyz",
    )
    .await;
    (server, database)
}

#[actix_web::test]
async fn a_client_dribbling_its_headers_is_cut_off_after_the_header_timeout_and_pins_no_worker() {
    let (server, _database) =
        start_with(&[("BEACON_HEADER_READ_TIMEOUT_SECS", "1")], "slow-headers").await;
    let slow: Vec<_> = (0..20)
        .map(|_| {
            let address = server.address();
            actix_web::rt::spawn(async move {
                dribble(
                    &address,
                    "GET /healthz HTTP/1.1\r\nHost: beacon\r\nX-Slow: ",
                    Duration::from_secs(4),
                )
                .await
            })
        })
        .collect();

    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let served = client(Duration::from_secs(2))
        .get(format!("{}/healthz", server.base_url))
        .send()
        .await
        .unwrap();

    assert_eq!(served.status(), 200);
    for connection in slow {
        let (answer, after) = connection
            .await
            .unwrap()
            .expect("still connected after 4 s");
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
        eprintln!("slow headers cut off after {after:?}");
    }
    std::fs::remove_file(&server.log).ok();
}

#[actix_web::test]
async fn a_client_dribbling_its_body_gets_408_problem_json_and_pins_no_worker() {
    let (server, _database) =
        start_with(&[("BEACON_BODY_READ_TIMEOUT_SECS", "1")], "slow-body").await;
    let address = server.address();
    let slow = actix_web::rt::spawn(async move {
        dribble(
            &address,
            "POST /v1/leads HTTP/1.1\r\nHost: beacon\r\nContent-Type: application/json\r\n\
             Content-Length: 200\r\n\r\n{\"name\": \"",
            Duration::from_secs(4),
        )
        .await
    });

    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let served = client(Duration::from_secs(2))
        .get(format!("{}/healthz", server.base_url))
        .send()
        .await
        .unwrap();

    assert_eq!(served.status(), 200);
    let (answer, after) = slow.await.unwrap().expect("no answer after 4 s");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("/problems/request-timeout"), "{answer}");
    eprintln!("slow body answered 408 after {after:?}");
    std::fs::remove_file(&server.log).ok();
}

#[actix_web::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_limit() {
    let (server, _database) = start_with(&[("BEACON_KEEP_ALIVE_SECS", "1")], "keep-alive").await;
    let mut stream = TcpStream::connect(server.address()).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: beacon\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();

    let mut received = Vec::new();
    let closed =
        actix_web::rt::time::timeout(Duration::from_secs(4), stream.read_to_end(&mut received))
            .await;

    assert!(closed.is_ok(), "the idle connection stayed open");
    assert!(String::from_utf8_lossy(&received).starts_with("HTTP/1.1 200"));
    eprintln!("idle connection closed after {:?}", started.elapsed());
    std::fs::remove_file(&server.log).ok();
}

#[actix_web::test]
async fn starting_without_the_secrets_warns_what_a_database_dump_exposes() {
    let (server, _database) = start_with(&[], "secrets-warning").await;
    let logs = server.logs();
    drop(server);
    let preview = "forge preview tokens";
    let suppression = "test phone numbers against the opt-out list";
    assert_eq!(logs.matches(preview).count(), 1, "{logs}");
    assert_eq!(logs.matches(suppression).count(), 1, "{logs}");

    let secret = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
    let (server, _database) = start_with(
        &[
            ("BEACON_PREVIEW_SECRET", secret),
            ("BEACON_SUPPRESSION_SECRET", secret),
        ],
        "secrets-set",
    )
    .await;
    let logs = server.logs();
    drop(server);
    assert!(
        !logs.contains(preview) && !logs.contains(suppression),
        "{logs}"
    );
    assert!(!logs.contains(secret));
}
