//! Queries on `webhooks`, the subscriptions.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::webhooks;
use crate::domain::webhook::Format;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks, check_for_backend(Pg))]
pub struct WebhookRow {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<Option<String>>,
    pub enabled: bool,
    pub include_personal_data: bool,
    pub description: Option<String>,
    pub format: Format,
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhookRow<'a> {
    pub id: Uuid,
    pub url: &'a str,
    pub events: &'a [&'a str],
    pub enabled: bool,
    pub include_personal_data: bool,
    pub description: Option<&'a str>,
    pub format: Format,
    pub secret: &'a str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn insert(conn: &mut PgConnection, row: &NewWebhookRow<'_>) -> QueryResult<WebhookRow> {
    diesel::insert_into(webhooks::table)
        .values(row)
        .returning(WebhookRow::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()
}

/// Locks the row for an update in the caller's transaction.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Newest first, after the `(created_at, id)` position when given.
pub fn list(
    conn: &mut PgConnection,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<WebhookRow>> {
    let mut query = webhooks::table
        .select(WebhookRow::as_select())
        .order((webhooks::created_at.desc(), webhooks::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            webhooks::created_at
                .lt(at)
                .or(webhooks::created_at.eq(at).and(webhooks::id.lt(id))),
        );
    }
    query.load(conn)
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookUpdate<'a> {
    pub url: Option<&'a str>,
    pub events: Option<&'a [&'a str]>,
    pub enabled: Option<bool>,
    pub include_personal_data: Option<bool>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<&'a str>>,
    pub format: Option<Format>,
    /// `Some(None)` ends a run of failures (re-enabling starts afresh).
    pub failing_since: Option<Option<DateTime<Utc>>>,
    pub updated_at: DateTime<Utc>,
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &WebhookUpdate<'_>,
) -> QueryResult<WebhookRow> {
    diesel::update(webhooks::table.find(id))
        .set(changes)
        .returning(WebhookRow::as_returning())
        .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(webhooks::table.find(id)).execute(conn)
}

/// A new secret signs from now on; the old one signs beside it until `previous_expires_at`.
/// A rotation during an overlap ends the older overlap. `None` when there is no such row.
pub fn rotate_secret(
    conn: &mut PgConnection,
    id: Uuid,
    secret: &str,
    previous_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Option<WebhookRow>> {
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::previous_secret.eq(webhooks::secret.nullable()),
            webhooks::previous_secret_expires_at.eq(Some(previous_expires_at)),
            webhooks::secret.eq(secret),
            webhooks::updated_at.eq(now),
        ))
        .returning(WebhookRow::as_returning())
        .get_result(conn)
        .optional()
}

/// A delivered attempt ends the subscription's run of failures.
pub fn note_success(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::update(
        webhooks::table
            .find(id)
            .filter(webhooks::failing_since.is_not_null()),
    )
    .set(webhooks::failing_since.eq(None::<DateTime<Utc>>))
    .execute(conn)
}

/// A failed attempt starts a run of failures at `at`, unless one is running.
pub fn note_failure(conn: &mut PgConnection, id: Uuid, at: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(
        webhooks::table
            .find(id)
            .filter(webhooks::failing_since.is_null()),
    )
    .set(webhooks::failing_since.eq(Some(at)))
    .execute(conn)
}

/// Turns the subscription off and ends its run of failures.
pub fn disable(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::enabled.eq(false),
            webhooks::failing_since.eq(None::<DateTime<Utc>>),
            webhooks::updated_at.eq(now),
        ))
        .execute(conn)
}
