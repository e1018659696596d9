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
