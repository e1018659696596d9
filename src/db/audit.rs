//! `access_audit`: who read personal data, exported or erased it. Rows are only ever added.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::access_audit;
use crate::domain::audit::Action;

#[derive(Insertable)]
#[diesel(table_name = access_audit)]
pub struct NewEntry<'a> {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub key_id: Option<Uuid>,
    pub key_name: &'a str,
    pub action: Action,
    pub lead_id: Option<Uuid>,
    pub lead_ids: Option<&'a [Uuid]>,
    pub filter: Option<serde_json::Value>,
    pub row_count: i32,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = access_audit, check_for_backend(Pg))]
pub struct EntryRow {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub key_id: Option<Uuid>,
    pub key_name: String,
    pub action: Action,
    pub lead_id: Option<Uuid>,
    pub lead_ids: Option<Vec<Option<Uuid>>>,
    pub filter: Option<serde_json::Value>,
    pub row_count: i32,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<Action>,
    /// Entries about this lead: read, erased, or shown in a list.
    pub lead_id: Option<Uuid>,
    pub key_id: Option<Uuid>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

pub fn insert(conn: &mut PgConnection, entry: &NewEntry<'_>) -> QueryResult<()> {
    diesel::insert_into(access_audit::table)
        .values(entry)
        .execute(conn)
        .map(drop)
}

/// Newest first: up to `limit` entries after the `(at, id)` position.
pub fn list(
    conn: &mut PgConnection,
    filter: &AuditFilter,
    position: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<EntryRow>> {
    let mut query = access_audit::table.into_boxed();
    if let Some(action) = filter.action {
        query = query.filter(access_audit::action.eq(action));
    }
    if let Some(lead_id) = filter.lead_id {
        query = query.filter(
            access_audit::lead_id.eq(lead_id).or(sql::<Bool>("")
                .bind::<SqlUuid, _>(lead_id)
                .sql(" = ANY(access_audit.lead_ids)")),
        );
    }
    if let Some(key_id) = filter.key_id {
        query = query.filter(access_audit::key_id.eq(key_id));
    }
    if let Some(after) = filter.after {
        query = query.filter(access_audit::at.ge(after));
    }
    if let Some(before) = filter.before {
        query = query.filter(access_audit::at.lt(before));
    }
    if let Some((at, id)) = position {
        query = query.filter(
            sql::<Bool>("(access_audit.at, access_audit.id) < (")
                .bind::<Timestamptz, _>(at)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        );
    }
    query
        .order((access_audit::at.desc(), access_audit::id.desc()))
        .limit(limit)
        .select(EntryRow::as_select())
        .load(conn)
}
