//! Queries on `idempotency_keys`: the answers of completed requests, replayed on retry. A key
//! is looked up together with its request's body hash: the same key with another body is
//! another request.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::idempotency_keys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct StoredKey {
    pub response_status: i16,
    pub response_body: serde_json::Value,
}

#[derive(Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct NewKey<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub request_sha256: &'a [u8],
    pub response_status: i16,
    pub response_body: &'a serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The stored answer for a key sent with this body, unless it has expired.
pub fn find_live(
    conn: &mut PgConnection,
    scope: &str,
    key: &str,
    request_sha256: &[u8],
    now: DateTime<Utc>,
) -> QueryResult<Option<StoredKey>> {
    idempotency_keys::table
        .find((scope, key, request_sha256))
        .filter(idempotency_keys::expires_at.gt(now))
        .select(StoredKey::as_select())
        .first(conn)
        .optional()
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
        .execute(conn)
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
