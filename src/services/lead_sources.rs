//! Lead sources (`admin`): creating one (an `api` source with its `leads:create` key, a
//! `google_ads` source with the key Google sends with each lead; either shown once), listing, changing and deleting them, and finding the source a key posts for.
//!
//! Deleting a source keeps its row as a name-only record and revokes its key, so its leads
//! still say where they came from and its tools are shut out at once.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde_json::json;
use uuid::Uuid;

use crate::db::lead_sources::{self as queries, NewSourceRow, SourceRow, SourceUpdate};
use crate::db::meta_fetches::{self, Counts};
use crate::domain::api_key::Caller;
use crate::domain::audit::Action;
use crate::domain::change::Change;
use crate::domain::lead_source::{self as source, DefaultAttribution, SourceKind};
use crate::domain::meta::{AppSecret, MetaCredentials, PageToken, VerifyToken};
use crate::domain::scope::Scope;
use crate::domain::source_key::{self, SourceKey};
use crate::domain::text::TextError;
use crate::error::{Error, FieldError};
use crate::services::api_keys::{self, KeyRef, NewKeyRequest};
use crate::services::audit::{self, Actor, Subject};

pub const LIMIT_DEFAULT: i64 = 20;
/// Where a `google_ads` source's `credentials` keep the SHA-256 of its key (hex).
const GOOGLE_KEY_SHA256: &str = "google_key_sha256";
pub const LIMIT_MAX: i64 = 100;

/// A source as the admin API shows it: never a credential.
#[derive(Debug, Clone)]
pub struct SourceView {
    pub id: Uuid,
    pub name: String,
    pub kind: SourceKind,
    pub enabled: bool,
    pub defaults: DefaultAttribution,
    /// The platform form's question whose answers name its leads' interests.
    pub interests_question: Option<String>,
    /// The id of an `api` source's key, as `GET /v1/keys` lists it.
    pub key_id: Option<Uuid>,
    /// Where a webhook kind's platform posts its leads.
    pub webhook_url: Option<String>,
    /// A `meta` source's lead fetches: how many wait, how many failed and why.
    pub meta_fetches: Option<Counts>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SourceRow> for SourceView {
    fn from(row: SourceRow) -> Self {
        SourceView {
            id: row.id,
            name: row.name,
            kind: row.kind,
            enabled: row.enabled,
            defaults: DefaultAttribution {
                utm_source: row.utm_source,
                utm_medium: row.utm_medium,
                utm_campaign: row.utm_campaign,
            },
            interests_question: row.interests_question,
            key_id: row.api_key_id,
            webhook_url: row.kind.webhook_path(row.id),
            meta_fetches: None,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A new source with its credential, which only this answer shows.
pub struct CreatedSource {
    pub source: SourceView,
    /// The `leads:create` key of an `api` source, or the key a `google_ads` source's leads
    /// must carry.
    pub key: Option<String>,
    /// The token a `meta` source's callback URL is verified with.
    pub verify_token: Option<String>,
}

/// The fields of a create or update request, as sent.
#[derive(Debug, Default)]
pub struct SourceInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub enabled: Option<bool>,
    pub utm_source: Change<String>,
    pub utm_medium: Change<String>,
    pub utm_campaign: Change<String>,
    /// `meta` sources only: the Meta app's secret and the page access token.
    pub app_secret: Option<String>,
    pub page_access_token: Option<String>,
    pub interests_question: Change<String>,
}

/// Validated fields; `None` and `Keep` leave a field as it is.
#[derive(Debug, Default)]
pub struct SourceChanges {
    name: Option<String>,
    kind: Option<SourceKind>,
    enabled: Option<bool>,
    utm_source: Change<String>,
    utm_medium: Change<String>,
    utm_campaign: Change<String>,
    app_secret: Option<AppSecret>,
    page_token: Option<PageToken>,
    interests_question: Change<String>,
}

impl SourceChanges {
    fn changes_credentials(&self) -> bool {
        self.app_secret.is_some() || self.page_token.is_some()
    }

    /// Every invalid field at once; pointers into the HTTP body. A blank UTM value or question
    /// clears it.
    pub fn parse(input: SourceInput) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let name = input.name.and_then(|name| {
            source::name(&name)
                .map_err(|e| errors.push(FieldError::new("/name", e)))
                .ok()
        });
        let kind = input.kind.and_then(|kind| match SourceKind::parse(&kind) {
            Some(kind) => Some(kind),
            None => {
                errors.push(FieldError::new(
                    "/kind",
                    "must be `api`, `google_ads` or `meta`",
                ));
                None
            }
        });
        let app_secret = input.app_secret.and_then(|secret| {
            AppSecret::parse(&secret)
                .map_err(|e| errors.push(FieldError::new("/app_secret", e)))
                .ok()
        });
        let page_token = input.page_access_token.and_then(|token| {
            PageToken::parse(&token)
                .map_err(|e| errors.push(FieldError::new("/page_access_token", e)))
                .ok()
        });
        let mut text =
            |pointer: &str,
             change: Change<String>,
             parse: fn(&str) -> Result<String, TextError>| match change {
                Change::Set(value) if value.trim().is_empty() => Change::Clear,
                Change::Set(value) => match parse(&value) {
                    Ok(value) => Change::Set(value),
                    Err(e) => {
                        errors.push(FieldError::new(pointer, e));
                        Change::Keep
                    }
                },
                other => other,
            };
        let changes = SourceChanges {
            app_secret,
            page_token,
            utm_source: text("/utm_source", input.utm_source, source::utm),
            utm_medium: text("/utm_medium", input.utm_medium, source::utm),
            utm_campaign: text("/utm_campaign", input.utm_campaign, source::utm),
            interests_question: text(
                "/interests_question",
                input.interests_question,
                source::interests_question,
            ),
            name,
            kind,
            enabled: input.enabled,
        };
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(Error::Validation(errors))
        }
    }
}

/// The validated input of a new source.
#[derive(Debug)]
pub struct NewSource(SourceChanges);

impl NewSource {
    pub fn parse(input: SourceInput) -> Result<Self, Error> {
        let meta = input.kind.as_deref() == Some(SourceKind::Meta.as_str());
        let mut missing: Vec<FieldError> = [
            ("/name", input.name.is_none()),
            ("/kind", input.kind.is_none()),
            ("/app_secret", meta && input.app_secret.is_none()),
            (
                "/page_access_token",
                meta && input.page_access_token.is_none(),
            ),
        ]
        .into_iter()
        .filter(|(_, missing)| *missing)
        .map(|(pointer, _)| FieldError::new(pointer, "is required"))
        .collect();
        if !meta && input.kind.is_some() {
            for (pointer, given) in [
                ("/app_secret", input.app_secret.is_some()),
                ("/page_access_token", input.page_access_token.is_some()),
            ] {
                if given {
                    missing.push(FieldError::new(pointer, "is only for `meta` sources"));
                }
            }
        }
        let changes = SourceChanges::parse(input);
        match (changes, missing.is_empty()) {
            (Ok(changes), true) => Ok(NewSource(changes)),
            (Ok(_), false) => Err(Error::Validation(missing)),
            (Err(Error::Validation(errors)), _) => Err(Error::Validation(
                missing.into_iter().chain(errors).collect(),
            )),
            (Err(other), _) => Err(other),
        }
    }
}

/// Creates a source; an `api` source gets a `leads:create` key made like every other key (its
/// `key.created` audit entry included), a `meta` source its credentials and a new verify token,
/// in the same transaction.
pub fn create(
    conn: &mut PgConnection,
    new: NewSource,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<CreatedSource, Error> {
    let NewSource(fields) = new;
    let (Some(name), Some(kind)) = (fields.name, fields.kind) else {
        return Err(Error::internal(
            "a parsed new source lacks its name or kind",
        ));
    };
    let google_key = match kind {
        SourceKind::GoogleAds => Some(SourceKey::generate().map_err(Error::internal)?),
        SourceKind::Api | SourceKind::Meta => None,
    };
    let credentials = google_key
        .as_ref()
        .map(|key| json!({ GOOGLE_KEY_SHA256: hex::encode(key.sha256) }));
    let created = conn.transaction(|conn| {
        let key = match kind {
            SourceKind::Api => {
                let request =
                    NewKeyRequest::parse(&name, &[Scope::LeadsCreate.as_str().to_owned()])?;
                Some(api_keys::create(conn, request, actor, now)?)
            }
            SourceKind::GoogleAds | SourceKind::Meta => None,
        };
        let meta = match (kind, fields.app_secret, fields.page_token) {
            (SourceKind::Meta, Some(app_secret), Some(page_token)) => {
                let token = VerifyToken::generate().map_err(Error::internal)?;
                let credentials = MetaCredentials {
                    app_secret,
                    page_token,
                    verify_token_sha256: token.digest(),
                };
                Some((credentials.to_json(), token))
            }
            (SourceKind::Meta, _, _) => {
                return Err(Error::internal(
                    "a parsed meta source lacks its credentials",
                ));
            }
            _ => None,
        };
        let row = queries::insert(
            conn,
            &NewSourceRow {
                id: Uuid::now_v7(),
                name: &name,
                kind,
                enabled: fields.enabled.unwrap_or(true),
                utm_source: fields.utm_source.apply(None).as_deref(),
                utm_medium: fields.utm_medium.apply(None).as_deref(),
                utm_campaign: fields.utm_campaign.apply(None).as_deref(),
                interests_question: fields.interests_question.apply(None).as_deref(),
                api_key_id: key.as_ref().map(|key| key.summary.id),
                credentials: credentials
                    .as_ref()
                    .or(meta.as_ref().map(|(credentials, _)| credentials)),
                created_at: now,
                updated_at: now,
            },
        )?;
        Ok::<_, Error>(CreatedSource {
            source: with_fetches(conn, SourceView::from(row))?,
            key: key
                .map(|key| key.secret)
                .or(google_key.map(|key| key.secret)),
            verify_token: meta.map(|(_, token)| token.expose().to_owned()),
        })
    })?;
    tracing::info!(lead_source_id = %created.source.id, kind = created.source.kind.as_str(), "lead source created");
    Ok(created)
}

pub struct Page {
    pub items: Vec<SourceView>,
    pub next: Option<(DateTime<Utc>, Uuid)>,
}

pub fn list(
    conn: &mut PgConnection,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Page, Error> {
    let mut rows = queries::list(conn, after, limit + 1)?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more
        .then(|| rows.last().map(|row| (row.created_at, row.id)))
        .flatten();
    let items = rows
        .into_iter()
        .map(|row| with_fetches(conn, row.into()))
        .collect::<Result<_, _>>()?;
    Ok(Page { items, next })
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<SourceView, Error> {
    let view = queries::find(conn, id)?.ok_or(Error::NotFound)?.into();
    with_fetches(conn, view)
}

/// Adds a `meta` source's fetch counts to its view.
fn with_fetches(conn: &mut PgConnection, mut view: SourceView) -> Result<SourceView, Error> {
    if view.kind == SourceKind::Meta {
        view.meta_fetches = Some(meta_fetches::counts(conn, view.id)?);
    }
    Ok(view)
}

impl SourceChanges {
    /// The names of the fields this change sets or clears, for the audit.
    fn field_names(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("enabled", self.enabled.is_some()),
            ("utm_source", !matches!(self.utm_source, Change::Keep)),
            ("utm_medium", !matches!(self.utm_medium, Change::Keep)),
            ("utm_campaign", !matches!(self.utm_campaign, Change::Keep)),
            (
                "interests_question",
                !matches!(self.interests_question, Change::Keep),
            ),
            ("app_secret", self.app_secret.is_some()),
            ("page_access_token", self.page_token.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, sent)| sent.then_some(name))
        .collect()
    }
}

/// Changes a source; disabling it shuts its key out at once (403) without revoking it. Audited
/// as `lead_source.updated` with the names of the fields sent, in the same transaction.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: SourceChanges,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SourceView, Error> {
    conn.transaction(|conn| {
        let current = queries::find_for_update(conn, id)?.ok_or(Error::NotFound)?;
        if changes.changes_credentials() {
            replace_meta_credentials(conn, &current, &changes)?;
        }
        let subject = Subject::Filter(json!({
            "lead_source_id": id,
            "fields": changes.field_names(),
        }));
        audit::record(conn, actor, Action::LeadSourceUpdated, subject, 0, now)?;
        let clear_or_set = |change: &Change<String>| match change {
            Change::Keep => None,
            Change::Clear => Some(None),
            Change::Set(value) => Some(Some(value.clone())),
        };
        let (utm_source, utm_medium, utm_campaign, interests_question) = (
            clear_or_set(&changes.utm_source),
            clear_or_set(&changes.utm_medium),
            clear_or_set(&changes.utm_campaign),
            clear_or_set(&changes.interests_question),
        );
        let row = queries::update(
            conn,
            id,
            &SourceUpdate {
                name: changes.name.as_deref(),
                enabled: changes.enabled,
                utm_source: utm_source.as_ref().map(Option::as_deref),
                utm_medium: utm_medium.as_ref().map(Option::as_deref),
                utm_campaign: utm_campaign.as_ref().map(Option::as_deref),
                interests_question: interests_question.as_ref().map(Option::as_deref),
                updated_at: now,
            },
        )?;
        with_fetches(conn, row.into())
    })
}

/// Puts a new app secret or page token in place of the old one; the verify token stays. Only a
/// `meta` source has them (422 otherwise).
fn replace_meta_credentials(
    conn: &mut PgConnection,
    current: &SourceRow,
    changes: &SourceChanges,
) -> Result<(), Error> {
    if current.kind != SourceKind::Meta {
        let pointer = if changes.app_secret.is_some() {
            "/app_secret"
        } else {
            "/page_access_token"
        };
        return Err(Error::invalid(pointer, "is only for `meta` sources"));
    }
    let stored = queries::credentials(conn, current.id)?;
    let mut credentials = stored
        .as_ref()
        .and_then(MetaCredentials::from_json)
        .ok_or_else(|| {
            Error::internal(format!(
                "lead source {}: bad stored credentials",
                current.id
            ))
        })?;
    if let Some(secret) = &changes.app_secret {
        credentials.app_secret = secret.clone();
    }
    if let Some(token) = &changes.page_token {
        credentials.page_token = token.clone();
    }
    queries::set_credentials(conn, current.id, &credentials.to_json())?;
    tracing::info!(
        lead_source_id = %current.id,
        app_secret = changes.app_secret.is_some(),
        page_token = changes.page_token.is_some(),
        "meta credentials replaced"
    );
    Ok(())
}

/// Deletes a source: its key is revoked (audited as `key.revoked`) and its row kept as a
/// name-only record, so its leads keep naming it. Audited as `lead_source.deleted`.
pub fn delete(
    conn: &mut PgConnection,
    id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    conn.transaction(|conn| {
        let row = queries::find_for_update(conn, id)?.ok_or(Error::NotFound)?;
        if let Some(key_id) = row.api_key_id {
            api_keys::revoke(conn, KeyRef::Id(key_id), actor, now)?;
        }
        queries::mark_deleted(conn, id, now)?;
        let subject = Subject::Filter(json!({ "lead_source_id": id }));
        audit::record(conn, actor, Action::LeadSourceDeleted, subject, 0, now)?;
        Ok::<_, Error>(())
    })?;
    tracing::info!(lead_source_id = %id, "lead source deleted");
    Ok(())
}

/// What intake needs of the source a lead comes from.
#[derive(Debug, Clone)]
pub struct IntakeSource {
    pub id: Uuid,
    pub defaults: DefaultAttribution,
    /// The platform form's question whose answers name interests (webhook kinds).
    pub interests_question: Option<String>,
}

impl From<&SourceRow> for IntakeSource {
    fn from(row: &SourceRow) -> Self {
        IntakeSource {
            id: row.id,
            defaults: DefaultAttribution {
                utm_source: row.utm_source.clone(),
                utm_medium: row.utm_medium.clone(),
                utm_campaign: row.utm_campaign.clone(),
            },
            interests_question: row.interests_question.clone(),
        }
    }
}

/// The source an ad platform's webhook posts to, with its kind's credentials (`None` when
/// the source is unknown, deleted, or of another kind). The caller checks the credentials and
/// `enabled` before taking a lead.
pub struct WebhookSource {
    pub source: IntakeSource,
    pub enabled: bool,
    /// The kind's secrets as stored in `lead_sources.credentials`.
    pub credentials: Option<serde_json::Value>,
}

/// Whether `presented` is the `google_ads` source's key (compared in constant time).
pub fn google_key_matches(source: &WebhookSource, presented: &str) -> bool {
    source
        .credentials
        .as_ref()
        .and_then(|credentials| credentials.get(GOOGLE_KEY_SHA256))
        .and_then(serde_json::Value::as_str)
        .and_then(|stored| hex::decode(stored).ok())
        .is_some_and(|stored| source_key::matches(&stored, presented))
}

pub fn for_webhook(
    conn: &mut PgConnection,
    id: Uuid,
    kind: SourceKind,
) -> Result<Option<WebhookSource>, Error> {
    Ok(
        queries::find_with_credentials(conn, id, kind)?.map(|(row, credentials)| WebhookSource {
            source: IntakeSource::from(&row),
            enabled: row.enabled,
            credentials,
        }),
    )
}

/// The enabled source a `leads:create` caller posts for: 403 when it is disabled or the key
/// belongs to no source.
pub fn for_caller(conn: &mut PgConnection, caller: &Caller) -> Result<IntakeSource, Error> {
    let row = queries::find_by_key(conn, caller.key_id)?.ok_or(Error::Refused(
        "This `leads:create` key belongs to no lead source; create an `api` source for a key.",
    ))?;
    if !row.enabled {
        return Err(Error::Refused(
            "This key's lead source is disabled; an admin can enable it again.",
        ));
    }
    Ok(IntakeSource::from(&row))
}
