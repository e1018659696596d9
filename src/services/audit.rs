//! The access audit: who read personal data, exported or erased it, or lifted an opt-out, and
//! who created or revoked an API key (a key can grant `leads:read`). Entries are written by the
//! same service call (and transaction) as the access or change they record.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use crate::db::audit::{self as queries, EntryRow};
use crate::domain::api_key::Caller;
use crate::domain::audit::Action;
use crate::error::Error;

pub const LIMIT_DEFAULT: i64 = 20;
pub const LIMIT_MAX: i64 = 100;

/// Who acts: an API key, or Beacon itself (the retention task, the CLI).
#[derive(Debug, Clone)]
pub struct Actor {
    pub key_id: Option<Uuid>,
    pub name: String,
}

impl Actor {
    pub fn system(name: &str) -> Actor {
        Actor {
            key_id: None,
            name: name.to_owned(),
        }
    }
}

impl From<&Caller> for Actor {
    fn from(caller: &Caller) -> Self {
        Actor {
            key_id: Some(caller.key_id),
            name: caller.key_name.clone(),
        }
    }
}

/// What was accessed.
pub enum Subject<'a> {
    Lead(Uuid),
    /// A list page: the filter (search terms redacted) and the leads it showed.
    Leads {
        filter: serde_json::Value,
        ids: &'a [Uuid],
    },
    /// An export or purge: the filter only.
    Filter(serde_json::Value),
    /// An API key created or revoked: its id, prefix, name and scopes, never its secret.
    Key {
        id: Uuid,
        prefix: &'a str,
        name: &'a str,
        scopes: Vec<&'a str>,
    },
}

pub fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    action: Action,
    subject: Subject<'_>,
    row_count: usize,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (lead_id, lead_ids, filter) = match subject {
        Subject::Lead(id) => (Some(id), None, None),
        Subject::Leads { filter, ids } => (None, Some(ids), Some(filter)),
        Subject::Filter(filter) => (None, None, Some(filter)),
        Subject::Key {
            id,
            prefix,
            name,
            scopes,
        } => (
            None,
            None,
            Some(serde_json::json!({"id": id, "prefix": prefix, "name": name, "scopes": scopes})),
        ),
    };
    queries::insert(
        conn,
        &queries::NewEntry {
            id: Uuid::now_v7(),
            at: now,
            key_id: actor.key_id,
            key_name: &actor.name,
            action,
            lead_id,
            lead_ids,
            filter,
            row_count: i32::try_from(row_count).unwrap_or(i32::MAX),
        },
    )?;
    Ok(())
}

/// Filters of the audit list; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<Action>,
    /// Entries about this lead: read, erased, or shown in a list.
    pub lead_id: Option<Uuid>,
    pub key_id: Option<Uuid>,
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// One audit entry.
#[derive(Debug, Clone)]
pub struct EntryView {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub key_id: Option<Uuid>,
    pub key_name: String,
    pub action: Action,
    pub lead_id: Option<Uuid>,
    /// The leads a list page showed.
    pub lead_ids: Option<Vec<Uuid>>,
    /// The filters of a list or export.
    pub filter: Option<serde_json::Value>,
    /// For key actions: the key's id, prefix, name and scopes.
    pub api_key: Option<serde_json::Value>,
    pub row_count: i32,
}

impl From<EntryRow> for EntryView {
    fn from(row: EntryRow) -> Self {
        // Key actions keep the key they concern in the `filter` column.
        let (filter, api_key) = if row.action.is_about_a_key() {
            (None, row.filter)
        } else {
            (row.filter, None)
        };
        EntryView {
            id: row.id,
            at: row.at,
            key_id: row.key_id,
            key_name: row.key_name,
            action: row.action,
            lead_id: row.lead_id,
            lead_ids: row.lead_ids.map(|ids| ids.into_iter().flatten().collect()),
            filter,
            api_key,
            row_count: row.row_count,
        }
    }
}

pub struct AuditPage {
    pub items: Vec<EntryView>,
    pub next: Option<(DateTime<Utc>, Uuid)>,
}

pub fn list(
    conn: &mut PgConnection,
    filter: &AuditFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<AuditPage, Error> {
    let filter = queries::AuditFilter {
        action: filter.action,
        lead_id: filter.lead_id,
        key_id: filter.key_id,
        after: filter.after,
        before: filter.before,
    };
    let mut items = queries::list(conn, &filter, after, limit + 1)?;
    let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more
        .then(|| items.last().map(|entry| (entry.at, entry.id)))
        .flatten();
    Ok(AuditPage {
        items: items.into_iter().map(EntryView::from).collect(),
        next,
    })
}
