//! The access audit: who read personal data, exported or erased it, or lifted an opt-out, and
//! who created or revoked an API key (a key can grant `leads:read`). Entries are written by the
//! same service call (and transaction) as the access or change they record.

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::audit::{self as queries, AuditFilter, EntryRow};
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
            action: action.as_str(),
            lead_id,
            lead_ids,
            filter,
            row_count: i32::try_from(row_count).unwrap_or(i32::MAX),
        },
    )?;
    Ok(())
}

pub struct AuditPage {
    pub items: Vec<EntryRow>,
    pub next: Option<(DateTime<Utc>, Uuid)>,
}

pub fn list(
    conn: &mut PgConnection,
    filter: &AuditFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<AuditPage, Error> {
    let mut items = queries::list(conn, filter, after, limit + 1)?;
    let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more
        .then(|| items.last().map(|entry| (entry.at, entry.id)))
        .flatten();
    Ok(AuditPage { items, next })
}
