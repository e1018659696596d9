//! Creating, listing, revoking and checking API keys; used by the HTTP routes and the CLI alike.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::db::api_keys::{self as queries, ApiKeyRow, NewApiKey};
use crate::domain::api_key::{self as key, Caller};
use crate::domain::audit::Action;
use crate::domain::scope::Scopes;
use crate::domain::text;
use crate::error::{Error, FieldError};
use crate::services::audit::{self, Actor};

pub const NAME_MAX_CHARS: usize = 100;

/// A key as people see it after creation: everything but the secret.
#[derive(Debug, Clone)]
pub struct KeySummary {
    pub id: Uuid,
    pub name: String,
    /// The visible start of the key.
    pub prefix: String,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// How a key is named: over HTTP by its id, on the command line by its prefix.
#[derive(Debug, Clone, Copy)]
pub enum KeyRef<'a> {
    Id(Uuid),
    Prefix(&'a str),
}

/// A new key together with its secret, which exists only in this value.
pub struct CreatedKey {
    pub summary: KeySummary,
    pub secret: String,
}

/// The validated input of key creation.
pub struct NewKeyRequest {
    name: String,
    scopes: Scopes,
}

impl NewKeyRequest {
    /// Field errors point at `/name` and `/scopes`, the shape of the HTTP body.
    pub fn parse(name: &str, scopes: &[String]) -> Result<Self, Error> {
        let name = text::single_line(name, NAME_MAX_CHARS).map_err(|e| FieldError::new("/name", e));
        let scopes = Scopes::parse(scopes.iter().map(String::as_str))
            .map_err(|e| FieldError::new("/scopes", e));
        match (name, scopes) {
            (Ok(name), Ok(scopes)) => Ok(Self { name, scopes }),
            (name, scopes) => Err(Error::Validation(
                [name.err(), scopes.err()].into_iter().flatten().collect(),
            )),
        }
    }
}

/// Mints a key and records `key.created` in the access audit, in one transaction.
pub fn create(
    conn: &mut PgConnection,
    request: NewKeyRequest,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<CreatedKey, Error> {
    let new_key = key::generate().map_err(Error::internal)?;
    let summary = conn.transaction(|conn| {
        let row = queries::insert(
            conn,
            &NewApiKey {
                id: Uuid::now_v7(),
                name: &request.name,
                prefix: &new_key.prefix,
                secret_hash: &new_key.hash,
                scopes: &request.scopes.to_stored(),
            },
        )?;
        let summary = summary(row, request.scopes);
        record(conn, actor, Action::KeyCreated, &summary, now)?;
        Ok::<_, Error>(summary)
    })?;
    tracing::info!(key_id = %summary.id, prefix = %summary.prefix, "api key created");
    Ok(CreatedKey {
        summary,
        secret: new_key.secret,
    })
}

pub fn list(conn: &mut PgConnection) -> Result<Vec<KeySummary>, Error> {
    queries::list(conn)?.into_iter().map(summarize).collect()
}

/// Revokes a key; the revocation itself (not a repeat of it) is recorded as `key.revoked` in
/// the access audit, in the same transaction.
pub fn revoke(
    conn: &mut PgConnection,
    key: KeyRef<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<KeySummary, Error> {
    conn.transaction(|conn| {
        let id = match key {
            KeyRef::Id(id) => id,
            KeyRef::Prefix(prefix) => {
                queries::find_id_by_prefix(conn, prefix)?.ok_or(Error::NotFound)?
            }
        };
        let revoked = queries::revoke(conn, id)?.ok_or(Error::NotFound)?;
        let summary = summarize(revoked.row)?;
        if revoked.just_now {
            record(conn, actor, Action::KeyRevoked, &summary, now)?;
            tracing::info!(key_id = %summary.id, prefix = %summary.prefix, "api key revoked");
        }
        Ok(summary)
    })
}

fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    action: Action,
    key: &KeySummary,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let subject = audit::Subject::Key {
        id: key.id,
        prefix: &key.prefix,
        name: &key.name,
        scopes: key.scopes.names(),
    };
    audit::record(conn, actor, action, subject, 0, now)
}

/// The caller a presented key belongs to, or `None` when it is unknown or revoked.
pub fn authenticate(conn: &mut PgConnection, presented: &str) -> Result<Option<Caller>, Error> {
    let Some(row) = queries::find_active_by_hash(conn, &key::hash(presented))? else {
        return Ok(None);
    };
    queries::touch(conn, row.id, Utc::now())?;
    let summary = summarize(row)?;
    Ok(Some(Caller {
        key_id: summary.id,
        key_name: summary.name,
        scopes: summary.scopes,
    }))
}

fn summarize(row: ApiKeyRow) -> Result<KeySummary, Error> {
    let scopes = Scopes::parse_stored(&row.scopes)
        .map_err(|e| Error::internal(format!("key {} has bad stored scopes: {e}", row.id)))?;
    Ok(summary(row, scopes))
}

fn summary(row: ApiKeyRow, scopes: Scopes) -> KeySummary {
    KeySummary {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        scopes,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    }
}
