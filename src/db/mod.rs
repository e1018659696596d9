//! PostgreSQL access: the pool, the one helper that runs blocking diesel work, and migrations.

pub mod api_keys;
pub mod articles;
pub mod audit;
pub mod backlog;
pub mod email_deliveries;
pub mod enums;
pub mod events;
pub mod idempotency;
pub mod interests;
pub mod lead_admin;
pub mod lead_sources;
pub mod leads;
pub mod meta_fetches;
pub mod notify;
pub mod prepared;
pub mod queue;
pub mod rate_limits;
pub mod schema;
pub mod secrets;
pub mod suppression;
pub mod tags;
pub mod webhook_deliveries;
pub mod webhooks;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, ManageConnection, Pool as R2d2Pool};
use diesel::sql_types::BigInt;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use sha2::{Digest, Sha256};

use crate::config::DatabaseSettings;
use crate::error::Error;
use crate::telemetry::metrics;

pub type Pool = R2d2Pool<Manager>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Any fixed number works; replicas starting together take turns migrating.
const MIGRATION_LOCK_KEY: i64 = 0x6265_6163_6f6e;

/// Builds the pool without connecting, so start-up never hangs on an unreachable database;
/// a request that cannot get a connection within `connect_timeout` gets a 503.
///
/// Connections are not tested on checkout: that `SELECT 1` was a round trip before every
/// request. A connection found dead by the work itself is dropped instead (see [`run`]).
pub fn pool(url: &str, settings: &DatabaseSettings) -> Pool {
    R2d2Pool::builder()
        .max_size(settings.pool_size)
        .min_idle(Some(settings.pool_size.min(2)))
        .connection_timeout(settings.connect_timeout)
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings {
            statement_timeout_ms: settings.statement_timeout.as_millis(),
        }))
        .build_unchecked(Manager(ConnectionManager::new(url)))
}

/// diesel's connection manager, which counts a connection as broken only when a transaction
/// was left open or failed, plus connections [`run`] found lost.
#[derive(Debug)]
pub struct Manager(ConnectionManager<PgConnection>);

/// A pooled connection, and whether it was found lost (r2d2 then drops it on return).
pub struct Conn {
    pub pg: PgConnection,
    lost: bool,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        self.0.connect().map(|pg| Conn { pg, lost: false })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        self.0.is_valid(&mut conn.pg)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.lost || self.0.has_broken(&mut conn.pg)
    }
}

#[derive(Debug)]
struct SessionSettings {
    statement_timeout_ms: u128,
}

impl CustomizeConnection<Conn, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        conn.pg
            .batch_execute(&format!(
                "SET statement_timeout = {}; SET TIME ZONE 'UTC';",
                self.statement_timeout_ms
            ))
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Runs blocking diesel work on actix's blocking pool, with the pool checkout inside, so no
/// actix worker ever waits on the database. The caller's tracing span follows the work; the
/// checkout is measured (waiting now, how long, failures).
pub async fn run<T, F>(pool: &Pool, work: F) -> Result<T, Error>
where
    F: FnOnce(&mut PgConnection) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        let _entered = span.enter();
        let checkout = metrics::checkout();
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(error) => {
                checkout.failed();
                return Err(error.into());
            }
        };
        drop(checkout);
        let done = work(&mut conn.pg);
        // Only a failure can mean the connection died (the server restarted, say); the ping
        // tells that apart from a statement timeout, and a dead one is never handed out again.
        if matches!(done, Err(Error::Unavailable(_))) && conn.pg.batch_execute("SELECT 1").is_err()
        {
            conn.lost = true;
        }
        done
    })
    .await?
}

/// Applies pending migrations under an advisory lock, so concurrent replicas do not race.
pub fn migrate(conn: &mut PgConnection) -> Result<usize, Error> {
    conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.len())
        .map_err(|e| Error::internal(format!("migrations failed: {e}")));
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
    applied
}

/// True when the database answers and every embedded migration has been applied.
pub fn is_ready(conn: &mut PgConnection) -> Result<bool, Error> {
    conn.has_pending_migration(MIGRATIONS)
        .map(|pending| !pending)
        .map_err(|e| Error::Unavailable(format!("cannot read migrations: {e}")))
}

/// The advisory-lock key for `name` within `namespace` (the first 64 bits of a SHA-256). Two
/// names sharing a key is astronomically unlikely and would only make them wait for each other.
pub fn lock_key(namespace: &str, name: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(namespace.as_bytes())
        .chain_update([0])
        .chain_update(name.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Takes a lock held until the current transaction ends, waiting for it if need be (at most
/// the statement timeout).
pub fn lock_for_transaction(conn: &mut PgConnection, key: i64) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(key)
        .execute(conn)
        .map(drop)
}
