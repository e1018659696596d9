//! `/v1/leads` for clinic staff: the queue (`leads:read`), changes along the pipeline and
//! reinstating an opted-out number (`leads:write`, answered without personal data), CSV export
//! and statistics (`leads:read`), erasure (`admin`), and the public opt-out. Personal data is
//! never logged here: only lead ids and counts.

mod export;
mod requests;
mod responses;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use futures_util::StreamExt;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::db;
use crate::domain::api_key::Caller;
use crate::domain::change::Change;
use crate::domain::cursor::Cursor;
use crate::domain::lead::{Priority, interest_code};
use crate::domain::lead_change::Patch;
use crate::domain::lead_query::{self, SearchTerm};
use crate::domain::pipeline::LeadStatus;
use crate::domain::suppression::ReinstateReason;
use crate::domain::text;
use crate::error::Error;
use crate::routes::caching::{self, quoted};
use crate::routes::extract::Json;
use crate::routes::state::AppState;
use crate::services::audit::Actor;
use crate::services::erasure;
use crate::services::lead_management::{
    self as service, ExportCursor, ExportPage, LeadQuery, LeadView, Position,
};
use crate::services::opt_out;

use export::*;
use requests::*;
use responses::*;

/// Registered before `leads::configure`'s routes and before `/leads/{id}`, so `export`,
/// `stats` and `opt-out` are never read as an id.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(export_leads)
        .service(lead_stats)
        .service(list_leads)
        .service(get_lead)
        .service(update_lead)
        .service(reinstate_lead)
        .service(erase_lead);
}

fn lead_query(params: FilterParams, region: phonenumber::country::Id) -> Result<LeadQuery, Error> {
    let statuses = match params.status.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|name| {
                LeadStatus::parse(name.trim()).ok_or_else(|| {
                    Error::BadRequest(
                        "`status` must list any of new, contacted, qualified, unqualified, \
                         closed, do_not_contact, spam."
                            .to_owned(),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let priority = params
        .priority
        .map(|p| {
            Priority::parse(p.trim())
                .ok_or_else(|| Error::BadRequest("`priority` must be normal or urgent.".to_owned()))
        })
        .transpose()?;
    let interest = params
        .interest
        .map(|code| interest_code(&code).map_err(|e| Error::BadRequest(format!("`interest` {e}."))))
        .transpose()?;
    let one_line = |name: &str, value: Option<String>| {
        value
            .map(|v| {
                text::single_line(&v, 200).map_err(|e| Error::BadRequest(format!("`{name}` {e}.")))
            })
            .transpose()
    };
    let search = params
        .q
        .map(|q| SearchTerm::parse(&q, region).map_err(|e| Error::BadRequest(format!("`q` {e}."))))
        .transpose()?;
    Ok(LeadQuery {
        statuses,
        include_spam: params.include_spam.unwrap_or(false),
        priority,
        interest,
        created_after: params.created_after,
        created_before: params.created_before,
        overdue: params.overdue,
        assignee: one_line("assignee", params.assignee)?,
        source: one_line("source", params.source)?,
        lead_source_id: params.source_id,
        test: params.test.unwrap_or(false),
        search,
    })
}

fn page(params: PageParams) -> Result<(Option<Position>, i64), Error> {
    let limit = caching::page_limit(params.limit, service::LIMIT_DEFAULT, service::LIMIT_MAX)?;
    Ok((decode_cursor(params.cursor.as_deref())?, limit))
}

/// A `cursor` parameter back into its `(time, id)` keyset position; 400 when it is not one.
pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<Position>, Error> {
    match cursor.map(Cursor::decode).transpose() {
        Ok(None) => Ok(None),
        Ok(Some(Cursor::Published { at, id })) => Ok(Some((at, id))),
        Ok(Some(Cursor::Created { .. } | Cursor::Ranked { .. })) | Err(_) => {
            Err(Error::BadRequest(
                "`cursor` is not a cursor from a previous page of this list.".to_owned(),
            ))
        }
    }
}

/// The `(time, id)` keyset position as an opaque cursor.
pub fn encode_cursor((at, id): Position) -> String {
    Cursor::Published { at, id }.encode()
}

fn summary_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81", "status": "new", "priority": "normal",
        "name": "Jane Doe", "phone": "(415) 555-2671", "phone_e164": "+14155552671",
        "email": "jane@example.com", "interests": ["treatment_resistant_depression"],
        "assignee": null, "source": "google", "contact_by": "2026-03-11T14:00:00Z",
        "overdue": false, "submission_count": 1, "marketing_consent": true,
        "first_received_at": "2026-03-10T14:59:02Z", "last_received_at": "2026-03-10T14:59:02Z",
        "created_at": "2026-03-10T14:59:02Z", "updated_at": "2026-03-10T14:59:02Z",
        "version": 1, "opted_out_at": null, "lead_source": null
    })
}

/// Built in parts: one `json!` this size would exceed the macro recursion limit.
fn lead_example() -> serde_json::Value {
    let attribution = serde_json::json!({
        "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "trd-spring",
        "utm_term": null, "utm_content": null, "gclid": null, "fbclid": null,
        "referrer": "https://www.google.com/",
        "landing_page": "https://clinic.example/ketamine-for-depression",
        "article_slug": "ketamine-for-depression"
    });
    let submission = serde_json::json!({
        "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a90",
        "received_at": "2026-03-10T14:59:02Z", "duplicate": false, "spam_reason": null,
        "name": "Jane Doe", "phone": "(415) 555-2671", "email": "jane@example.com",
        "interests": ["treatment_resistant_depression"],
        "message": "I have tried three medications without success.",
        "preferred_contact_time": "Weekday mornings",
        "attribution": attribution.clone(),
        "lead_source": null
    });
    let consent = serde_json::json!({
        "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a91", "kind": "form",
        "submission_id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a90", "agreed": true,
        "wording": "I agree that the clinic may call and text me about treatment.",
        "wording_sha256": "5f2b0c3e9a8d7f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a291807f6e",
        "form_version": "2026-03", "recorded_at": "2026-03-10T14:59:02Z",
        "ip": "203.0.113.9", "user_agent": "Mozilla/5.0",
        "page_url": "https://clinic.example/ketamine-for-depression"
    });
    let activity = serde_json::json!([
        {"id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a92", "at": "2026-03-10T15:20:00Z",
         "actor": "Front desk CRM", "action": "status_changed", "from_status": "new",
         "to_status": "contacted", "assignee": null, "note": null},
        {"id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a93", "at": "2026-03-10T15:20:00Z",
         "actor": "Front desk CRM", "action": "note_added", "from_status": null,
         "to_status": null, "assignee": null, "note": "Booked a consultation for Thursday."}
    ]);
    let mut lead = summary_example();
    if let Some(fields) = lead.as_object_mut() {
        fields.insert("status".into(), "contacted".into());
        fields.insert("assignee".into(), "Maria".into());
        fields.insert("version".into(), 3.into());
        fields.insert("updated_at".into(), "2026-03-10T15:20:00Z".into());
        fields.insert("attribution".into(), attribution);
        fields.insert("submissions".into(), serde_json::json!([submission]));
        fields.insert("other_contact_details".into(), serde_json::json!([]));
        fields.insert("consent".into(), serde_json::json!([consent]));
        fields.insert("activity".into(), activity);
    }
    lead
}

/// List leads
///
/// The queue, newest first, with the contact details of each lead's first enquiry. Spam is left out unless
/// `include_spam=true` (or `status` names `spam`); ad platforms' test leads are listed only
/// with `test=true` (and then alone); erased leads are never listed. Filters
/// combine; `q` finds a name or email by any part of it, or a phone number written in any
/// common format. Pages are keyset-paginated: follow `next_cursor` (also sent as
/// `Link: <…>; rel="next"`) with the same filters. A bad filter, `cursor` or `limit` (1–100)
/// is a 400. `opted_out_at` flags a lead whose number opted out (see `POST
/// /v1/leads/{id}/reinstate`). Every call is recorded in the access audit with the leads it
/// showed.
#[utoipa::path(
    tag = "leads",
    params(FilterParams, PageParams),
    responses(
        (status = 200, description = "A page of leads", body = LeadList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page")),
            example = json!({
                "items": [summary_example()],
                "next_cursor": null
            })),
    ),
    security(("api_key" = ["leads:read"])),
)]
#[get("/leads")]
pub async fn list_leads(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    filter: web::Query<FilterParams>,
    paging: web::Query<PageParams>,
) -> Result<HttpResponse, Error> {
    let query = lead_query(filter.into_inner(), state.settings.leads.default_region)?;
    let (after, limit) = page(paging.into_inner())?;
    let actor = Actor::from(&caller);
    let now = Utc::now();
    let page = db::run(&state.pool, move |conn| {
        service::list(conn, &query, after, limit, &actor, now)
    })
    .await?;
    let next_cursor = page.next.map(encode_cursor);
    Ok(
        caching::page_response(&req, next_cursor.as_deref()).json(LeadList {
            items: page
                .items
                .into_iter()
                .map(|lead| LeadSummary::new(lead, now))
                .collect(),
            next_cursor,
        }),
    )
}

/// Get a lead
///
/// The lead with every enquiry the person sent (`submissions`), consent evidence (with the
/// IP and user agent it came from, any opt-out and any reinstatement by staff), first-touch
/// attribution, and its activity history. `opted_out_at` is set while an opt-out of the
/// number stands. Recorded in the access audit. The `ETag` is what `If-Match` on `PATCH` and
/// on reinstating expects. An erased lead is a 410.
#[utoipa::path(
    tag = "leads",
    params(("id" = Uuid, Path, description = "The lead's id",
        example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")),
    responses(
        (status = 200, description = "The lead", body = Lead,
            headers(("ETag" = String, description = "The lead's version tag, for `If-Match`")),
            example = json!(lead_example())),
        (status = 404, description = "No lead has this id"),
        (status = 410, description = "The lead was erased"),
    ),
    security(("api_key" = ["leads:read"])),
)]
#[get("/leads/{id}")]
pub async fn get_lead(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = path.into_inner();
    let actor = Actor::from(&caller);
    let now = Utc::now();
    let detail = db::run(&state.pool, move |conn| service::get(conn, id, &actor, now)).await?;
    let tag = detail.lead.version_tag();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, quoted(&tag)))
        .json(Lead::new(detail, now)))
}

/// Update a lead
///
/// Moves the lead along the pipeline (`new → contacted → qualified | unqualified → closed`,
/// `do_not_contact` from any stage, `spam` from any stage and `new` again from `spam`),
/// assigns or unassigns it, and adds a note. Each part is recorded in the lead's activity
/// with the key's name. A move the pipeline does not allow is a 409 listing the allowed
/// ones; so is any move but `do_not_contact` or `spam` while an opt-out of the number stands
/// (staff lift it with `POST /v1/leads/{id}/reinstate`). Send the `ETag` of your last read as
/// `If-Match` to avoid overwriting a change made since: a stale one is a 412. The first move
/// out of `new` (not to spam) is counted on time or late against `contact_by` in the
/// statistics. The answer holds no personal or health data (no priority, no deadline): a
/// `leads:write` key learns only where the lead now stands; `GET /v1/leads/{id}` (with
/// `leads:read`) shows the rest.
#[utoipa::path(
    tag = "leads",
    params(
        ("id" = Uuid, Path, description = "The lead's id",
            example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"),
        ("If-Match" = Option<String>, Header,
            description = "The `ETag` of your last read; 412 when the lead changed since",
            example = "\"v3\""),
    ),
    request_body(content = UpdateLead, example = json!({
        "status": "contacted",
        "assignee": "Maria",
        "note": "Left a voicemail; will try again tomorrow morning."
    })),
    responses(
        (status = 200, description = "Where the lead stands now", body = LeadState,
            headers(("ETag" = String, description = "The new version tag")),
            example = json!({
                "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81", "status": "contacted",
                "allowed_transitions": ["qualified", "unqualified", "do_not_contact", "spam"],
                "assignee": "Maria", "version": 4, "updated_at": "2026-03-10T15:20:00Z"
            })),
        (status = 404, description = "No lead has this id"),
        (status = 409, description = "The pipeline does not allow this move (the detail lists \
            the allowed ones), or the number's opt-out stands"),
        (status = 410, description = "The lead was erased"),
        (status = 412, description = "`If-Match` does not match the current version"),
    ),
    security(("api_key" = ["leads:write"])),
)]
#[patch("/leads/{id}")]
pub async fn update_lead(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: Json<UpdateLead>,
) -> Result<HttpResponse, Error> {
    let precondition = caching::if_match(&req)?;
    let patch = patch_of(body.0)?;
    let id = path.into_inner();
    let actor = Actor::from(&caller);
    let now = Utc::now();
    let keys = state.keys()?.clone();
    let lead = db::run(&state.pool, move |conn| {
        service::update(
            conn,
            &keys.suppression,
            id,
            patch,
            precondition.as_ref(),
            &actor,
            now,
        )
    })
    .await?;
    Ok(lead_state(&lead))
}

/// A write's answer: where the lead stands, with its `ETag`.
fn lead_state(lead: &LeadView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, quoted(&lead.version_tag())))
        .json(LeadState::new(lead))
}

fn patch_of(body: UpdateLead) -> Result<Patch, Error> {
    let mut errors = Vec::new();
    let status = body.status.and_then(|name| {
        LeadStatus::parse(name.trim()).or_else(|| {
            errors.push(crate::error::FieldError::new(
                "/status",
                "must be one of new, contacted, qualified, unqualified, closed, \
                     do_not_contact, spam",
            ));
            None
        })
    });
    let assignee = match body.assignee {
        Change::Set(name) => match lead_query::assignee(&name) {
            Ok(name) => Change::Set(name),
            Err(e) => {
                errors.push(crate::error::FieldError::new("/assignee", e));
                Change::Keep
            }
        },
        Change::Clear => Change::Clear,
        Change::Keep => Change::Keep,
    };
    let note = body.note.and_then(|note| {
        lead_query::note(&note)
            .map_err(|e| errors.push(crate::error::FieldError::new("/note", e)))
            .ok()
    });
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(Patch {
        status,
        assignee,
        note,
    })
}

/// Reinstate an opted-out number
///
/// Lifts the opt-out of the lead's number, for when staff are satisfied the person wants to
/// be contacted (an opt-out is public, so anyone may have sent it). The number leaves the
/// suppression list and its leads lose their `opted_out_at` flag; this lead gets a consent
/// record of kind `staff_reinstated` (wording naming the key, with the `reason`) and a
/// `reinstated` activity entry with the reason as its note, and the call is recorded in the
/// access audit as `lead.reinstate`. A `do_not_contact` lead goes back to `new` (the pipeline
/// offers no other way out of `do_not_contact`); any other status stays as it is. The other
/// leads of the number keep their status. A later opt-out suppresses the number again.
/// A number with no opt-out standing (never opted out, or reinstated already) is a 409, so a
/// retry tells you it was done. Send the `ETag` of your last read as `If-Match` to act only on
/// what you saw: a stale one is a 412. The answer holds no personal or health data.
#[utoipa::path(
    tag = "leads",
    params(
        ("id" = Uuid, Path, description = "The lead's id",
            example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"),
        ("If-Match" = Option<String>, Header,
            description = "The `ETag` of your last read; 412 when the lead changed since",
            example = "\"v3\""),
    ),
    request_body(content = ReinstateLead, example = json!({
        "reason": "She called the front desk and asked us to book a consultation."
    })),
    responses(
        (status = 200, description = "Reinstated; where the lead stands now", body = LeadState,
            headers(("ETag" = String, description = "The new version tag")),
            example = json!({
                "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81", "status": "new",
                "allowed_transitions": ["contacted", "do_not_contact", "spam"],
                "assignee": null, "version": 5, "updated_at": "2026-03-12T09:30:00Z"
            })),
        (status = 404, description = "No lead has this id"),
        (status = 409, description = "The lead's number has no opt-out standing"),
        (status = 410, description = "The lead was erased"),
        (status = 412, description = "`If-Match` does not match the current version"),
        (status = 422, description = "`reason` is missing, blank or longer than 500 characters"),
    ),
    security(("api_key" = ["leads:write"])),
)]
#[post("/leads/{id}/reinstate")]
pub async fn reinstate_lead(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: Json<ReinstateLead>,
) -> Result<HttpResponse, Error> {
    let precondition = caching::if_match(&req)?;
    let reason =
        ReinstateReason::parse(&body.0.reason).map_err(|e| Error::invalid("/reason", e))?;
    let id = path.into_inner();
    let actor = Actor::from(&caller);
    let keys = state.keys()?.clone();
    let lead = db::run(&state.pool, move |conn| {
        opt_out::reinstate(
            conn,
            &keys.suppression,
            id,
            &reason,
            precondition.as_ref(),
            &actor,
            Utc::now(),
        )
    })
    .await?;
    Ok(lead_state(&lead))
}

/// Erase a lead
///
/// Forgets the person: name, phone, email, interests and priority, every submission (with
/// messages and attribution), all consent evidence (with IP addresses and user agents),
/// the words of staff notes, and intake's stored answers are removed. An anonymous
/// tombstone stays (id, outcome status, first-touch source, the clinic-local day it was
/// created and how many interests it named) so statistics stay true, with who erased it
/// and when. An opt-out outlives erasure: the suppression list holds only a keyed hash of
/// the number. Recorded in the access audit. Erasing it again is a 410.
#[utoipa::path(
    tag = "leads",
    params(("id" = Uuid, Path, description = "The lead's id",
        example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")),
    responses(
        (status = 200, description = "The tombstone left", body = Tombstone, example = json!({
            "id": "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81", "status": "closed",
            "created_day": "2026-03-10", "interest_count": 2, "source": "google",
            "erased_at": "2026-11-30T09:12:00Z", "erased_by": "Privacy officer"
        })),
        (status = 404, description = "No lead has this id"),
        (status = 410, description = "The lead was already erased"),
    ),
    security(("api_key" = ["admin"])),
)]
#[delete("/leads/{id}")]
pub async fn erase_lead(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = path.into_inner();
    let actor = Actor::from(&caller);
    let task_state = state.clone();
    let tombstone = db::run(&state.pool, move |conn| {
        erasure::erase(conn, &task_state.settings.leads, id, &actor, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Tombstone::from(tombstone)))
}

/// Export leads as CSV
///
/// Every lead matching the filters (those of `GET /v1/leads`; no paging), newest first, as
/// RFC 4180 CSV with a header row: `id, created_at, status, priority, name, phone,
/// phone_e164, email, interests (codes separated by `;`), assignee, source, contact_by,
/// overdue, submission_count, marketing_consent, last_received_at, updated_at, opted_out_at,
/// lead_source`: `opted_out_at` is empty unless an opt-out of the number stands, and
/// `lead_source` is the name of the lead source its first enquiry came through (empty for the
/// site's own form). Cells a
/// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`) are prefixed with
/// `'`. The file is streamed page by page, so exports of any size start at once and use
/// little memory; leads created after the export starts are left out. Recorded in the
/// access audit with the filter and the number of leads.
#[utoipa::path(
    tag = "leads",
    params(FilterParams),
    responses(
        (status = 200, description = "The leads as CSV, streamed (chunked)",
            content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String,
                description = "`attachment; filename=\"leads-<date>.csv\"`")),
            example = json!("id,created_at,status,priority,name,phone,phone_e164,email,interests,assignee,source,contact_by,overdue,submission_count,marketing_consent,last_received_at,updated_at,opted_out_at,lead_source\r\n0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81,2026-03-10T14:59:02Z,new,normal,Jane Doe,(415) 555-2671,'+14155552671,jane@example.com,treatment_resistant_depression;ptsd,,google,2026-03-11T14:00:00Z,false,1,true,2026-03-10T14:59:02Z,2026-03-10T14:59:02Z,,\r\n")),
    ),
    security(("api_key" = ["leads:read"])),
)]
#[get("/leads/export")]
pub async fn export_leads(
    caller: Caller,
    state: web::Data<AppState>,
    filter: web::Query<FilterParams>,
) -> Result<HttpResponse, Error> {
    let query = lead_query(filter.into_inner(), state.settings.leads.default_region)?;
    let actor = Actor::from(&caller);
    let now = Utc::now();
    let (total, first) = db::run(&state.pool, move |conn| {
        service::begin_export(conn, &query, &actor, now)
    })
    .await?;
    tracing::info!(rows = total, "lead export started");
    let pool = state.pool.clone();
    enum Step {
        Ready(ExportPage, bool),
        Fetch(ExportCursor),
    }
    let chunks = futures_util::stream::unfold(Some(Step::Ready(first, true)), move |step| {
        let pool = pool.clone();
        async move {
            let (page, header) = match step? {
                Step::Ready(page, header) => (page, header),
                Step::Fetch(cursor) => {
                    match db::run(&pool, move |conn| service::export_page(conn, cursor)).await {
                        Ok(page) => (page, false),
                        // The response is cut short, so the client sees a broken transfer
                        // rather than a file that looks complete.
                        Err(error) => {
                            tracing::error!(cause = %error, "lead export failed mid-stream");
                            return Some((Err(error), None));
                        }
                    }
                }
            };
            let chunks = csv_chunks(&page.leads, now, header);
            Some((Ok::<_, Error>(chunks), page.next.map(Step::Fetch)))
        }
    })
    .flat_map(|page| {
        futures_util::stream::iter(match page {
            Ok(chunks) => chunks.into_iter().map(Ok).collect(),
            Err(error) => vec![Err(error)],
        })
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"leads-{}.csv\"",
                now.format("%Y-%m-%d")
            ),
        ))
        .streaming(chunks))
}

/// Lead statistics
///
/// The numbers a clinic manager asks for, over the leads created on the clinic-local days
/// `from` to `to` (both optional, inclusive, in the clinic's time zone): counts by status
/// (spam included), and, spam excluded, by interest, by first-touch source and by day, and
/// how many staff first acted on (moved out of `new`, not to spam) on time or late against
/// `contact_by`, plus those still `new`, overdue or not. Erased leads still count by status,
/// source, day and timeliness. No personal data is returned, so this is not audited.
#[utoipa::path(
    tag = "leads",
    params(StatsParams),
    responses(
        (status = 200, description = "The statistics", body = LeadStats, example = json!({
            "time_zone": "America/New_York", "from": "2026-03-01", "to": "2026-03-31",
            "total": 57, "erased": 1,
            "by_status": {"new": 7, "contacted": 10, "qualified": 20, "unqualified": 8,
                "closed": 10, "do_not_contact": 2, "spam": 4},
            "by_interest": [{"key": "treatment_resistant_depression", "count": 31},
                {"key": "ptsd", "count": 22}, {"key": "suicidal_ideation", "count": 6}],
            "by_source": [{"key": "google", "count": 30}, {"key": "facebook", "count": 15},
                {"key": null, "count": 12}],
            "by_day": [{"day": "2026-03-02", "count": 3}, {"day": "2026-03-03", "count": 2}],
            "contact": {"on_time": 40, "late": 8, "overdue": 2, "awaiting": 5}
        })),
    ),
    security(("api_key" = ["leads:read"])),
)]
#[get("/leads/stats")]
pub async fn lead_stats(
    _caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<StatsParams>,
) -> Result<HttpResponse, Error> {
    let StatsParams { from, to } = params.into_inner();
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(Error::BadRequest(
            "`from` must not be after `to`.".to_owned(),
        ));
    }
    let now = Utc::now();
    let task_state = state.clone();
    let stats = db::run(&state.pool, move |conn| {
        service::stats(conn, &task_state.settings.leads, from, to, now)
    })
    .await?;
    let by_key = |rows: Vec<(Option<String>, i64)>| {
        rows.into_iter()
            .map(|(key, count)| CountByKey { key, count })
            .collect()
    };
    Ok(HttpResponse::Ok().json(LeadStats {
        time_zone: state.settings.leads.calendar.time_zone().name().to_owned(),
        from: stats.first_day,
        to: stats.last_day,
        total: stats.totals.total,
        erased: stats.totals.erased,
        by_status: stats
            .by_status
            .into_iter()
            .map(|(status, count)| (status.as_str().to_owned(), count))
            .collect(),
        by_interest: by_key(
            stats
                .by_interest
                .into_iter()
                .map(|(key, count)| (Some(key), count))
                .collect(),
        ),
        by_source: by_key(stats.by_source),
        by_day: stats
            .by_day
            .into_iter()
            .map(|(day, count)| CountByDay { day, count })
            .collect(),
        contact: ContactTimeliness {
            on_time: stats.totals.on_time,
            late: stats.totals.late,
            overdue: stats.totals.overdue,
            awaiting: stats.totals.awaiting,
        },
    }))
}
