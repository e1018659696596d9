//! `/v1/tags`: tags with their article counts (public), renamed and deleted with `content:write`.
//! Tags are created by naming them on an article.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db;
use crate::domain::api_key::Caller;
use crate::domain::article::TagChanges;
use crate::domain::change::Change;
use crate::error::Error;
use crate::routes::auth::MaybeCaller;
use crate::routes::caching::{Audience, Cacheable};
use crate::routes::extract::Json;
use crate::routes::state::AppState;
use crate::services::articles::invalid;
use crate::services::tags::{self, TagWithCount};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(list_tags)
        .service(get_tag)
        .service(update_tag)
        .service(delete_tag);
}

/// A tag and how many articles the public can read under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Tag {
    /// Use it in `GET /v1/articles?tag=`.
    #[schema(example = "ketamine-therapy")]
    slug: String,
    /// Display name.
    #[schema(example = "Ketamine therapy")]
    name: String,
    /// Plain text for the tag page.
    #[schema(example = "How ketamine-assisted treatment works and who it may help.")]
    description: Option<String>,
    /// Published articles carrying the tag, now.
    #[schema(example = 4)]
    article_count: i64,
}

impl From<TagWithCount> for Tag {
    fn from(tag: TagWithCount) -> Self {
        Tag {
            slug: tag.tag.slug,
            name: tag.tag.name,
            description: tag.tag.description,
            article_count: tag.article_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagList {
    /// Tags by name.
    items: Vec<Tag>,
    /// Always null: every tag fits on one page.
    #[schema(example = json!(null))]
    next_cursor: Option<String>,
}

/// Changes to a tag; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTag {
    /// 1–60 characters.
    #[schema(example = "Ketamine-assisted therapy")]
    name: Option<String>,
    /// A new slug (lowercase letters, digits, single hyphens). Links with the old slug stop
    /// working.
    #[schema(example = "ketamine-assisted-therapy")]
    slug: Option<String>,
    /// Up to 500 characters; `null` or blank removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "How ketamine-assisted treatment works and who it may help.")]
    description: Change<String>,
}

/// A sent key has passed the documented `content:write` check, so it may see unused tags.
fn is_editor(caller: &MaybeCaller) -> bool {
    caller.0.is_some()
}

fn audience(editor: bool, public: &str) -> Audience<'_> {
    if editor {
        Audience::Private
    } else {
        Audience::Public(public)
    }
}

/// List tags
///
/// Every tag with its count of published articles, by name, for a tag cloud or a filter menu.
/// The public sees only tags with at least one published article; a `content:write` key
/// sees all (marked `Cache-Control: private, no-store`).
#[utoipa::path(
    tag = "tags",
    responses(
        (status = 200, description = "The tags", body = TagList,
            headers(
                ("ETag" = String, description = "Strong validator"),
                ("Cache-Control" = String, description = "`BEACON_PUBLIC_CACHE_CONTROL`, or `private, no-store` with a key"),
            ),
            example = json!(crate::routes::examples::tag_list())),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
    ),
    security(("api_key" = ["content:write"]), ()),
)]
#[get("/tags")]
pub async fn list_tags(
    req: HttpRequest,
    caller: MaybeCaller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let editor = is_editor(&caller);
    let now = Utc::now();
    let pool = state.pool_for_read(!editor);
    let found = db::run(pool, move |conn| tags::list(conn, editor, now)).await?;
    let last_modified = found.iter().map(|tag| tag.tag.updated_at).max();
    let body = TagList {
        items: found.into_iter().map(Tag::from).collect(),
        next_cursor: None,
    };
    Cacheable {
        audience: audience(editor, &state.settings.content.public_cache_control),
        etag: None,
        last_modified,
    }
    .respond(&req, &body)
}

/// Get a tag
///
/// One tag with its count of published articles, for a tag page's heading; list its articles
/// with `GET /v1/articles?tag=<slug>`. Tags without published articles are 404 to the public.
#[utoipa::path(
    tag = "tags",
    params(("slug" = String, Path, description = "The tag's slug", example = "ptsd")),
    responses(
        (status = 200, description = "The tag", body = Tag,
            headers(
                ("ETag" = String, description = "Strong validator"),
                ("Cache-Control" = String, description = "`BEACON_PUBLIC_CACHE_CONTROL`, or `private, no-store` with a key"),
            ),
            example = json!(crate::routes::examples::tag())),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 404, description = "No such tag (or, for the public, none with published articles)"),
    ),
    security(("api_key" = ["content:write"]), ()),
)]
#[get("/tags/{slug}")]
pub async fn get_tag(
    req: HttpRequest,
    caller: MaybeCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let editor = is_editor(&caller);
    let now = Utc::now();
    let slug = path.into_inner();
    let pool = state.pool_for_read(!editor);
    let found = db::run(pool, move |conn| tags::find(conn, &slug, editor, now)).await?;
    let last_modified = Some(found.tag.updated_at);
    Cacheable {
        audience: audience(editor, &state.settings.content.public_cache_control),
        etag: None,
        last_modified,
    }
    .respond(&req, &Tag::from(found))
}

/// Update a tag
///
/// Renames a tag, changes its slug or description. Every article carrying it gets a new
/// version (their ETags change). Another tag's slug is a 409.
#[utoipa::path(
    tag = "tags",
    params(("slug" = String, Path, description = "The tag's slug", example = "ketamine-therapy")),
    request_body(content = UpdateTag, example = json!({
        "name": "Ketamine-assisted therapy",
        "description": "How ketamine-assisted treatment works and who it may help."
    })),
    responses(
        (status = 200, description = "The updated tag", body = Tag,
            example = json!(crate::routes::examples::tag())),
        (status = 404, description = "No tag has this slug"),
        (status = 409, description = "The new slug belongs to another tag"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[patch("/tags/{slug}")]
pub async fn update_tag(
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Json<UpdateTag>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let changes = TagChanges::parse(body.name, body.slug, body.description).map_err(invalid)?;
    let now = Utc::now();
    let slug = path.into_inner();
    let found = db::run(&state.pool, move |conn| {
        let updated = tags::update(conn, &slug, changes, now)?;
        tags::find(conn, &updated.slug, true, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Tag::from(found)))
}

/// Delete a tag
///
/// Removes the tag from every article (each gets a new version) and deletes it.
#[utoipa::path(
    tag = "tags",
    params(("slug" = String, Path, description = "The tag's slug", example = "ketamine-therapy")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No tag has this slug"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[delete("/tags/{slug}")]
pub async fn delete_tag(
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let slug = path.into_inner();
    db::run(&state.pool, move |conn| tags::delete(conn, &slug, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}
