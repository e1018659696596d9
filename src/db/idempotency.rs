//! Queries on `idempotency_keys`: the answers of completed requests, replayed on retry. A key
//! is looked up together with its request's body hash: the same key with another body is
//! another request.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Bytea, Jsonb, Nullable, SmallInt, Text, Timestamptz};
use diesel::upsert::excluded;

use super::prepared::KeepPrepared;
use super::schema::idempotency_keys;

#[derive(Debug, Clone)]
pub struct StoredKey {
    pub response_status: i16,
    pub response_body: serde_json::Value,
}

#[derive(Insertable)]
#[diesel(table_name = idempotency_keys, treat_none_as_default_value = false)]
pub struct NewKey<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub request_sha256: &'a [u8],
    pub response_status: i16,
    pub response_body: &'a serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What claiming a key found.
#[derive(QueryableByName)]
pub struct Claim {
    /// `false`: the same request holds the key's lock elsewhere.
    #[diesel(sql_type = Bool)]
    pub locked: bool,
    #[diesel(sql_type = Nullable<SmallInt>)]
    pub response_status: Option<i16>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub response_body: Option<serde_json::Value>,
}

impl Claim {
    /// The live stored answer of the key with this body, if the claim found one.
    pub fn stored(self) -> Option<StoredKey> {
        Some(StoredKey {
            response_status: self.response_status?,
            response_body: self.response_body?,
        })
    }
}

/// Takes the transaction-scoped advisory lock `lock` without waiting and, holding it, reads
/// the live answer stored for the key sent with this body: one round trip (the
/// `beacon_claim_idempotency_key` function, whose read sees whatever the lock's previous
/// holder committed).
pub fn claim(
    conn: &mut PgConnection,
    lock: i64,
    scope: &str,
    key: &str,
    request_sha256: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Claim> {
    diesel::sql_query("SELECT * FROM beacon_claim_idempotency_key($1, $2, $3, $4, $5)")
        .bind::<BigInt, _>(lock)
        .bind::<Text, _>(scope)
        .bind::<Text, _>(key)
        .bind::<Bytea, _>(request_sha256)
        .bind::<Timestamptz, _>(now)
        .keep_prepared()
        .get_result(conn)
}

/// Stores an answer; an expired row with the same key is replaced.
pub fn store(conn: &mut PgConnection, new: &NewKey<'_>) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(new)
        .on_conflict((
            idempotency_keys::scope,
            idempotency_keys::key,
            idempotency_keys::request_sha256,
        ))
        .do_update()
        .set((
            idempotency_keys::response_status.eq(excluded(idempotency_keys::response_status)),
            idempotency_keys::response_body.eq(excluded(idempotency_keys::response_body)),
            idempotency_keys::created_at.eq(excluded(idempotency_keys::created_at)),
            idempotency_keys::expires_at.eq(excluded(idempotency_keys::expires_at)),
        ))
        .returning(idempotency_keys::created_at)
        .keep_prepared()
        .load::<DateTime<Utc>>(conn)
        .map(drop)
}

/// Deletes up to `batch` expired keys, skipping rows another transaction holds, so pruning
/// never waits and never makes anyone wait.
pub fn prune_expired(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    batch: i64,
) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys \
         WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .execute(conn)
}
