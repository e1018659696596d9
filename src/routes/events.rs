//! `GET /v1/events` (scope `admin`): the catch-up feed of the outbox, for consumers that
//! reconcile, or work without webhooks at all.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::db;
use crate::domain::api_key::Caller;
use crate::error::Error;
use crate::routes::caching;
use crate::routes::state::AppState;
use crate::services::events::{self as service, FeedEvent};

pub fn configure(config: &mut ServiceConfig) {
    config.service(list_events);
}

/// One event.
#[derive(Serialize, ToSchema)]
pub struct Event {
    /// UUID v7. Not the feed's order: see `GET /v1/events`.
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a90")]
    id: Uuid,
    /// `lead.created`, `lead.updated`, `lead.erased`, `lead.opted_out`, `lead.sla_breached`,
    /// `article.published`, `article.updated`, `article.unpublished`, `article.deleted` or
    /// `webhook.disabled`.
    #[serde(rename = "type")]
    #[schema(example = "lead.created")]
    kind: String,
    /// When it happened: the change's time; for `lead.sla_breached` the deadline that passed,
    /// for a scheduled `article.published` its publication time.
    #[schema(example = "2026-03-10T15:20:00Z")]
    occurred_at: DateTime<Utc>,
    /// The lead, article or webhook subscription it is about (`lead_id`, `article_id` or
    /// `webhook_id` of the payload).
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")]
    subject_id: Uuid,
    /// `LeadEventPayload` for `lead.*` events, `ArticleEventPayload` for `article.*` events,
    /// `WebhookEventPayload` for `webhook.disabled`.
    #[schema(schema_with = payload_schema)]
    payload: serde_json::Value,
}

impl From<FeedEvent> for Event {
    fn from(event: FeedEvent) -> Self {
        Event {
            id: event.id,
            kind: event.kind.as_str().to_owned(),
            occurred_at: event.occurred_at,
            subject_id: event.subject_id,
            payload: event.payload,
        }
    }
}

fn payload_schema() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(RefOr::Ref(Ref::from_schema_name("LeadEventPayload")))
            .item(RefOr::Ref(Ref::from_schema_name("ArticleEventPayload")))
            .item(RefOr::Ref(Ref::from_schema_name("WebhookEventPayload")))
            .description(Some(
                "`LeadEventPayload` for `lead.*` events, `ArticleEventPayload` for `article.*` \
                 events, `WebhookEventPayload` for `webhook.disabled`",
            ))
            .build(),
    )
}

#[derive(Serialize, ToSchema)]
pub struct EventFeed {
    /// In commit-safe order: `(transaction, id)`.
    items: Vec<Event>,
    /// Pass it as `after` next time: the last event of this page, or the `after` you sent when
    /// there was nothing new (null only when there are no events at all yet).
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a90")]
    next_after: Option<Uuid>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Continue after this event: the `next_after` of the previous page (or any event id this
    /// feed returned). Without it the feed starts at the oldest event.
    #[param(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a90")]
    after: Option<Uuid>,
    /// Page size, 1–200 (default 50).
    #[param(example = 50, minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// List events (the catch-up feed)
///
/// Every change Beacon tells the clinic's tools about, recorded in the same transaction as the
/// change itself, so there is never one without the other: `lead.created`, `lead.updated`
/// (status, assignee, another enquiry joining the lead, an opt-out lifted), `lead.erased`,
/// `lead.opted_out`, `lead.sla_breached` (a `new` lead passed its `contact_by`),
/// `article.published` (including a scheduled article reaching its time), `article.updated`,
/// `article.unpublished` and `article.deleted` (article events concern what readers see: edits
/// to drafts emit nothing), and `webhook.disabled` (a subscription failing for
/// `BEACON_WEBHOOK_DISABLE_AFTER` was turned off). Quarantined spam emits nothing.
///
/// **Order.** Events come in commit-safe order and never change once listed: page forward with
/// `after=<next_after>` and you will never miss one, even one whose transaction commits late.
/// The order is by writing transaction, then id; an event appears once every transaction that
/// began before its own has ended, so a long transaction (anywhere on the database server) can
/// delay the feed, never reorder it. Ids are UUID v7 but are not the order: they are taken
/// before commit. A page shorter than `limit` means you are caught up; poll again later with
/// the same `next_after`.
///
/// **Privacy.** Payloads are de-identified: a lead event carries the lead's id, status,
/// deadline, assignee, opt-out time, first-touch source and the enquiry's UTM and article, but
/// never the person's name, phone, email, message, conditions or priority (an `urgent`
/// priority would reveal a crisis). Those are kept apart, only for webhook subscriptions that
/// opt in, and are cleared when the lead is erased; this feed never shows them (`admin` does
/// not imply `leads:read`).
///
/// **Retention.** Events are kept; a lead's erasure (`DELETE /v1/leads/{id}` or
/// `BEACON_LEAD_RETENTION_DAYS`) emits `lead.erased` and clears the personal part of its
/// earlier events, leaving their de-identified payloads.
///
/// An `after` that names no event, or a `limit` outside 1–200, is a 400.
#[utoipa::path(
    tag = "events",
    params(FeedParams),
    responses(
        (status = 200, description = "A page of events", body = EventFeed,
            example = json!({
                "items": [
                    {"id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a90", "type": "lead.created",
                     "occurred_at": "2026-03-10T15:20:00Z",
                     "subject_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
                     "payload": {"lead_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
                                 "status": "new", "previous_status": null, "changes": [],
                                 "contact_by": "2026-03-11T15:20:00Z", "assignee": null,
                                 "opted_out_at": null, "source": "google",
                                 "enquiry": {"received_at": "2026-03-10T15:20:00Z",
                                             "utm_source": "google", "utm_medium": "cpc",
                                             "utm_campaign": "trd-spring", "utm_term": null,
                                             "utm_content": null,
                                             "article_slug": "ketamine-for-depression"}}},
                    {"id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a91", "type": "article.published",
                     "occurred_at": "2026-03-10T16:00:00Z",
                     "subject_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70",
                     "payload": {"article_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70",
                                 "slug": "ketamine-and-ptsd", "title": "Ketamine and PTSD",
                                 "status": "published", "published_at": "2026-03-10T16:00:00Z",
                                 "version": 3}}
                ],
                "next_after": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a91"
            })),
    ),
    security(("api_key" = ["admin"])),
)]
#[get("/events")]
pub async fn list_events(
    _caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<FeedParams>,
) -> Result<HttpResponse, Error> {
    let FeedParams { after, limit } = params.into_inner();
    let limit = caching::page_limit(limit, service::FEED_LIMIT_DEFAULT, service::FEED_LIMIT_MAX)?;
    let page = db::run(&state.pool, move |conn| service::feed(conn, after, limit)).await?;
    Ok(HttpResponse::Ok().json(EventFeed {
        items: page.items.into_iter().map(Event::from).collect(),
        next_after: page.next_after,
    }))
}

/// The shapes of the stored payloads, for the OpenAPI document only: the feed serves the JSON
/// as it was recorded (`domain::event`), and a test below keeps the two in step.
#[allow(dead_code)]
pub mod payloads {
    use chrono::{DateTime, Utc};
    use utoipa::ToSchema;
    use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema};
    use utoipa::openapi::{Ref, RefOr};
    use uuid::Uuid;

    /// The payload of `lead.*` events. Never the person's name, phone, email, message,
    /// conditions or priority.
    #[derive(ToSchema)]
    pub struct LeadEventPayload {
        lead_id: Uuid,
        /// `new`, `contacted`, `qualified`, `unqualified`, `closed`, `do_not_contact` or `spam`
        /// (for `lead.erased`: the outcome the lead had).
        #[schema(example = "new")]
        status: String,
        /// The status before this change, when it changed.
        #[schema(example = json!(null))]
        previous_status: Option<String>,
        /// What a `lead.updated` changed: `status`, `assignee`, `enquiry` (another enquiry from
        /// the number joined the lead) and `opt_out_lifted`; empty for other events.
        #[schema(example = json!(["status"]))]
        changes: Vec<String>,
        /// When the clinic promised to call back; null on `lead.erased`.
        #[schema(example = "2026-03-11T15:20:00Z")]
        contact_by: Option<DateTime<Utc>>,
        /// The member of staff working the lead.
        #[schema(example = "Sam")]
        assignee: Option<String>,
        /// When the lead's number opted out, while that stands: do not call for marketing.
        #[schema(example = json!(null))]
        opted_out_at: Option<DateTime<Utc>>,
        /// First-touch attribution: the `utm_source` of the lead's first enquiry that had one.
        #[schema(example = "google")]
        source: Option<String>,
        /// On `lead.created`, and on `lead.updated` with change `enquiry`: that enquiry.
        enquiry: Option<LeadEventEnquiry>,
    }

    /// Where one enquiry came from.
    #[derive(ToSchema)]
    pub struct LeadEventEnquiry {
        received_at: DateTime<Utc>,
        #[schema(example = "google")]
        utm_source: Option<String>,
        #[schema(example = "cpc")]
        utm_medium: Option<String>,
        #[schema(example = "trd-spring")]
        utm_campaign: Option<String>,
        utm_term: Option<String>,
        utm_content: Option<String>,
        /// The article the enquiry was sent from.
        #[schema(example = "ketamine-for-depression")]
        article_slug: Option<String>,
    }

    /// What a webhook receives for a `lead.*` event (format `standard`).
    #[derive(ToSchema)]
    pub struct LeadEventDelivery {
        /// The event's id, also sent as `webhook-id`: the same on every attempt, so a receiver
        /// can drop a repeat.
        id: Uuid,
        /// The event type: this webhook's name.
        #[schema(example = "lead.created")]
        r#type: String,
        #[schema(example = "2026-03-10T15:20:00Z")]
        occurred_at: DateTime<Utc>,
        /// `LeadEventPayload`, with `personal` added for subscriptions that opted in.
        #[schema(schema_with = lead_event_data)]
        data: serde_json::Value,
    }

    /// The payload, and `personal` only for subscriptions with `include_personal_data` (on
    /// `lead.created`, and on a `lead.updated` that releases a lead from quarantine; never
    /// once the lead is erased).
    fn lead_event_data() -> Schema {
        let personal = ObjectBuilder::new().property(
            "personal",
            RefOr::Ref(Ref::from_schema_name("LeadPersonalData")),
        );
        Schema::AllOf(
            AllOfBuilder::new()
                .item(RefOr::Ref(Ref::from_schema_name("LeadEventPayload")))
                .item(personal)
                .build(),
        )
    }

    /// The person's details and health data, sent only where a subscription opted in.
    #[derive(ToSchema)]
    pub struct LeadPersonalData {
        #[schema(example = "Ada Lovelace")]
        name: Option<String>,
        /// As typed.
        #[schema(example = "(415) 555-0101")]
        phone: Option<String>,
        #[schema(example = "+14155550101")]
        phone_e164: Option<String>,
        #[schema(example = "ada@example.com")]
        email: Option<String>,
        /// Interest codes (conditions), the lead's whole list.
        #[schema(example = json!(["ptsd"]))]
        interests: Vec<String>,
        /// `normal` or `urgent` (the person reported suicidal thoughts).
        #[schema(example = "normal")]
        priority: Option<String>,
        /// The words of the enquiry the event reports, if it reports one.
        message: Option<String>,
        preferred_contact_time: Option<String>,
    }

    /// What a webhook receives for an `article.*` event (format `standard`).
    #[derive(ToSchema)]
    pub struct ArticleEventDelivery {
        /// The event's id, also sent as `webhook-id`.
        id: Uuid,
        /// The event type: this webhook's name.
        #[schema(example = "article.published")]
        r#type: String,
        #[schema(example = "2026-03-10T16:00:00Z")]
        occurred_at: DateTime<Utc>,
        data: ArticleEventPayload,
    }

    /// The payload of `article.*` events.
    #[derive(ToSchema)]
    pub struct ArticleEventPayload {
        article_id: Uuid,
        #[schema(example = "ketamine-and-ptsd")]
        slug: String,
        #[schema(example = "Ketamine and PTSD")]
        title: String,
        /// As readers see it after the change (`draft` or `archived` after
        /// `article.unpublished`); for `article.deleted`, the status it had.
        #[schema(example = "published")]
        status: String,
        #[schema(example = "2026-03-10T16:00:00Z")]
        published_at: Option<DateTime<Utc>>,
        /// The article's `version` after the change.
        #[schema(example = 3)]
        version: i32,
    }

    /// What a webhook receives for a `webhook.*` event (format `standard`).
    #[derive(ToSchema)]
    pub struct WebhookEventDelivery {
        /// The event's id, also sent as `webhook-id`.
        id: Uuid,
        /// The event type: this webhook's name.
        #[schema(example = "webhook.disabled")]
        r#type: String,
        #[schema(example = "2026-03-10T16:00:00Z")]
        occurred_at: DateTime<Utc>,
        data: WebhookEventPayload,
    }

    /// The payload of `webhook.disabled` (and of the `webhook.test` a subscription is sent on
    /// request).
    #[derive(ToSchema)]
    pub struct WebhookEventPayload {
        webhook_id: Uuid,
        #[schema(example = "https://crm.example.com/hooks/beacon")]
        url: String,
        /// When its run of failed attempts began; null for `webhook.test`.
        #[schema(example = "2026-03-05T15:20:00Z")]
        failing_since: Option<DateTime<Utc>>,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;
    use utoipa::PartialSchema;

    use super::payloads::{
        ArticleEventPayload, LeadEventEnquiry, LeadEventPayload, WebhookEventPayload,
    };
    use super::*;
    use crate::domain::article::Status;
    use crate::domain::event::{ArticlePayload, EnquiryAttribution, LeadPayload, WebhookPayload};
    use crate::domain::pipeline::LeadStatus;

    fn documented<T: PartialSchema>() -> BTreeSet<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    fn stored(value: impl Serialize) -> BTreeSet<String> {
        serde_json::to_value(value)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn the_documented_payloads_have_exactly_the_fields_recorded() {
        let at = Utc.timestamp_opt(1_780_000_000, 0).unwrap();
        let enquiry = EnquiryAttribution {
            received_at: at,
            ..EnquiryAttribution::default()
        };
        let lead = LeadPayload {
            lead_id: Uuid::nil(),
            status: LeadStatus::New,
            previous_status: None,
            changes: vec![],
            contact_by: None,
            assignee: None,
            opted_out_at: None,
            source: None,
            enquiry: Some(enquiry.clone()),
        };
        let article = ArticlePayload {
            article_id: Uuid::nil(),
            slug: "a".to_owned(),
            title: "A".to_owned(),
            status: Status::Published,
            published_at: None,
            version: 1,
        };

        assert_eq!(documented::<LeadEventPayload>(), stored(lead));
        assert_eq!(documented::<LeadEventEnquiry>(), stored(enquiry));
        assert_eq!(documented::<ArticleEventPayload>(), stored(article));
        let webhook = WebhookPayload {
            webhook_id: Uuid::nil(),
            url: "https://example.com/h".to_owned(),
            failing_since: Some(at),
        };
        assert_eq!(documented::<WebhookEventPayload>(), stored(webhook));
    }
}
