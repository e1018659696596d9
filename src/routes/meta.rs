//! `/v1/lead-sources/{id}/meta`: the callback URL of a `meta` source, pasted into the Meta
//! app's Webhooks settings. No API key: Meta proves itself with the source's verify token
//! (the subscription check) and the app secret's signature (each notification).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::db;
use crate::error::Error;
use crate::routes::extract::JsonBytes;
use crate::routes::state::AppState;
use crate::services::meta_leads as service;

pub fn configure(config: &mut ServiceConfig) {
    config.service(verify_subscription).service(receive_leads);
}

const SIGNATURE: &str = "x-hub-signature-256";

#[derive(Deserialize)]
pub struct ChallengeParams {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Verify Meta's subscription
///
/// Meta calls this once when the callback URL is saved in the app's Webhooks settings. With
/// `hub.mode=subscribe` and the source's `verify_token` (shown once when it was created), the
/// answer is `hub.challenge` as plain text; anything else is a 403.
#[utoipa::path(
    tag = "lead sources",
    params(
        ("id" = Uuid, Path, description = "The `meta` source's id"),
        ("hub.mode" = Option<String>, Query, description = "`subscribe`", example = "subscribe"),
        ("hub.verify_token" = Option<String>, Query,
            description = "The source's verify token", example = "bmv_3q2-7wEAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("hub.challenge" = Option<String>, Query,
            description = "What to echo", example = "1158201444"),
    ),
    responses(
        (status = 200, description = "The challenge, echoed", body = String,
            content_type = "text/plain", example = "1158201444"),
        (status = 403, description = "Not a subscription, or not the source's verify token"),
        (status = 404, description = "No `meta` source has this id"),
    ),
)]
#[get("/lead-sources/{id}/meta")]
pub async fn verify_subscription(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    params: web::Query<ChallengeParams>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let params = params.into_inner();
    let challenge = db::run(&state.pool, move |conn| {
        service::challenge(
            conn,
            id,
            params.mode.as_deref(),
            params.verify_token.as_deref(),
            params.challenge.as_deref(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(challenge))
}

/// A notification as Meta posts it; Beacon reads only the `leadgen` changes.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body; the handler reads it as raw bytes to check its signature
pub struct MetaNotification {
    /// `page`.
    #[schema(example = "page")]
    object: String,
    entry: Vec<MetaEntry>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MetaEntry {
    /// The page's id.
    #[schema(example = "444444444444")]
    id: String,
    /// Unix seconds.
    #[schema(example = 1502300000)]
    time: i64,
    changes: Vec<MetaChange>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct MetaChange {
    /// `leadgen` for a new lead; other fields are ignored.
    #[schema(example = "leadgen")]
    field: String,
    value: LeadgenValue,
}

/// The ids of a new lead; its answers are fetched from the Graph API.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LeadgenValue {
    #[schema(example = "444444444444")]
    leadgen_id: String,
    #[schema(example = "444444444444")]
    page_id: Option<String>,
    #[schema(example = "444444444444")]
    form_id: Option<String>,
    #[schema(example = "444444444")]
    ad_id: Option<String>,
    #[schema(example = "44444444444")]
    adgroup_id: Option<String>,
    /// Unix seconds.
    #[schema(example = 1502300000)]
    created_time: Option<i64>,
}

/// What was done with a notification.
#[derive(Serialize, ToSchema)]
pub struct MetaAcknowledgement {
    /// Leads whose fetch from the Graph API was queued now.
    #[schema(example = 1)]
    queued: usize,
    /// Leads queued already (Meta delivered the notification again): nothing new is queued.
    #[schema(example = 0)]
    already_queued: usize,
    /// When the notification was acknowledged.
    #[schema(example = "2026-03-10T15:20:00Z")]
    received_at: DateTime<Utc>,
}

/// Receive Meta's lead notifications
///
/// Meta posts here when someone sends the page's lead form. The body must be signed:
/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`; a
/// missing or wrong signature is a 401 and queues nothing. Each `leadgen` change queues one
/// fetch of its `leadgen_id` from the Graph API (with the page token), committed before this
/// answers 200; the fetch is retried on the delivery queue's schedule while Graph is down, so
/// a Graph outage loses no lead. A lead already queued is not queued again. A disabled source
/// answers 403 (after the signature check).
#[utoipa::path(
    tag = "lead sources",
    params(
        ("id" = Uuid, Path, description = "The `meta` source's id"),
        ("X-Hub-Signature-256" = String, Header,
            description = "`sha256=` and the hex HMAC-SHA256 of the raw body with the app secret",
            example = "sha256=3d1f0b5ab0b8f2c1e54f7c6a1c2e9d0a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e"),
    ),
    request_body(content = MetaNotification, content_type = "application/json", example = json!({
        "object": "page",
        "entry": [{"id": "444444444444", "time": 1502300000, "changes": [{
            "field": "leadgen",
            "value": {"ad_id": "444444444", "form_id": "444444444444",
                      "leadgen_id": "444444444444", "created_time": 1502300000,
                      "page_id": "444444444444", "adgroup_id": "44444444444"}
        }]}]
    })),
    responses(
        (status = 200, description = "Acknowledged: every announced lead's fetch is queued",
            body = MetaAcknowledgement,
            example = json!({"queued": 1, "already_queued": 0,
                             "received_at": "2026-03-10T15:20:00Z"})),
        (status = 400, description = "The signed body is not a Meta notification"),
        (status = 401, description = "The signature is missing or wrong"),
        (status = 403, description = "The source is disabled"),
        (status = 404, description = "No `meta` source has this id"),
        (status = 415, description = "The body is not sent as JSON"),
    ),
)]
#[post("/lead-sources/{id}/meta")]
pub async fn receive_leads(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: JsonBytes,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let signature = req
        .headers()
        .get(SIGNATURE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = body.0;
    let acknowledged = db::run(&state.pool, move |conn| {
        service::receive(conn, id, signature.as_deref(), &body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MetaAcknowledgement {
        queued: acknowledged.queued,
        already_queued: acknowledged.known,
        received_at: Utc::now(),
    }))
}
