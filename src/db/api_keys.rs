//! Queries on `api_keys`. The secret hash is written and matched here, never read back out.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::api_keys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a [u8],
    pub scopes: &'a str,
}

pub fn insert(conn: &mut PgConnection, key: &NewApiKey<'_>) -> QueryResult<ApiKeyRow> {
    diesel::insert_into(api_keys::table)
        .values(key)
        .returning(ApiKeyRow::as_returning())
        .get_result(conn)
}

pub fn list(conn: &mut PgConnection) -> QueryResult<Vec<ApiKeyRow>> {
    api_keys::table
        .order((api_keys::created_at.desc(), api_keys::id.desc()))
        .select(ApiKeyRow::as_select())
        .load(conn)
}

pub fn find_active_by_hash(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<ApiKeyRow>> {
    api_keys::table
        .filter(api_keys::secret_hash.eq(hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Records use at most once a minute per key, so authentication is not a write on every request.
pub fn touch(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    let stale = now - chrono::Duration::minutes(1);
    diesel::update(api_keys::table.find(id))
        .filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(stale)),
        )
        .set(api_keys::last_used_at.eq(now))
        .execute(conn)
        .map(drop)
}

pub fn find_id_by_prefix(conn: &mut PgConnection, prefix: &str) -> QueryResult<Option<Uuid>> {
    api_keys::table
        .filter(api_keys::prefix.eq(prefix))
        .select(api_keys::id)
        .first(conn)
        .optional()
}

/// A revoked key, and whether this call revoked it.
pub struct Revoked {
    pub row: ApiKeyRow,
    pub just_now: bool,
}

/// Revokes a key once; revoking it again keeps the first revocation time.
pub fn revoke(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Revoked>> {
    let revoked = diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(diesel::dsl::now))
    .returning(ApiKeyRow::as_returning())
    .get_result(conn)
    .optional()?;
    match revoked {
        Some(row) => Ok(Some(Revoked {
            row,
            just_now: true,
        })),
        None => Ok(api_keys::table
            .find(id)
            .select(ApiKeyRow::as_select())
            .first(conn)
            .optional()?
            .map(|row| Revoked {
                row,
                just_now: false,
            })),
    }
}
