//! `GET /v1/audit` (scope `admin`): who read personal data, exported or erased it, and who
//! created or revoked an API key.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::db;
use crate::domain::api_key::Caller;
use crate::domain::audit::Action;
use crate::error::Error;
use crate::routes::caching;
use crate::routes::lead_admin::{decode_cursor, encode_cursor};
use crate::routes::state::AppState;
use crate::services::audit::{self as service, AuditFilter, EntryView};

pub fn configure(config: &mut ServiceConfig) {
    config.service(list_audit);
}

/// One access to personal data, or one API key created or revoked.
#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    id: Uuid,
    #[schema(example = "2026-03-10T15:20:00Z")]
    at: DateTime<Utc>,
    /// The key used; null for Beacon's own work (retention, the `beacon` command line).
    key_id: Option<Uuid>,
    /// The key's name, or `retention`, `beacon leads purge`, `beacon keys create`,
    /// `beacon keys revoke`.
    #[schema(example = "Front desk CRM")]
    key_name: String,
    /// `lead.read`, `lead.list`, `lead.export`, `lead.erase`, `lead.reinstate`, `key.created`,
    /// `key.revoked`, `webhook.personal_data_enabled`, `lead_source.updated` or
    /// `lead_source.deleted`.
    #[schema(example = "lead.read")]
    action: String,
    /// The lead read, erased or reinstated.
    lead_id: Option<Uuid>,
    /// The leads a list page showed.
    #[schema(example = json!(null))]
    lead_ids: Option<Vec<Uuid>>,
    /// The filters of a list or export (a search term shows as `[redacted]`); for
    /// `webhook.personal_data_enabled`, the subscription's `webhook_id`; for
    /// `lead_source.updated` and `lead_source.deleted`, the `lead_source_id` (and, for an
    /// update, the names of the `fields` sent).
    #[schema(value_type = Option<Object>, example = json!(null))]
    filter: Option<serde_json::Value>,
    /// For `key.created` and `key.revoked`: the key's `id`, `prefix`, `name` and `scopes`
    /// (never its secret).
    #[schema(value_type = Option<Object>, example = json!(null))]
    api_key: Option<serde_json::Value>,
    /// How many leads were shown, exported or erased (0 for key actions).
    #[schema(example = 1)]
    row_count: i32,
}

impl From<EntryView> for AuditEntry {
    fn from(entry: EntryView) -> Self {
        AuditEntry {
            id: entry.id,
            at: entry.at,
            key_id: entry.key_id,
            key_name: entry.key_name,
            action: entry.action.as_str().to_owned(),
            lead_id: entry.lead_id,
            lead_ids: entry.lead_ids,
            filter: entry.filter,
            api_key: entry.api_key,
            row_count: entry.row_count,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    /// Newest first.
    items: Vec<AuditEntry>,
    /// Pass it as `cursor` for the next page; null on the last page.
    #[schema(example = json!(null))]
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// `lead.read`, `lead.list`, `lead.export`, `lead.erase`, `lead.reinstate`, `key.created`,
    /// `key.revoked`, `webhook.personal_data_enabled`, `lead_source.updated` or
    /// `lead_source.deleted`.
    #[param(example = "lead.export")]
    action: Option<String>,
    /// Entries about this lead: reads, erasure, and list pages that showed it.
    #[param(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")]
    lead_id: Option<Uuid>,
    /// Entries made with this key.
    #[param(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70")]
    key_id: Option<Uuid>,
    /// At or after this time (RFC 3339).
    #[param(example = "2026-03-01T00:00:00Z")]
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    after: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    #[param(example = "2026-04-01T00:00:00Z")]
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    before: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page, with the same filters.
    #[param(example = "cDE6MTc2NDQxNzYwMDAwMDAwMDowMTkzYTRmMTdjMWU3YjUyOWEwZTNmMmQ1YzZiN2E4MQ")]
    cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(example = 20, minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// List access audit entries
///
/// Every read of a lead's personal data (one lead, a page of the list, an export), every
/// erasure, and every API key created or revoked (over HTTP or with `beacon keys`), newest
/// first: which key, what, which lead, filter or key, how many leads, when. The entries
/// themselves hold no personal data: search terms and key secrets are never stored.
/// Keyset-paginated like the other lists (`next_cursor`, `Link` header); a bad `cursor`,
/// `limit` (1–100) or `action` is a 400.
#[utoipa::path(
    tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of audit entries", body = AuditList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page")),
            example = json!({
                "items": [
                    {"id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a95", "at": "2026-03-10T16:00:00Z",
                     "key_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70", "key_name": "Front desk CRM",
                     "action": "lead.export", "lead_id": null, "lead_ids": null,
                     "filter": {"status": ["new"], "q": "[redacted]"}, "api_key": null,
                     "row_count": 12},
                    {"id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a94", "at": "2026-03-10T15:19:00Z",
                     "key_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70", "key_name": "Front desk CRM",
                     "action": "lead.read", "lead_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81",
                     "lead_ids": null, "filter": null, "api_key": null, "row_count": 1},
                    {"id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a93", "at": "2026-03-10T09:00:00Z",
                     "key_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a60", "key_name": "Clinic admin",
                     "action": "key.created", "lead_id": null, "lead_ids": null, "filter": null,
                     "api_key": {"id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a70",
                                 "prefix": "bcn_3f9a1c2b7d4e", "name": "Front desk CRM",
                                 "scopes": ["leads:read", "leads:write"]},
                     "row_count": 0}
                ],
                "next_cursor": null
            })),
    ),
    security(("api_key" = ["admin"])),
)]
#[get("/audit")]
pub async fn list_audit(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, Error> {
    let params = params.into_inner();
    let limit = caching::page_limit(params.limit, service::LIMIT_DEFAULT, service::LIMIT_MAX)?;
    let after = decode_cursor(params.cursor.as_deref())?;
    let action = params
        .action
        .map(|name| {
            Action::parse(name.trim())
                .ok_or_else(|| Error::BadRequest(format!("`action` must be {}.", Action::names())))
        })
        .transpose()?;
    let filter = AuditFilter {
        action,
        lead_id: params.lead_id,
        key_id: params.key_id,
        after: params.after,
        before: params.before,
    };
    let page = db::run(&state.pool, move |conn| {
        service::list(conn, &filter, after, limit)
    })
    .await?;
    let next_cursor = page.next.map(encode_cursor);
    Ok(
        caching::page_response(&req, next_cursor.as_deref()).json(AuditList {
            items: page.items.into_iter().map(AuditEntry::from).collect(),
            next_cursor,
        }),
    )
}
