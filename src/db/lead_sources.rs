//! Queries on `lead_sources`. A deleted source stays as a name-only row (`deleted_at` set) so
//! its leads still name it; every query for the admin API skips those.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::lead_sources;
use crate::domain::lead_source::SourceKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lead_sources, check_for_backend(Pg))]
pub struct SourceRow {
    pub id: Uuid,
    pub name: String,
    pub kind: SourceKind,
    pub enabled: bool,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub api_key_id: Option<Uuid>,
    pub interests_question: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = lead_sources)]
pub struct NewSourceRow<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub kind: SourceKind,
    pub enabled: bool,
    pub utm_source: Option<&'a str>,
    pub utm_medium: Option<&'a str>,
    pub utm_campaign: Option<&'a str>,
    pub api_key_id: Option<Uuid>,
    pub interests_question: Option<&'a str>,
    pub credentials: Option<&'a serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, row: &NewSourceRow<'_>) -> QueryResult<SourceRow> {
    diesel::insert_into(lead_sources::table)
        .values(row)
        .returning(SourceRow::as_returning())
        .get_result(conn)
}

/// A source that has not been deleted.
pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<SourceRow>> {
    lead_sources::table
        .find(id)
        .filter(lead_sources::deleted_at.is_null())
        .select(SourceRow::as_select())
        .first(conn)
        .optional()
}

/// Locks a source that has not been deleted, for a change in the caller's transaction.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<SourceRow>> {
    lead_sources::table
        .find(id)
        .filter(lead_sources::deleted_at.is_null())
        .select(SourceRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The live source an API key belongs to.
pub fn find_by_key(conn: &mut PgConnection, key_id: Uuid) -> QueryResult<Option<SourceRow>> {
    lead_sources::table
        .filter(lead_sources::api_key_id.eq(key_id))
        .filter(lead_sources::deleted_at.is_null())
        .select(SourceRow::as_select())
        .first(conn)
        .optional()
}

/// A live source of `kind` with its credentials, enabled or not: the source a platform's
/// webhook posts to.
pub fn find_with_credentials(
    conn: &mut PgConnection,
    id: Uuid,
    kind: SourceKind,
) -> QueryResult<Option<(SourceRow, Option<serde_json::Value>)>> {
    lead_sources::table
        .find(id)
        .filter(lead_sources::deleted_at.is_null())
        .filter(lead_sources::kind.eq(kind))
        .select((SourceRow::as_select(), lead_sources::credentials))
        .first(conn)
        .optional()
}

/// Newest first, after the `(created_at, id)` position when given.
pub fn list(
    conn: &mut PgConnection,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<SourceRow>> {
    let mut query = lead_sources::table
        .filter(lead_sources::deleted_at.is_null())
        .select(SourceRow::as_select())
        .order((lead_sources::created_at.desc(), lead_sources::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            lead_sources::created_at
                .lt(at)
                .or(lead_sources::created_at.eq(at).and(lead_sources::id.lt(id))),
        );
    }
    query.load(conn)
}

/// Name and kind of each source named, deleted ones included: what a lead shows of its source.
pub fn names(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, (String, SourceKind)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String, SourceKind)> = lead_sources::table
        .filter(lead_sources::id.eq_any(ids))
        .select((lead_sources::id, lead_sources::name, lead_sources::kind))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, kind)| (id, (name, kind)))
        .collect())
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = lead_sources)]
pub struct SourceUpdate<'a> {
    pub name: Option<&'a str>,
    pub enabled: Option<bool>,
    /// `Some(None)` clears the default.
    pub utm_source: Option<Option<&'a str>>,
    pub utm_medium: Option<Option<&'a str>>,
    pub utm_campaign: Option<Option<&'a str>>,
    pub interests_question: Option<Option<&'a str>>,
    pub updated_at: DateTime<Utc>,
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &SourceUpdate<'_>,
) -> QueryResult<SourceRow> {
    diesel::update(lead_sources::table.find(id))
        .set(changes)
        .returning(SourceRow::as_returning())
        .get_result(conn)
}

/// Keeps the row as a name-only record: disabled, credentials gone, never listed again.
pub fn mark_deleted(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(lead_sources::table.find(id))
        .set((
            lead_sources::enabled.eq(false),
            lead_sources::credentials.eq(None::<serde_json::Value>),
            lead_sources::deleted_at.eq(now),
            lead_sources::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// The source's credentials (`None`: it has none).
pub fn credentials(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<serde_json::Value>> {
    lead_sources::table
        .find(id)
        .select(lead_sources::credentials)
        .first(conn)
}

/// Replaces the source's credentials.
pub fn set_credentials(
    conn: &mut PgConnection,
    id: Uuid,
    credentials: &serde_json::Value,
) -> QueryResult<()> {
    diesel::update(lead_sources::table.find(id))
        .set(lead_sources::credentials.eq(credentials))
        .execute(conn)
        .map(drop)
}
