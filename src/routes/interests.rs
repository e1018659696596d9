//! `/v1/interests`: the conditions a lead form offers. Public to read, so forms can render their
//! checklist; `admin` adds, relabels, reorders and deactivates them.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db;
use crate::domain::api_key::Caller;
use crate::error::Error;
use crate::routes::auth::MaybeCaller;
use crate::routes::caching::{Audience, Cacheable};
use crate::routes::extract::Json;
use crate::routes::state::AppState;
use crate::services::interests::{self, InterestUpdate, InterestView, NewInterest};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(list_interests)
        .service(create_interest)
        .service(update_interest);
}

/// One condition a lead form can ask about.
#[derive(Serialize, ToSchema)]
pub struct Interest {
    /// Sent back in a lead's `interests`.
    #[schema(example = "treatment_resistant_depression")]
    code: String,
    /// What the form shows next to the checkbox.
    #[schema(example = "Treatment-resistant depression")]
    label: String,
    /// Inactive interests are not listed for forms but are still accepted in leads, so pages
    /// cached before a change keep working.
    #[schema(example = true)]
    active: bool,
    /// The checklist's order (ascending, then by code).
    #[schema(example = 1)]
    position: i32,
    updated_at: DateTime<Utc>,
}

impl From<InterestView> for Interest {
    fn from(interest: InterestView) -> Self {
        Self {
            code: interest.code,
            label: interest.label,
            active: interest.active,
            position: interest.position,
            updated_at: interest.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InterestList {
    items: Vec<Interest>,
    /// Always null: every interest fits on one page.
    next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InterestFilter {
    /// Also list deactivated interests (default `false`); needs an `admin` key.
    #[param(example = false)]
    include_inactive: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInterest {
    /// Lowercase letters, digits and underscores, starting with a letter; 1–64 characters.
    /// Cannot be changed later.
    #[schema(example = "generalized_anxiety")]
    code: String,
    /// 1–100 characters.
    #[schema(example = "Generalized anxiety disorder")]
    label: String,
    /// 0–10000; default 0.
    #[schema(example = 4)]
    position: Option<i32>,
}

/// Only the fields sent change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInterest {
    #[schema(example = "PTSD (post-traumatic stress disorder)")]
    label: Option<String>,
    /// `false` hides the interest from forms; leads may still name it.
    #[schema(example = false)]
    active: Option<bool>,
    #[schema(example = 2)]
    position: Option<i32>,
}

/// List interests
///
/// The active interests in the form's order, for rendering the checklist of a lead form.
/// Public and cacheable for a minute. With `include_inactive=true` (an `admin` key is then
/// required) deactivated interests are listed too.
#[utoipa::path(
    tag = "interests",
    params(InterestFilter),
    responses(
        (status = 200, description = "The interests", body = InterestList,
            headers(
                ("ETag" = String, description = "Strong validator"),
                ("Cache-Control" = String, description = "`public, max-age=60`, or `private, no-store` with `include_inactive`"),
            ),
            example = json!({
            "items": [
                {"code": "treatment_resistant_depression", "label": "Treatment-resistant depression",
                 "active": true, "position": 1, "updated_at": "2026-11-29T20:00:00Z"},
                {"code": "suicidal_ideation", "label": "Suicidal ideation",
                 "active": true, "position": 2, "updated_at": "2026-11-29T20:00:00Z"},
                {"code": "ptsd", "label": "Post-traumatic stress disorder",
                 "active": true, "position": 3, "updated_at": "2026-11-29T20:00:00Z"}
            ],
            "next_cursor": null
        })),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 401, description = "`include_inactive=true` without a valid API key"),
        (status = 403, description = "`include_inactive=true` with a key lacking `admin`"),
    ),
    security(("api_key" = ["admin"]), ()),
)]
#[get("/interests")]
pub async fn list_interests(
    req: HttpRequest,
    state: web::Data<AppState>,
    filter: web::Query<InterestFilter>,
) -> Result<HttpResponse, Error> {
    let include_inactive = filter.include_inactive.unwrap_or(false);
    // Only the staff list needs the key: the public list answers as it does without one.
    if include_inactive {
        MaybeCaller::extract(&req)
            .await?
            .0
            .ok_or(Error::Unauthorized(
                "Listing inactive interests needs an `admin` key as `Authorization: Bearer <key>`.",
            ))?;
    }
    let pool = state.pool_for_read(!include_inactive);
    let rows = db::run(pool, move |conn| interests::list(conn, include_inactive)).await?;
    let audience = if include_inactive {
        Audience::Private
    } else {
        Audience::Public("public, max-age=60")
    };
    Cacheable {
        audience,
        etag: None,
        last_modified: None,
    }
    .respond(
        &req,
        &InterestList {
            items: rows.into_iter().map(Interest::from).collect(),
            next_cursor: None,
        },
    )
}

/// Add an interest
///
/// Adds a condition to the list forms render. Its code is permanent; the label, position and
/// active flag can be changed later.
#[utoipa::path(
    tag = "interests",
    request_body(content = CreateInterest, example = json!({
        "code": "generalized_anxiety", "label": "Generalized anxiety disorder", "position": 4
    })),
    responses(
        (status = 201, description = "The new interest", body = Interest,
            headers(("Location" = String, description = "The interest's address")),
            example = json!({
                "code": "generalized_anxiety", "label": "Generalized anxiety disorder",
                "active": true, "position": 4, "updated_at": "2026-11-29T15:04:05Z"
            })),
        (status = 409, description = "An interest with this code already exists"),
    ),
    security(("api_key" = ["admin"])),
)]
#[post("/interests")]
pub async fn create_interest(
    _caller: Caller,
    state: web::Data<AppState>,
    body: Json<CreateInterest>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let interest = NewInterest::parse(&body.code, &body.label, body.position)?;
    let row = db::run(&state.pool, move |conn| interests::create(conn, interest)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/interests/{}", row.code)))
        .json(Interest::from(row)))
}

/// Change an interest
///
/// Relabels, reorders, deactivates or reactivates an interest; fields left out stay as they
/// are. A deactivated interest disappears from forms but leads may still name it.
#[utoipa::path(
    tag = "interests",
    params(("code" = String, Path, description = "The interest's code")),
    request_body(content = UpdateInterest, example = json!({"label": "PTSD (post-traumatic stress disorder)"})),
    responses(
        (status = 200, description = "The interest as changed", body = Interest,
            example = json!({
                "code": "ptsd", "label": "PTSD (post-traumatic stress disorder)",
                "active": true, "position": 3, "updated_at": "2026-11-29T15:04:05Z"
            })),
        (status = 404, description = "No interest has this code"),
    ),
    security(("api_key" = ["admin"])),
)]
#[patch("/interests/{code}")]
pub async fn update_interest(
    _caller: Caller,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: Json<UpdateInterest>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let update = InterestUpdate::parse(body.label.as_deref(), body.active, body.position)?;
    let code = code.into_inner();
    let row = db::run(&state.pool, move |conn| {
        interests::update(conn, &code, update)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Interest::from(row)))
}
