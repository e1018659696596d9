//! `/v1/keys`: API key management over HTTP (scope `admin`). The CLI does the same through the
//! same service.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::db;
use crate::domain::api_key::Caller;
use crate::error::Error;
use crate::routes::extract::Json;
use crate::routes::state::AppState;
use crate::services::api_keys::{self, KeyRef, KeySummary, NewKeyRequest};
use crate::services::audit::Actor;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(create_key)
        .service(list_keys)
        .service(revoke_key);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Who or what uses the key; recorded as "who" in audit and activity logs. 1–100 characters.
    #[schema(example = "Website CMS")]
    name: String,
    /// One or more of `content:write`, `leads:read`, `leads:write`, `admin`.
    #[schema(example = json!(["content:write"]))]
    scopes: Vec<String>,
}

/// An API key as listed: never its secret.
#[derive(Serialize, ToSchema)]
pub struct Key {
    id: Uuid,
    #[schema(example = "Website CMS")]
    name: String,
    /// The visible start of the key; identifies it in `beacon keys revoke`.
    #[schema(example = "bcn_3f9a1c2b7d4e")]
    prefix: String,
    #[schema(example = json!(["content:write"]))]
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    /// Updated at most once a minute.
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// A new key with its secret: the only time the secret is ever shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    key: Key,
    /// Send it as `Authorization: Bearer <secret>`. Store it now: Beacon keeps only a hash.
    #[schema(example = "bcn_3f9a1c2b7d4e_q3JmYXJ2aGx5cG9ueHZ6c3R1d2J5emFiY2RlZmdoaWo")]
    secret: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyFilter {
    /// Include revoked keys (default `true`).
    #[param(example = false)]
    include_revoked: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    items: Vec<Key>,
    /// Always null: every key fits on one page.
    next_cursor: Option<String>,
}

impl From<KeySummary> for Key {
    fn from(summary: KeySummary) -> Self {
        Key {
            scopes: summary
                .scopes
                .names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            id: summary.id,
            name: summary.name,
            prefix: summary.prefix,
            created_at: summary.created_at,
            last_used_at: summary.last_used_at,
            revoked_at: summary.revoked_at,
        }
    }
}

/// Create an API key
///
/// Mints a random key with the given scopes. The response carries the secret once; Beacon
/// stores only its SHA-256 hash and cannot show it again. The access audit records
/// `key.created` with the new key's id, prefix, name and scopes, and who created it.
#[utoipa::path(
    tag = "keys",
    request_body(content = CreateKey, example = json!({"name": "Website CMS", "scopes": ["content:write"]})),
    responses((status = 201, description = "The new key, with its secret", body = CreatedKey,
        headers(("Location" = String, description = "The key's address")),
        example = json!({
            "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81", "name": "Website CMS",
            "prefix": "bcn_3f9a1c2b7d4e", "scopes": ["content:write"],
            "created_at": "2026-11-29T15:04:05Z", "last_used_at": null, "revoked_at": null,
            "secret": "bcn_3f9a1c2b7d4e_q3JmYXJ2aGx5cG9ueHZ6c3R1d2J5emFiY2RlZmdoaWo"
        }))),
    security(("api_key" = ["admin"])),
)]
#[post("/keys")]
pub async fn create_key(
    caller: Caller,
    state: web::Data<AppState>,
    body: Json<CreateKey>,
) -> Result<HttpResponse, Error> {
    let request = NewKeyRequest::parse(&body.0.name, &body.0.scopes)?;
    let actor = Actor::from(&caller);
    let created = db::run(&state.pool, move |conn| {
        api_keys::create(conn, request, &actor, Utc::now())
    })
    .await?;
    let key = Key::from(created.summary);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/keys/{}", key.id)))
        .json(CreatedKey {
            key,
            secret: created.secret,
        }))
}

/// List API keys
///
/// Every key, newest first, revoked ones included (with `revoked_at` set) unless
/// `include_revoked=false`. Secrets are never listed.
#[utoipa::path(
    tag = "keys",
    params(KeyFilter),
    responses((status = 200, description = "The keys", body = KeyList, example = json!({
        "items": [{
            "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81", "name": "Website CMS",
            "prefix": "bcn_3f9a1c2b7d4e", "scopes": ["content:write"],
            "created_at": "2026-11-29T15:04:05Z", "last_used_at": "2026-11-29T16:00:00Z",
            "revoked_at": null
        }],
        "next_cursor": null
    }))),
    security(("api_key" = ["admin"])),
)]
#[get("/keys")]
pub async fn list_keys(
    _caller: Caller,
    state: web::Data<AppState>,
    filter: web::Query<KeyFilter>,
) -> Result<HttpResponse, Error> {
    let include_revoked = filter.include_revoked.unwrap_or(true);
    let keys = db::run(&state.pool, api_keys::list).await?;
    let keys = keys
        .into_iter()
        .filter(|key| include_revoked || key.revoked_at.is_none());
    Ok(HttpResponse::Ok().json(KeyList {
        items: keys.map(Key::from).collect(),
        next_cursor: None,
    }))
}

/// Revoke an API key
///
/// The key stops working at once. Its record stays, with `revoked_at` set, so audit entries
/// that name it keep their meaning. The access audit records `key.revoked` with the key's id,
/// prefix, name and scopes, and who revoked it. Revoking a revoked key changes nothing and
/// records nothing.
#[utoipa::path(
    tag = "keys",
    params(("id" = Uuid, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The revoked key", body = Key, example = json!({
            "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81", "name": "Old CMS",
            "prefix": "bcn_3f9a1c2b7d4e", "scopes": ["content:write"],
            "created_at": "2026-11-29T15:04:05Z", "last_used_at": "2026-11-29T16:00:00Z",
            "revoked_at": "2026-11-30T09:12:00Z"
        })),
        (status = 404, description = "No key has this id"),
    ),
    security(("api_key" = ["admin"])),
)]
#[delete("/keys/{id}")]
pub async fn revoke_key(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let actor = Actor::from(&caller);
    let key = db::run(&state.pool, move |conn| {
        api_keys::revoke(conn, KeyRef::Id(id), &actor, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Key::from(key)))
}
