//! Creating, listing, revoking and checking API keys; used by the HTTP routes and the CLI alike.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};

use crate::auth::{Caller, Scopes, key};
use crate::db::api_keys::{self as queries, ApiKeyRow, KeyRef, NewApiKey};
use crate::domain::audit::Action;
use crate::domain::text;
use crate::error::{Error, FieldError};
use crate::services::audit::{self, Actor};

pub const NAME_MAX_CHARS: usize = 100;

/// A key as people see it after creation: everything but the secret.
#[derive(Debug, Clone)]
pub struct KeySummary {
    pub row: ApiKeyRow,
    pub scopes: Scopes,
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
    let row = conn.transaction(|conn| {
        let row = queries::insert(
            conn,
            &NewApiKey {
                id: uuid::Uuid::now_v7(),
                name: &request.name,
                prefix: &new_key.prefix,
                secret_hash: &new_key.hash,
                scopes: &request.scopes.to_stored(),
            },
        )?;
        record(conn, actor, Action::KeyCreated, &row, &request.scopes, now)?;
        Ok::<_, Error>(row)
    })?;
    tracing::info!(key_id = %row.id, prefix = %row.prefix, "api key created");
    Ok(CreatedKey {
        summary: KeySummary {
            row,
            scopes: request.scopes,
        },
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
        let revoked = queries::revoke(conn, key)?.ok_or(Error::NotFound)?;
        let summary = summarize(revoked.row)?;
        if revoked.just_now {
            record(
                conn,
                actor,
                Action::KeyRevoked,
                &summary.row,
                &summary.scopes,
                now,
            )?;
            tracing::info!(key_id = %summary.row.id, prefix = %summary.row.prefix, "api key revoked");
        }
        Ok(summary)
    })
}

fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    action: Action,
    row: &ApiKeyRow,
    scopes: &Scopes,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let subject = audit::Subject::Key {
        id: row.id,
        prefix: &row.prefix,
        name: &row.name,
        scopes: scopes.names(),
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
        key_id: summary.row.id,
        key_name: summary.row.name,
        scopes: summary.scopes,
    }))
}

fn summarize(row: ApiKeyRow) -> Result<KeySummary, Error> {
    let scopes = Scopes::parse_stored(&row.scopes)
        .map_err(|e| Error::internal(format!("key {} has bad stored scopes: {e}", row.id)))?;
    Ok(KeySummary { row, scopes })
}
