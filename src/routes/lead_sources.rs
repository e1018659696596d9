//! `/v1/lead-sources` (scope `admin`): where leads come from besides the site's own form.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::db;
use crate::domain::api_key::Caller;
use crate::domain::change::Change;
use crate::error::Error;
use crate::routes::caching;
use crate::routes::extract::Json;
use crate::routes::lead_admin::{decode_cursor, encode_cursor};
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::lead_sources::{
    self as service, NewSource, SourceChanges, SourceInput, SourceView,
};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(create_source)
        .service(list_sources)
        .service(get_source)
        .service(update_source)
        .service(delete_source);
}

/// A lead source: never its credentials.
#[derive(Serialize, ToSchema)]
pub struct LeadSource {
    id: Uuid,
    /// 1–100 characters, shown with each of its leads.
    #[schema(example = "Zapier: spring landing page")]
    name: String,
    /// `api` (server-to-server tools with a `leads:create` key), `google_ads` (Google Ads lead
    /// forms posting to `webhook_url`) or `meta` (Facebook/Instagram lead ads).
    #[schema(example = "api")]
    kind: String,
    /// A disabled source's key is refused (403) until it is enabled again.
    #[schema(example = true)]
    enabled: bool,
    /// Given to its leads that carry no `utm_source` of their own.
    #[schema(example = "zapier")]
    utm_source: Option<String>,
    #[schema(example = "automation")]
    utm_medium: Option<String>,
    #[schema(example = "trd-spring")]
    utm_campaign: Option<String>,
    /// Webhook kinds: the ad form's question (its id or its text, any case) whose answers
    /// name its leads' interests, matched to the managed interests by code or label.
    #[schema(example = "Which condition would you like help with?")]
    interests_question: Option<String>,
    /// The id of an `api` source's key (as `GET /v1/keys` lists it).
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a60")]
    key_id: Option<Uuid>,
    /// A webhook kind's address (a path on this API) to paste into the ad platform, with the
    /// API's public origin in front: Google Ads' lead form, or the Meta app's Webhooks settings
    /// for the `leadgen` field.
    #[schema(example = json!(null))]
    webhook_url: Option<String>,
    /// A `meta` source's fetches of announced leads from the Graph API.
    meta_fetches: Option<MetaFetches>,
    #[schema(example = "2026-03-10T15:20:00Z")]
    created_at: DateTime<Utc>,
    #[schema(example = "2026-03-10T15:20:00Z")]
    updated_at: DateTime<Utc>,
}

/// Where a `meta` source's lead fetches stand.
#[derive(Serialize, ToSchema)]
pub struct MetaFetches {
    /// Announced leads not fetched yet (waiting for Graph, or for their next attempt).
    #[schema(example = 0)]
    pending: i64,
    /// Leads that could not be fetched or recorded (a bad or expired page token, say); they
    /// are not retried. The log names each by `meta_fetch_id` and `leadgen_id`.
    #[schema(example = 1)]
    failed: i64,
    /// Why the latest failure failed: a Graph status and error code, never lead data.
    #[schema(example = "HTTP 400, Graph error 190/463")]
    last_error: Option<String>,
}

impl From<SourceView> for LeadSource {
    fn from(view: SourceView) -> Self {
        let webhook_url = view.kind.webhook_path(view.id);
        LeadSource {
            id: view.id,
            name: view.name,
            kind: view.kind.as_str().to_owned(),
            enabled: view.enabled,
            utm_source: view.defaults.utm_source,
            utm_medium: view.defaults.utm_medium,
            utm_campaign: view.defaults.utm_campaign,
            interests_question: view.interests_question,
            key_id: view.key_id,
            webhook_url,
            meta_fetches: view.meta_fetches.map(|counts| MetaFetches {
                pending: counts.pending,
                failed: counts.failed,
                last_error: counts.last_error,
            }),
            created_at: view.created_at,
            updated_at: view.updated_at,
        }
    }
}

/// A new source with its credentials: the only time they are shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedLeadSource {
    #[serde(flatten)]
    source: LeadSource,
    /// An `api` source's `leads:create` key, for `Authorization: Bearer <key>` on
    /// `POST /v1/leads`; a `google_ads` source's key, to paste into the Google Ads lead form's
    /// webhook settings (Google sends it as `google_key`). Store it now: it is never shown
    /// again.
    #[schema(example = "bcn_3f2d5c6b7a81_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg")]
    key: Option<String>,
    /// A `meta` source's verify token: paste it into the Meta app's Webhooks settings beside
    /// `webhook_url`. Store it now: it is never shown again.
    #[schema(example = "bmv_kq3Zr8T1mVbXw0yHc2N5pL7dF4gJ6sA9")]
    verify_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LeadSourceList {
    /// Newest first.
    items: Vec<LeadSource>,
    /// Pass it as `cursor` for the next page; null on the last page.
    #[schema(example = json!(null))]
    next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLeadSource {
    /// 1–100 characters.
    #[schema(example = "Zapier: spring landing page")]
    name: String,
    /// `api`, `google_ads` or `meta`.
    #[schema(example = "api")]
    kind: String,
    /// Default `true`.
    #[schema(example = true)]
    enabled: Option<bool>,
    /// Up to 200 characters each; a value the lead itself carries wins.
    #[schema(example = "zapier")]
    utm_source: Option<String>,
    #[schema(example = "automation")]
    utm_medium: Option<String>,
    #[schema(example = "trd-spring")]
    utm_campaign: Option<String>,
    /// Required for `meta`, refused for other kinds: the Meta app's secret (App settings →
    /// Basic), which signs Meta's notifications. Never shown again.
    #[schema(example = "5f1a8e3c2b7d4a6f9e0c1b2a3d4e5f60")]
    app_secret: Option<String>,
    /// Required for `meta`, refused for other kinds: a page access token with the
    /// `leads_retrieval` permission, sent to the Graph API to fetch each lead. Never shown
    /// again.
    #[schema(example = "EAAGm0PX4ZCpsBA...")]
    page_access_token: Option<String>,
    /// Webhook kinds: the ad form's question (its id or its text, case-insensitively) whose
    /// answers name interests; up to 200 characters.
    #[schema(example = "Which condition would you like help with?")]
    interests_question: Option<String>,
}

/// Changes to a source; absent fields stay as they are. The kind cannot change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLeadSource {
    #[schema(example = "Zapier: summer landing page")]
    name: Option<String>,
    #[schema(example = false)]
    enabled: Option<bool>,
    /// `null` or blank removes the default.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "zapier")]
    utm_source: Change<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "automation")]
    utm_medium: Change<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "trd-summer")]
    utm_campaign: Change<String>,
    /// `meta` sources only: a new app secret in place of the old one.
    #[schema(example = "0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b")]
    app_secret: Option<String>,
    /// `meta` sources only: a new page access token in place of the old one.
    #[schema(example = "EAAGm0PX4ZCpsBA...")]
    page_access_token: Option<String>,
    /// `null` or blank removes the question.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Which condition would you like help with?")]
    interests_question: Change<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadSourceParams {
    /// `next_cursor` of the previous page.
    #[param(example = "cDE6MTc2NDQxNzYwMDAwMDAwMDowMTkzYTRmMTdjMWU3YjUyOWEwZTNmMmQ1YzZiN2E4MQ")]
    cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(example = 20, minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

fn example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70",
        "name": "Zapier: spring landing page", "kind": "api", "enabled": true,
        "utm_source": "zapier", "utm_medium": "automation", "utm_campaign": "trd-spring",
        "key_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a60", "interests_question": null, "webhook_url": null, "meta_fetches": null,
        "created_at": "2026-03-10T15:20:00Z", "updated_at": "2026-03-10T15:20:00Z"
    })
}

/// Create a lead source
///
/// An `api` source gets a key with the `leads:create` scope, shown once in this answer
/// (`key`): a tool posting `POST /v1/leads` with it has its leads attributed to the source,
/// with the source's default `utm_*` values wherever the lead carries none of its own. Such a
/// key may only post leads; the per-address rate limit does not apply to it, the per-number
/// one does. A `google_ads` source gets a key too, and a `webhook_url`: paste both into the
/// Google Ads lead form (see `POST /v1/lead-sources/{id}/google-ads`).
///
/// A `meta` source takes the Meta app's `app_secret` and a `page_access_token` (both
/// required, never shown again) and answers with a `verify_token` (shown once) and its
/// `webhook_url`, the callback path to paste into the app's Webhooks settings (see
/// `docs/LEAD_SOURCES.md`).
#[utoipa::path(
    tag = "lead sources",
    request_body(content = CreateLeadSource, example = json!({
        "name": "Zapier: spring landing page", "kind": "api",
        "utm_source": "zapier", "utm_medium": "automation", "utm_campaign": "trd-spring"
    })),
    responses(
        (status = 201, description = "The new source, with its key", body = CreatedLeadSource,
            headers(("Location" = String, description = "The source's address")),
            example = json!({
                "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70",
                "name": "Zapier: spring landing page", "kind": "api", "enabled": true,
                "utm_source": "zapier", "utm_medium": "automation", "utm_campaign": "trd-spring",
                "key_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a60", "interests_question": null, "webhook_url": null, "meta_fetches": null,
                "created_at": "2026-03-10T15:20:00Z", "updated_at": "2026-03-10T15:20:00Z",
                "verify_token": null,
                "key": "bcn_3f2d5c6b7a81_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
            })),
        (status = 422, description = "A field is invalid, or the kind is not supported yet"),
    ),
    security(("api_key" = ["admin"])),
)]
#[post("/lead-sources")]
pub async fn create_source(
    caller: Caller,
    state: web::Data<AppState>,
    body: Json<CreateLeadSource>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let new = NewSource::parse(SourceInput {
        name: Some(body.name),
        kind: Some(body.kind),
        enabled: body.enabled,
        utm_source: body.utm_source.map_or(Change::Keep, Change::Set),
        utm_medium: body.utm_medium.map_or(Change::Keep, Change::Set),
        utm_campaign: body.utm_campaign.map_or(Change::Keep, Change::Set),
        app_secret: body.app_secret,
        page_access_token: body.page_access_token,
        interests_question: body.interests_question.map_or(Change::Keep, Change::Set),
    })?;
    let actor = Actor::from(&caller);
    let created = db::run(&state.pool, move |conn| {
        service::create(conn, new, &actor, Utc::now())
    })
    .await?;
    let source = LeadSource::from(created.source);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/lead-sources/{}", source.id)))
        .json(CreatedLeadSource {
            source,
            key: created.key,
            verify_token: created.verify_token,
        }))
}

/// List lead sources
///
/// Newest first, keyset-paginated like the other lists (`next_cursor`, `Link` header); a bad
/// `cursor` or `limit` (1–100) is a 400. Deleted sources and credentials are never listed.
#[utoipa::path(
    tag = "lead sources",
    params(LeadSourceParams),
    responses(
        (status = 200, description = "A page of sources", body = LeadSourceList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page")),
            example = json!({"items": [example()], "next_cursor": null})),
    ),
    security(("api_key" = ["admin"])),
)]
#[get("/lead-sources")]
pub async fn list_sources(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<LeadSourceParams>,
) -> Result<HttpResponse, Error> {
    let params = params.into_inner();
    let limit = caching::page_limit(params.limit, service::LIMIT_DEFAULT, service::LIMIT_MAX)?;
    let after = decode_cursor(params.cursor.as_deref())?;
    let page = db::run(&state.pool, move |conn| service::list(conn, after, limit)).await?;
    let next_cursor = page.next.map(encode_cursor);
    Ok(
        caching::page_response(&req, next_cursor.as_deref()).json(LeadSourceList {
            items: page.items.into_iter().map(LeadSource::from).collect(),
            next_cursor,
        }),
    )
}

/// Get a lead source
///
/// One source as listed: never its credentials. A deleted source is a 404.
#[utoipa::path(
    tag = "lead sources",
    params(("id" = Uuid, Path, description = "The source's id")),
    responses(
        (status = 200, description = "The source", body = LeadSource, example = json!(example())),
        (status = 404, description = "No source has this id"),
    ),
    security(("api_key" = ["admin"])),
)]
#[get("/lead-sources/{id}")]
pub async fn get_source(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let found = db::run(&state.pool, move |conn| service::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(LeadSource::from(found)))
}

/// Update a lead source
///
/// Renames it, enables or disables it (a disabled source's key gets 403 until it is enabled
/// again), or changes its default attribution for leads received afterwards. A `meta`
/// source's `app_secret` or `page_access_token` may be replaced (422 for other kinds); its
/// verify token stays. The kind and the key do not change. Recorded in the access audit as `lead_source.updated` with
/// the names of the fields sent.
#[utoipa::path(
    tag = "lead sources",
    params(("id" = Uuid, Path, description = "The source's id")),
    request_body(content = UpdateLeadSource, example = json!({"enabled": false})),
    responses(
        (status = 200, description = "The updated source", body = LeadSource,
            example = json!(example())),
        (status = 404, description = "No source has this id"),
        (status = 422, description = "A field is invalid"),
    ),
    security(("api_key" = ["admin"])),
)]
#[patch("/lead-sources/{id}")]
pub async fn update_source(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: Json<UpdateLeadSource>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let changes = SourceChanges::parse(SourceInput {
        name: body.name,
        kind: None,
        enabled: body.enabled,
        utm_source: body.utm_source,
        utm_medium: body.utm_medium,
        utm_campaign: body.utm_campaign,
        app_secret: body.app_secret,
        page_access_token: body.page_access_token,
        interests_question: body.interests_question,
    })?;
    let id = id.into_inner();
    let actor = Actor::from(&caller);
    let updated = db::run(&state.pool, move |conn| {
        service::update(conn, id, changes, &actor, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(LeadSource::from(updated)))
}

/// Delete a lead source
///
/// Its key is revoked at once (401 from then on; audited as `key.revoked`). Its leads are
/// kept and still name it: the source stays as a name-only record, no longer listed. Recorded
/// in the access audit as `lead_source.deleted`.
#[utoipa::path(
    tag = "lead sources",
    params(("id" = Uuid, Path, description = "The source's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No source has this id"),
    ),
    security(("api_key" = ["admin"])),
)]
#[delete("/lead-sources/{id}")]
pub async fn delete_source(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let actor = Actor::from(&caller);
    db::run(&state.pool, move |conn| {
        service::delete(conn, id, &actor, Utc::now())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
