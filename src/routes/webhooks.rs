//! `/v1/webhooks` (scope `admin`): the subscriptions that receive events.

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
use crate::services::webhook_delivery::{self as delivery, DeliveryView, TargetError};
use crate::services::webhooks::{
    self as service, NewWebhook, WebhookChanges, WebhookInput, WebhookView,
};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_secret)
        .service(test_webhook)
        .service(list_deliveries)
        .service(retry_delivery);
}

/// A subscription: never its secret.
#[derive(Serialize, ToSchema)]
pub struct Webhook {
    id: Uuid,
    /// Where events are POSTed.
    #[schema(example = "https://crm.example.com/hooks/beacon")]
    url: String,
    /// Event types delivered, or `["*"]` for all.
    #[schema(example = json!(["lead.created", "lead.sla_breached"]))]
    events: Vec<String>,
    /// A disabled subscription receives nothing (events meanwhile are not kept for it).
    #[schema(example = true)]
    enabled: bool,
    /// Whether lead events carry the person's name, phone, email, message, interests and
    /// priority.
    #[schema(example = false)]
    include_personal_data: bool,
    #[schema(example = "Front desk CRM")]
    description: Option<String>,
    /// `standard` (signed JSON event) or `slack` (`{"text": …}` for a chat channel).
    #[schema(example = "standard")]
    format: String,
    #[schema(example = "2026-03-10T15:20:00Z")]
    created_at: DateTime<Utc>,
    #[schema(example = "2026-03-10T15:20:00Z")]
    updated_at: DateTime<Utc>,
}

impl From<WebhookView> for Webhook {
    fn from(view: WebhookView) -> Self {
        Webhook {
            id: view.id,
            url: view.url,
            events: view.events.names().into_iter().map(str::to_owned).collect(),
            enabled: view.enabled,
            include_personal_data: view.include_personal_data,
            description: view.description,
            format: view.format.as_str().to_owned(),
            created_at: view.created_at,
            updated_at: view.updated_at,
        }
    }
}

/// A new subscription with its signing secret: the only time the secret is shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    webhook: Webhook,
    /// Verifies the `webhook-signature` header (Standard Webhooks): the HMAC-SHA256 key is the
    /// base64 after `whsec_`. Store it now: it is never shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    /// Newest first.
    items: Vec<Webhook>,
    /// Pass it as `cursor` for the next page; null on the last page.
    #[schema(example = json!(null))]
    next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An `http://` or `https://` URL.
    #[schema(example = "https://crm.example.com/hooks/beacon")]
    url: String,
    /// Event type names, or `["*"]` for every type (including types added later).
    #[schema(example = json!(["lead.created", "lead.sla_breached"]))]
    events: Vec<String>,
    /// Default `true`.
    #[schema(example = true)]
    enabled: Option<bool>,
    /// Default `false`. Turning it on is recorded in the access audit; not allowed with
    /// `format: slack`.
    #[schema(example = false)]
    include_personal_data: Option<bool>,
    /// Up to 500 characters.
    #[schema(example = "Front desk CRM")]
    description: Option<String>,
    /// `standard` (default) or `slack`.
    #[schema(example = "standard")]
    format: Option<String>,
}

/// Changes to a subscription; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[schema(example = "https://crm.example.com/hooks/beacon-v2")]
    url: Option<String>,
    #[schema(example = json!(["*"]))]
    events: Option<Vec<String>>,
    #[schema(example = false)]
    enabled: Option<bool>,
    /// Turning it on is recorded in the access audit.
    #[schema(example = false)]
    include_personal_data: Option<bool>,
    /// `null` or blank removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Front desk CRM")]
    description: Change<String>,
    #[schema(example = "standard")]
    format: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookParams {
    /// `next_cursor` of the previous page.
    #[param(example = "cDE6MTc2NDQxNzYwMDAwMDAwMDowMTkzYTRmMTdjMWU3YjUyOWEwZTNmMmQ1YzZiN2E4MQ")]
    cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(example = 20, minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

fn example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a50",
        "url": "https://crm.example.com/hooks/beacon",
        "events": ["lead.created", "lead.sla_breached"], "enabled": true,
        "include_personal_data": false, "description": "Front desk CRM", "format": "standard",
        "created_at": "2026-03-10T15:20:00Z", "updated_at": "2026-03-10T15:20:00Z"
    })
}

fn created_example() -> serde_json::Value {
    let mut created = example();
    created["secret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into();
    created
}

/// A URL whose host resolves to a private address is refused now (and again at every
/// delivery) unless `BEACON_WEBHOOK_ALLOW_PRIVATE_TARGETS` allows it. One that does not resolve
/// yet is accepted: its deliveries fail until it does.
async fn refuse_private_target(state: &AppState, url: &str) -> Result<(), Error> {
    if state.settings.events.allow_private_targets {
        return Ok(());
    }
    let url = url.to_owned();
    match web::block(move || delivery::check_target(&url)).await {
        Ok(Err(error @ TargetError::Private)) => Err(Error::invalid("/url", error)),
        Ok(Ok(()) | Err(TargetError::Unresolved)) => Ok(()),
        Err(error) => Err(Error::internal(error)),
    }
}

/// Create a webhook subscription
///
/// Beacon POSTs each matching event to `url`, signed per Standard Webhooks (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`). The answer carries the signing `secret` once.
/// Lead events carry no personal data unless `include_personal_data` is true (recorded in the
/// access audit as `webhook.personal_data_enabled`). A `url` whose host resolves to a
/// private, loopback, link-local, unique-local or metadata address is refused (422).
#[utoipa::path(
    tag = "webhooks",
    request_body(content = CreateWebhook, example = json!({
        "url": "https://crm.example.com/hooks/beacon",
        "events": ["lead.created", "lead.sla_breached"],
        "description": "Front desk CRM"
    })),
    responses(
        (status = 201, description = "The new subscription, with its secret", body = CreatedWebhook,
            headers(("Location" = String, description = "The subscription's address")),
            example = json!(created_example())),
        (status = 422, description = "A field is invalid"),
    ),
    security(("api_key" = ["admin"])),
)]
#[post("/webhooks")]
pub async fn create_webhook(
    caller: Caller,
    state: web::Data<AppState>,
    body: Json<CreateWebhook>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let new = NewWebhook::parse(WebhookInput {
        url: Some(body.url),
        events: Some(body.events),
        enabled: body.enabled,
        include_personal_data: body.include_personal_data,
        description: body.description.map_or(Change::Keep, Change::Set),
        format: body.format,
    })?;
    refuse_private_target(&state, new.url()).await?;
    let actor = Actor::from(&caller);
    let created = db::run(&state.pool, move |conn| {
        service::create(conn, new, &actor, Utc::now())
    })
    .await?;
    let webhook = Webhook::from(created.webhook);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/webhooks/{}", webhook.id)))
        .json(CreatedWebhook {
            webhook,
            secret: created.secret.expose().to_owned(),
        }))
}

/// List webhook subscriptions
///
/// Newest first, keyset-paginated like the other lists (`next_cursor`, `Link` header); a bad
/// `cursor` or `limit` (1–100) is a 400. Secrets are never listed.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookParams),
    responses(
        (status = 200, description = "A page of subscriptions", body = WebhookList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page")),
            example = json!({"items": [example()], "next_cursor": null})),
    ),
    security(("api_key" = ["admin"])),
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<WebhookParams>,
) -> Result<HttpResponse, Error> {
    let params = params.into_inner();
    let limit = caching::page_limit(params.limit, service::LIMIT_DEFAULT, service::LIMIT_MAX)?;
    let after = decode_cursor(params.cursor.as_deref())?;
    let page = db::run(&state.pool, move |conn| service::list(conn, after, limit)).await?;
    let next_cursor = page.next.map(encode_cursor);
    Ok(
        caching::page_response(&req, next_cursor.as_deref()).json(WebhookList {
            items: page.items.into_iter().map(Webhook::from).collect(),
            next_cursor,
        }),
    )
}

/// Get a webhook subscription
///
/// One subscription as listed: never its secret.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The subscription", body = Webhook, example = json!(example())),
        (status = 404, description = "No subscription has this id"),
    ),
    security(("api_key" = ["admin"])),
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let found = db::run(&state.pool, move |conn| service::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(Webhook::from(found)))
}

/// Update a webhook subscription
///
/// Changes take effect for events recorded afterwards. Turning `include_personal_data` on is
/// recorded in the access audit. The secret does not change.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id")),
    request_body(content = UpdateWebhook, example = json!({"enabled": false})),
    responses(
        (status = 200, description = "The updated subscription", body = Webhook,
            example = json!(example())),
        (status = 404, description = "No subscription has this id"),
        (status = 422, description = "A field is invalid"),
    ),
    security(("api_key" = ["admin"])),
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: Json<UpdateWebhook>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let changes = WebhookChanges::parse(WebhookInput {
        url: body.url,
        events: body.events,
        enabled: body.enabled,
        include_personal_data: body.include_personal_data,
        description: body.description,
        format: body.format,
    })?;
    if let Some(url) = changes.url() {
        refuse_private_target(&state, url).await?;
    }
    let id = id.into_inner();
    let actor = Actor::from(&caller);
    let updated = db::run(&state.pool, move |conn| {
        service::update(conn, id, changes, &actor, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Webhook::from(updated)))
}

/// Delete a webhook subscription
///
/// Nothing more is sent to it.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No subscription has this id"),
    ),
    security(("api_key" = ["admin"])),
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| service::delete(conn, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One attempt to deliver.
#[derive(Serialize, ToSchema)]
pub struct Attempt {
    /// 1 for the first attempt.
    #[schema(example = 1)]
    number: i32,
    #[schema(example = "2026-03-10T15:20:01Z")]
    attempted_at: DateTime<Utc>,
    /// The receiver's status; null when no answer came.
    #[schema(example = 503)]
    status_code: Option<i32>,
    #[schema(example = 182)]
    latency_ms: i32,
    /// Why it failed (`HTTP 503`, `timed out`, `could not connect`, …); null on success.
    #[schema(example = "HTTP 503")]
    error: Option<String>,
    /// When the next attempt was due after this one; null when none followed.
    #[schema(example = "2026-03-10T15:20:06Z")]
    next_attempt_at: Option<DateTime<Utc>>,
}

/// One event's delivery to the subscription.
#[derive(Serialize, ToSchema)]
pub struct Delivery {
    id: Uuid,
    /// The event, also sent as `webhook-id`.
    event_id: Uuid,
    #[schema(example = "lead.created")]
    event_type: String,
    /// `pending`, `delivered` or `failed` (dead-lettered after the whole schedule).
    #[schema(example = "pending")]
    state: String,
    /// When the next attempt is due, while `pending`.
    #[schema(example = "2026-03-10T15:20:06Z")]
    next_attempt_at: Option<DateTime<Utc>>,
    #[schema(example = "2026-03-10T15:20:00Z")]
    created_at: DateTime<Utc>,
    /// Oldest first.
    attempts: Vec<Attempt>,
}

impl From<DeliveryView> for Delivery {
    fn from(view: DeliveryView) -> Self {
        Delivery {
            id: view.id,
            event_id: view.event_id,
            event_type: view.event_type.as_str().to_owned(),
            state: view.state.as_str().to_owned(),
            next_attempt_at: view.next_attempt_at,
            created_at: view.created_at,
            attempts: view
                .attempts
                .into_iter()
                .map(|attempt| Attempt {
                    number: attempt.number,
                    attempted_at: attempt.attempted_at,
                    status_code: attempt.status_code,
                    latency_ms: attempt.latency_ms,
                    error: attempt.error,
                    next_attempt_at: attempt.next_attempt_at,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    items: Vec<Delivery>,
    /// Pass it as `cursor` for the next page; null on the last page.
    #[schema(example = json!(null))]
    next_cursor: Option<String>,
}

/// List a subscription's deliveries
///
/// Each event sent (or being sent) to the subscription, newest first, with every attempt: the
/// receiver's status code, latency, error and when the next attempt is due. Keyset-paginated
/// like the other lists; a bad `cursor` or `limit` (1–100) is a 400.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id"), WebhookParams),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page")),
            example = json!({"items": [{
                "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a99",
                "event_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a90",
                "event_type": "lead.created", "state": "pending",
                "next_attempt_at": "2026-03-10T15:20:06Z", "created_at": "2026-03-10T15:20:00Z",
                "attempts": [{"number": 1, "attempted_at": "2026-03-10T15:20:01Z",
                              "status_code": 503, "latency_ms": 182, "error": "HTTP 503",
                              "next_attempt_at": "2026-03-10T15:20:06Z"}]
            }], "next_cursor": null})),
        (status = 404, description = "No subscription has this id"),
    ),
    security(("api_key" = ["admin"])),
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    params: web::Query<WebhookParams>,
) -> Result<HttpResponse, Error> {
    let params = params.into_inner();
    let limit = caching::page_limit(
        params.limit,
        delivery::LIST_LIMIT_DEFAULT,
        delivery::LIST_LIMIT_MAX,
    )?;
    let after = decode_cursor(params.cursor.as_deref())?;
    let id = id.into_inner();
    let page = db::run(&state.pool, move |conn| {
        delivery::list(conn, id, after, limit)
    })
    .await?;
    let next_cursor = page.next.map(encode_cursor);
    Ok(
        caching::page_response(&req, next_cursor.as_deref()).json(DeliveryList {
            items: page.items.into_iter().map(Delivery::from).collect(),
            next_cursor,
        }),
    )
}

/// Retry a delivery
///
/// Sends a `failed` (dead-lettered) or `delivered` delivery once more, now, with the same
/// `webhook-id` and the event as it is now (an erased lead's personal data is gone). It gets
/// one attempt: if that fails too it is `failed` again. A `pending` delivery is a 409.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "The subscription's id"),
        ("delivery_id" = Uuid, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "Due now"),
        (status = 404, description = "The subscription has no such delivery"),
        (status = 409, description = "The delivery is pending already"),
    ),
    security(("api_key" = ["admin"])),
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_delivery(
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let (id, delivery_id) = path.into_inner();
    db::run(&state.pool, move |conn| {
        delivery::retry(conn, id, delivery_id)
    })
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// A subscription's new secret.
#[derive(Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret: store it now, it is never shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    secret: String,
    /// Until then deliveries carry a signature by the old secret too.
    #[schema(example = "2026-03-11T15:20:00Z")]
    previous_secret_expires_at: DateTime<Utc>,
}

/// Rotate a webhook's signing secret
///
/// Answers a new `whsec_` secret, shown only here. For `BEACON_WEBHOOK_SECRET_OVERLAP` (default
/// 24 hours) every delivery is signed with both secrets (two space-separated `v1,` signatures
/// in `webhook-signature`), so a receiver still holding the old one keeps verifying while it
/// switches; afterwards only the new one signs. Rotating again within the overlap drops the
/// oldest secret at once.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The new secret", body = RotatedSecret,
            example = json!({"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                             "previous_secret_expires_at": "2026-03-11T15:20:00Z"})),
        (status = 404, description = "No subscription has this id"),
    ),
    security(("api_key" = ["admin"])),
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_secret(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let overlap = state.settings.events.secret_overlap;
    let rotated = db::run(&state.pool, move |conn| {
        service::rotate_secret(conn, id, overlap, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(RotatedSecret {
            secret: rotated.secret.expose().to_owned(),
            previous_secret_expires_at: rotated.previous_secret_expires_at,
        }))
}

/// The queued test delivery.
#[derive(Serialize, ToSchema)]
pub struct TestDelivery {
    /// Follow it in `GET /v1/webhooks/{id}/deliveries`.
    delivery_id: Uuid,
}

/// Send a test event to a webhook
///
/// Queues a `webhook.test` event (`data`: `webhook_id`, `url`) for this subscription only,
/// through the ordinary deliveries: signed, retried on the schedule and listed with its
/// attempts. The catch-up feed does not list it. A disabled subscription is a 409.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 202, description = "Queued", body = TestDelivery,
            headers(("Location" = String, description = "The subscription's deliveries")),
            example = json!({"delivery_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a99"})),
        (status = 404, description = "No subscription has this id"),
        (status = 409, description = "The subscription is disabled"),
    ),
    security(("api_key" = ["admin"])),
)]
#[post("/webhooks/{id}/test")]
pub async fn test_webhook(
    _caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let delivery_id = db::run(&state.pool, move |conn| {
        service::send_test(conn, id, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/webhooks/{id}/deliveries")))
        .json(TestDelivery { delivery_id }))
}
