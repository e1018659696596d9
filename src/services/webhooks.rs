//! Webhook subscriptions: creating (with a signing secret shown once), listing, changing and
//! deleting them. Letting one receive personal data is recorded in the access audit, in the
//! same transaction as the change.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::db::webhooks::{self as queries, NewWebhookRow, WebhookRow, WebhookUpdate};
use crate::domain::audit::Action;
use crate::domain::change::Change;
use crate::domain::event::NewEvent;
use crate::domain::text;
use crate::domain::webhook::{EventSelection, Format, Secret};
use crate::error::{Error, FieldError};
use crate::services::audit::{self, Actor, Subject};
use crate::services::events;

pub const LIMIT_DEFAULT: i64 = 20;
pub const LIMIT_MAX: i64 = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 500;

/// A subscription as its owner sees it: everything but the secret.
#[derive(Debug, Clone)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub events: EventSelection,
    pub enabled: bool,
    pub include_personal_data: bool,
    pub description: Option<String>,
    pub format: Format,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new subscription with its secret, which only this answer shows.
pub struct CreatedWebhook {
    pub webhook: WebhookView,
    pub secret: Secret,
}

/// The validated input of a new subscription.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    url: String,
    events: EventSelection,
    enabled: bool,
    include_personal_data: bool,
    description: Option<String>,
    format: Format,
}

/// The fields of a create or update request, as sent.
#[derive(Debug, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub include_personal_data: Option<bool>,
    pub description: Change<String>,
    pub format: Option<String>,
}

/// The validated changes of an update; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    url: Option<String>,
    events: Option<EventSelection>,
    enabled: Option<bool>,
    include_personal_data: Option<bool>,
    description: Change<String>,
    format: Option<Format>,
}

/// Field errors point into the HTTP body (`/url`, `/events`, …).
fn parse_fields(input: WebhookInput) -> Result<WebhookChanges, Error> {
    let mut errors = Vec::new();
    let url = input
        .url
        .map(|url| text::http_url(&url))
        .transpose()
        .map_err(|e| errors.push(FieldError::new("/url", e)))
        .ok()
        .flatten();
    let events = input
        .events
        .map(|names| EventSelection::parse(&names))
        .transpose()
        .map_err(|e| errors.push(FieldError::new("/events", e)))
        .ok()
        .flatten();
    let description = match input.description {
        Change::Set(description) if description.trim().is_empty() => Change::Clear,
        Change::Set(description) => match text::single_line(&description, DESCRIPTION_MAX_CHARS) {
            Ok(description) => Change::Set(description),
            Err(e) => {
                errors.push(FieldError::new("/description", e));
                Change::Keep
            }
        },
        other => other,
    };
    let format = input
        .format
        .map(|name| {
            Format::parse(name.trim()).ok_or_else(|| {
                FieldError::new("/format", "must be `standard` or `slack`".to_owned())
            })
        })
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(WebhookChanges {
        url,
        events,
        enabled: input.enabled,
        include_personal_data: input.include_personal_data,
        description,
        format,
    })
}

/// A chat message is read by everyone in the channel: never with personal data.
fn check_format_and_personal_data(
    format: Format,
    include_personal_data: bool,
) -> Result<(), Error> {
    if format == Format::Slack && include_personal_data {
        return Err(Error::invalid(
            "/include_personal_data",
            "must be false for the `slack` format: chat messages never carry personal data",
        ));
    }
    Ok(())
}

impl NewWebhook {
    pub fn parse(input: WebhookInput) -> Result<Self, Error> {
        let missing: Vec<FieldError> = [
            input
                .url
                .is_none()
                .then(|| FieldError::new("/url", "is required")),
            input
                .events
                .is_none()
                .then(|| FieldError::new("/events", "is required")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let parsed = parse_fields(input);
        let changes = match (parsed, missing.is_empty()) {
            (Ok(changes), true) => changes,
            (Ok(_), false) => return Err(Error::Validation(missing)),
            (Err(Error::Validation(mut errors)), _) => {
                errors.extend(missing);
                return Err(Error::Validation(errors));
            }
            (Err(other), _) => return Err(other),
        };
        let (Some(url), Some(events)) = (changes.url, changes.events) else {
            return Err(Error::Validation(missing));
        };
        let format = changes.format.unwrap_or_default();
        let include_personal_data = changes.include_personal_data.unwrap_or(false);
        check_format_and_personal_data(format, include_personal_data)?;
        Ok(NewWebhook {
            url,
            events,
            enabled: changes.enabled.unwrap_or(true),
            include_personal_data,
            description: changes.description.apply(None),
            format,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl WebhookChanges {
    pub fn parse(input: WebhookInput) -> Result<Self, Error> {
        parse_fields(input)
    }

    /// The new URL, when it changes.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

pub fn create(
    conn: &mut PgConnection,
    new: NewWebhook,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<CreatedWebhook, Error> {
    let secret = Secret::generate().map_err(Error::internal)?;
    let events = new.events.names();
    let webhook = conn.transaction(|conn| {
        let row = queries::insert(
            conn,
            &NewWebhookRow {
                id: Uuid::now_v7(),
                url: &new.url,
                events: &events,
                enabled: new.enabled,
                include_personal_data: new.include_personal_data,
                description: new.description.as_deref(),
                format: new.format,
                secret: secret.expose(),
                created_at: now,
                updated_at: now,
            },
        )?;
        if row.include_personal_data {
            record_personal_data_enabled(conn, actor, row.id, now)?;
        }
        view(row)
    })?;
    tracing::info!(webhook_id = %webhook.id, "webhook created");
    Ok(CreatedWebhook { webhook, secret })
}

pub struct WebhookPage {
    pub items: Vec<WebhookView>,
    pub next: Option<(DateTime<Utc>, Uuid)>,
}

pub fn list(
    conn: &mut PgConnection,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<WebhookPage, Error> {
    let mut rows = queries::list(conn, after, limit + 1)?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more
        .then(|| rows.last().map(|row| (row.created_at, row.id)))
        .flatten();
    Ok(WebhookPage {
        items: rows.into_iter().map(view).collect::<Result<_, _>>()?,
        next,
    })
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<WebhookView, Error> {
    view(queries::find(conn, id)?.ok_or(Error::NotFound)?)
}

/// Applies the changes; turning `include_personal_data` on is recorded in the access audit.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: WebhookChanges,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<WebhookView, Error> {
    let events = changes.events.as_ref().map(EventSelection::names);
    conn.transaction(|conn| {
        let current = queries::find_for_update(conn, id)?.ok_or(Error::NotFound)?;
        check_format_and_personal_data(
            changes.format.unwrap_or(current.format),
            changes
                .include_personal_data
                .unwrap_or(current.include_personal_data),
        )?;
        let description = match &changes.description {
            Change::Keep => None,
            Change::Clear => Some(None),
            Change::Set(description) => Some(Some(description.as_str())),
        };
        let row = queries::update(
            conn,
            id,
            &WebhookUpdate {
                url: changes.url.as_deref(),
                events: events.as_deref(),
                enabled: changes.enabled,
                include_personal_data: changes.include_personal_data,
                description,
                format: changes.format,
                failing_since: (changes.enabled == Some(true) && !current.enabled).then_some(None),
                updated_at: now,
            },
        )?;
        if row.include_personal_data && !current.include_personal_data {
            record_personal_data_enabled(conn, actor, id, now)?;
        }
        tracing::info!(webhook_id = %id, "webhook updated");
        view(row)
    })
}

/// A rotated secret: the new one, shown once, and when the old one stops signing.
pub struct RotatedSecret {
    pub secret: Secret,
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// Gives the subscription a new secret. Deliveries are signed with both until `overlap` has
/// passed (Standard Webhooks: several space-separated signatures), so the receiver can switch
/// without losing any; a rotation within the overlap drops the oldest secret at once.
pub fn rotate_secret(
    conn: &mut PgConnection,
    id: Uuid,
    overlap: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<RotatedSecret, Error> {
    let secret = Secret::generate().map_err(Error::internal)?;
    let expires_at = now + chrono::Duration::from_std(overlap).map_err(Error::internal)?;
    queries::rotate_secret(conn, id, secret.expose(), expires_at, now)?.ok_or(Error::NotFound)?;
    tracing::info!(webhook_id = %id, "webhook secret rotated");
    Ok(RotatedSecret {
        secret,
        previous_secret_expires_at: expires_at,
    })
}

/// Queues a `webhook.test` event to this subscription alone, through the same deliveries (so
/// signed, retried and listed); returns the delivery's id. A disabled subscription is a 409:
/// nothing is sent to it.
pub fn send_test(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> Result<Uuid, Error> {
    conn.transaction(|conn| {
        let row = queries::find_for_update(conn, id)?.ok_or(Error::NotFound)?;
        if !row.enabled {
            return Err(Error::Conflict(
                "The subscription is disabled: enable it to receive a test event.".to_owned(),
            ));
        }
        let event = NewEvent::webhook_test(id, row.url, now);
        let delivery = events::record_for_one(conn, &event, id)?;
        tracing::info!(webhook_id = %id, delivery_id = %delivery, "webhook test queued");
        Ok(delivery)
    })
}

pub fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), Error> {
    if queries::delete(conn, id)? == 0 {
        return Err(Error::NotFound);
    }
    tracing::info!(webhook_id = %id, "webhook deleted");
    Ok(())
}

fn record_personal_data_enabled(
    conn: &mut PgConnection,
    actor: &Actor,
    webhook_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let subject = Subject::Filter(serde_json::json!({ "webhook_id": webhook_id }));
    audit::record(
        conn,
        actor,
        Action::WebhookPersonalDataEnabled,
        subject,
        0,
        now,
    )
}

fn view(row: WebhookRow) -> Result<WebhookView, Error> {
    let names: Vec<String> = row.events.into_iter().flatten().collect();
    let events = EventSelection::parse(&names)
        .map_err(|e| Error::internal(format!("webhook {} has bad stored events: {e}", row.id)))?;
    Ok(WebhookView {
        id: row.id,
        url: row.url,
        events,
        enabled: row.enabled,
        include_personal_data: row.include_personal_data,
        description: row.description,
        format: row.format,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}
