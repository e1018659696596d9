//! `/v1/articles`: the public blog (no key) and the editors' write API (`content:write`).

mod requests;
mod responses;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Duration, Utc};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::config::ContentSettings;
use crate::db;
use crate::domain::api_key::Caller;
use crate::domain::article::{Content, ContentPatch, Lifecycle, Status};
use crate::domain::cursor::Cursor;
use crate::domain::text;
use crate::error::Error;
use crate::routes::auth::MaybeCaller;
use crate::routes::caching::{self, Audience, Cacheable};
use crate::routes::extract::{Json, OptionalJson};
use crate::routes::state::AppState;
use crate::services::articles::{
    self as service, Action, ArticleView, Found, ListQuery, Page, Reader,
};

use requests::*;
use responses::*;

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(list_articles)
        .service(create_article)
        .service(get_article)
        .service(related_articles)
        .service(update_article)
        .service(delete_article)
        .service(publish_article)
        .service(schedule_article)
        .service(unpublish_article)
        .service(archive_article)
        .service(create_preview_token);
}

/// Whose view of the articles this request gets.
fn reader(
    caller: &MaybeCaller,
    preview_token: Option<&str>,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<Reader, Error> {
    // A sent key has passed the operation's documented scope check.
    if caller.0.is_some() {
        return Ok(Reader::Editor);
    }
    let Some(token) = preview_token else {
        return Ok(Reader::Public);
    };
    let grant = state
        .keys()?
        .preview
        .verify(token, now)
        .map_err(|_| Error::Unauthorized("The preview token is not valid or has expired."))?;
    Ok(Reader::Preview {
        article_id: grant.article_id,
    })
}

fn redirect(req: &HttpRequest, location: String, cache_control: &str) -> HttpResponse {
    let location = match req.query_string() {
        "" => location,
        query => format!("{location}?{query}"),
    };
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, cache_control.to_owned()))
        .finish()
}

/// List articles
///
/// The blog index, tag pages, author pages and search. Without `status`, only articles the
/// public can read now are listed: published, or scheduled with `published_at` passed; a key
/// changes nothing. Newest first, or by relevance with `q`. Pages are keyset-paginated: follow
/// `next_cursor` (also sent as a `Link: <…>; rel="next"` header) with the same filters; a page
/// costs the same however deep it is, and articles published meanwhile never shift later
/// pages. A `limit` outside 1–100, a `q` over 200 characters or an undecodable `cursor` is a
/// 400.
///
/// With `status` and a `content:write` key (the CMS), articles in those statuses are listed
/// instead, most recently created first (or by relevance with `q`), marked
/// `Cache-Control: private, no-store`. `status` without a key is a 401, with a key lacking
/// `content:write` a 403. A cursor works only in the kind of list that gave it.
#[utoipa::path(
    tag = "articles",
    params(ListParams),
    responses(
        (status = 200, description = "A page of article summaries", body = ArticleList,
            headers(
                ("ETag" = String, description = "Strong validator of this page"),
                ("Last-Modified" = String, description = "The latest change among the listed articles"),
                ("Cache-Control" = String, description = "`BEACON_PUBLIC_CACHE_CONTROL`, or `private, no-store` with `status`"),
                ("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"),
            ),
            examples(
                ("index" = (summary = "The blog index", value = json!(crate::routes::examples::article_list()))),
                ("search" = (summary = "Searching with `q=ketamine`: hits carry a snippet", value = json!(crate::routes::examples::search_results())))
            )),
        (status = 304, description = "The page has not changed since the `If-None-Match` ETag"),
        (status = 400, description = "A bad `limit`, `q`, `cursor` or `status`"),
        (status = 401, description = "`status` without a valid key"),
        (status = 403, description = "`status` with a key lacking `content:write`"),
    ),
    security(("api_key" = ["content:write"]), ()),
)]
#[get("/articles")]
pub async fn list_articles(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let params = params.into_inner();
    // Only the editors' list needs the key: without `status` the key is not even looked up,
    // so the public list answers exactly as it does without one.
    let editor = params.status.is_some();
    if editor {
        Caller::extract(&req).await?;
    }
    let query = list_query(params)?;
    let pool = state.pool_for_read(!editor);
    let page: Page = db::run(pool, move |conn| service::list(conn, &query, now)).await?;
    let content = &state.settings.content;
    let last_modified = page
        .items
        .iter()
        .map(|item| last_modified(item.updated_at, item.published_at, now))
        .max();
    let next_cursor = page.next.map(|cursor| cursor.encode());
    let body = ArticleList {
        items: page
            .items
            .into_iter()
            .map(|item| ArticleSummary::new(item, content, now))
            .collect(),
        next_cursor: next_cursor.clone(),
    };
    let audience = if editor {
        Audience::Private
    } else {
        Audience::Public(&content.public_cache_control)
    };
    let mut response = Cacheable {
        audience,
        etag: None,
        last_modified,
    }
    .respond(&req, &body)?;
    if let Some(link) = next_cursor.and_then(|cursor| caching::next_link(&req, &cursor)) {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

fn list_query(params: ListParams) -> Result<ListQuery, Error> {
    let limit = caching::page_limit(params.limit, service::LIMIT_DEFAULT, service::LIMIT_MAX)?;
    let after = params
        .cursor
        .as_deref()
        .map(Cursor::decode)
        .transpose()
        .map_err(|e| Error::BadRequest(format!("`cursor` {e}.")))?;
    // An empty search box lists everything rather than failing.
    let q = params
        .q
        .filter(|q| !q.trim().is_empty())
        .map(|q| text::single_line(&q, service::SEARCH_MAX_CHARS))
        .transpose()
        .map_err(|e| Error::BadRequest(format!("`q` {e}.")))?;
    let statuses = params
        .status
        .as_deref()
        .map(Status::parse_list)
        .transpose()
        .map_err(|e| Error::BadRequest(format!("`status` {e}.")))?;
    // A malformed slug cannot match anything; no need to refuse it.
    let slug = |value: Option<String>| value.map(|v| v.trim().to_owned());
    Ok(ListQuery {
        statuses,
        tag: slug(params.tag),
        featured: params.featured,
        author: slug(params.author),
        published_after: params.published_after,
        published_before: params.published_before,
        q,
        after,
        limit,
    })
}

/// Get an article
///
/// One article, whole, by slug (or id). The public sees only published articles (and
/// scheduled ones once their time has come); anything else is a 404. An old slug answers 301
/// with the current address in `Location`. With a `content:write` key, or a valid
/// `preview_token` for this article, drafts, scheduled and archived articles are shown too,
/// marked `Cache-Control: private, no-store`; the keyed `ETag` is the one `If-Match` expects.
#[utoipa::path(
    tag = "articles",
    params(
        ("article" = String, Path, description = "The article's slug (current or old) or id",
            example = "ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors"),
        ArticleParams,
    ),
    responses(
        (status = 200, description = "The article", body = Article,
            headers(
                ("ETag" = String, description = "Strong validator; with a key, the article's version tag for `If-Match`"),
                ("Last-Modified" = String, description = "When the article last changed for readers"),
                ("Cache-Control" = String, description = "`BEACON_PUBLIC_CACHE_CONTROL`, or `private, no-store` with a key or preview token"),
            ),
            example = json!(crate::routes::examples::article())),
        (status = 301, description = "An old slug: the article moved to `Location`",
            headers(("Location" = String, description = "`/v1/articles/<current-slug>`"))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 404, description = "No article the caller may read has this slug or id"),
    ),
    security(("api_key" = ["content:write"]), ()),
)]
#[get("/articles/{article}")]
pub async fn get_article(
    req: HttpRequest,
    caller: MaybeCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<ArticleParams>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let content = &state.settings.content;
    let reader = reader(&caller, params.preview_token.as_deref(), &state, now)?;
    let key = path.into_inner();
    let pool = state.pool_for_read(reader == Reader::Public);
    let found = db::run(pool, move |conn| service::find(conn, &key, reader, now)).await?;
    let view = match found {
        Found::Moved(slug) => {
            return Ok(redirect(
                &req,
                format!("/v1/articles/{slug}"),
                cache_control_for(reader, content),
            ));
        }
        Found::Article(view) => view,
    };
    let modified = last_modified(view.updated_at, view.published_at, now);
    let cacheable = match reader {
        Reader::Public => Cacheable {
            audience: Audience::Public(&content.public_cache_control),
            etag: None,
            last_modified: Some(modified),
        },
        Reader::Editor | Reader::Preview { .. } => Cacheable {
            audience: Audience::Private,
            etag: Some(caching::quoted(&view.version_tag(now))),
            last_modified: Some(modified),
        },
    };
    cacheable.respond(&req, &Article::new(view, content, now)?)
}

fn cache_control_for(reader: Reader, content: &ContentSettings) -> &str {
    match reader {
        Reader::Public => &content.public_cache_control,
        Reader::Editor | Reader::Preview { .. } => "private, no-store",
    }
}

/// List related articles
///
/// Up to `limit` published articles for a "read next" block: those sharing the most tags with
/// this one first, then the newest; articles sharing no tag fill the remaining places, newest
/// first. The article itself is never listed. Same visibility rules, redirects and caching as
/// getting the article.
#[utoipa::path(
    tag = "articles",
    params(
        ("article" = String, Path, description = "The article's slug (current or old) or id",
            example = "ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors"),
        RelatedParams,
    ),
    responses(
        (status = 200, description = "Related article summaries", body = RelatedList,
            headers(
                ("ETag" = String, description = "Strong validator"),
                ("Cache-Control" = String, description = "`BEACON_PUBLIC_CACHE_CONTROL`, or `private, no-store` with a key"),
            ),
            example = json!(crate::routes::examples::related_list())),
        (status = 301, description = "An old slug: see `Location`",
            headers(("Location" = String, description = "`/v1/articles/<current-slug>/related`"))),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 404, description = "No article the caller may read has this slug or id"),
    ),
    security(("api_key" = ["content:write"]), ()),
)]
#[get("/articles/{article}/related")]
pub async fn related_articles(
    req: HttpRequest,
    caller: MaybeCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: web::Query<RelatedParams>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let content = &state.settings.content;
    let reader = reader(&caller, None, &state, now)?;
    let limit = caching::page_limit(params.limit, service::RELATED_DEFAULT, service::RELATED_MAX)?;
    let key = path.into_inner();
    let pool = state.pool_for_read(reader == Reader::Public);
    let found = db::run(pool, move |conn| {
        service::related(conn, &key, limit, reader, now)
    })
    .await?;
    let items = match found {
        Found::Moved(slug) => {
            return Ok(redirect(
                &req,
                format!("/v1/articles/{slug}/related"),
                cache_control_for(reader, content),
            ));
        }
        Found::Article(items) => items,
    };
    let last_modified = items
        .iter()
        .map(|item| last_modified(item.updated_at, item.published_at, now))
        .max();
    let body = RelatedList {
        items: items
            .into_iter()
            .map(|item| ArticleSummary::new(item, content, now))
            .collect(),
        next_cursor: None,
    };
    let audience = match reader {
        Reader::Public => Audience::Public(&content.public_cache_control),
        _ => Audience::Private,
    };
    Cacheable {
        audience,
        etag: None,
        last_modified,
    }
    .respond(&req, &body)
}

/// Create an article
///
/// Validates every field (all errors come back at once, each with a JSON Pointer), renders
/// and sanitises the body, derives the slug and excerpt when not given, and creates unknown
/// tags. `status` is `draft` by default; `published` goes live at once (or at a past
/// `published_at`); `scheduled` goes live at `published_at` by itself. A slug another article
/// uses is a 409.
#[utoipa::path(
    tag = "articles",
    request_body(content = CreateArticle, example = json!({
        "title": "Ketamine and PTSD: a ray of hope for trauma survivors",
        "body_markdown": "For many trauma survivors, standard treatments bring only partial relief.\n\n## How ketamine helps\n\n1. **Fast relief.** Some patients notice changes within days.\n2. **Neuroplasticity.** Ketamine may help the brain form new connections.\n\n## Next steps\n\n- [ ] Talk to your psychiatrist\n- [ ] Book a consultation",
        "tags": ["PTSD", "Ketamine therapy"],
        "author": {"name": "Dr. Maya Patel", "credentials": "MD"},
        "reviewed_by": "Dr. Sam Okafor, MD",
        "last_reviewed_at": "2026-11-20T09:00:00Z",
        "cover_image": {"url": "https://cdn.clinic.example/images/ptsd-hope.jpg", "alt": "Sunlight through trees", "width": 1600, "height": 900},
        "status": "published"
    })),
    responses(
        (status = 201, description = "The new article", body = Article,
            headers(
                ("Location" = String, description = "`/v1/articles/<id>`"),
                ("ETag" = String, description = "The version tag, for `If-Match`"),
            ),
            example = json!(crate::routes::examples::article())),
        (status = 409, description = "The slug is already used by another article"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles")]
pub async fn create_article(
    _caller: Caller,
    state: web::Data<AppState>,
    body: Json<CreateArticle>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let (input, status, published_at) = body.0.into_parts();
    let content = Content::parse(input, now);
    let lifecycle = Lifecycle::initial(status, published_at, now);
    let (content, lifecycle) = match (content, lifecycle) {
        (Ok(content), Ok(lifecycle)) => (content, lifecycle),
        (content, lifecycle) => {
            let errors = [content.err(), lifecycle.err()]
                .into_iter()
                .flatten()
                .flatten();
            return Err(service::invalid(errors.collect()));
        }
    };
    let view = db::run(&state.pool, move |conn| {
        service::create(conn, content, lifecycle, now)
    })
    .await?;
    let tag = view.version_tag(now);
    let article = Article::new(view, &state.settings.content, now)?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/v1/articles/{}", article.id)));
    Ok(caching::versioned(response, &tag, &article))
}

/// Update an article
///
/// A partial update: fields left out stay as they are, `null` clears optional fields. The
/// body is rendered again and the version goes up. A new slug keeps the old one answering 301.
/// Send the `ETag` of your last read as `If-Match` to avoid overwriting someone else's
/// change: a stale one is a 412. Changing the status is done with the lifecycle actions.
#[utoipa::path(
    tag = "articles",
    params(
        ("article" = Uuid, Path, description = "The article's id",
            example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"),
        ("If-Match" = Option<String>, Header,
            description = "The `ETag` of your last keyed read or write; 412 when the article changed since",
            example = "\"mC9hQ2ZkX3sRk0VqU1b4yA\""),
    ),
    request_body(content = UpdateArticle, example = json!({
        "title": "Ketamine and PTSD: new hope for trauma survivors",
        "tags": ["PTSD", "Ketamine therapy", "Research"],
        "subtitle": null
    })),
    responses(
        (status = 200, description = "The updated article", body = Article,
            headers(("ETag" = String, description = "The new version tag")),
            example = json!(crate::routes::examples::article())),
        (status = 404, description = "No article has this id"),
        (status = 409, description = "The new slug is used by another article"),
        (status = 412, description = "`If-Match` does not match the current version"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[patch("/articles/{article}")]
pub async fn update_article(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: Json<UpdateArticle>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let precondition = caching::if_match(&req)?;
    let id = path.into_inner();
    let patch = ContentPatch::from(body.0);
    let view = db::run(&state.pool, move |conn| {
        service::update(conn, id, patch, precondition.as_ref(), now)
    })
    .await?;
    written(view, &state.settings.content, now)
}

fn written(
    view: ArticleView,
    content: &ContentSettings,
    now: DateTime<Utc>,
) -> Result<HttpResponse, Error> {
    let tag = view.version_tag(now);
    let article = Article::new(view, content, now)?;
    Ok(caching::versioned(HttpResponse::Ok(), &tag, &article))
}

/// Delete an article
///
/// Removes the article, its tag links and its old slugs for good; its URLs then answer 404.
/// To take an article down but keep it, archive or unpublish it instead.
#[utoipa::path(
    tag = "articles",
    params(
        ("article" = Uuid, Path, description = "The article's id",
            example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"),
        ("If-Match" = Option<String>, Header,
            description = "The `ETag` of your last keyed read or write; 412 when the article changed since",
            example = "\"mC9hQ2ZkX3sRk0VqU1b4yA\""),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No article has this id"),
        (status = 412, description = "`If-Match` does not match the current version"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[delete("/articles/{article}")]
pub async fn delete_article(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let precondition = caching::if_match(&req)?;
    let id = path.into_inner();
    db::run(&state.pool, move |conn| {
        service::delete(conn, id, precondition.as_ref(), now)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn act(
    req: &HttpRequest,
    state: &AppState,
    id: Uuid,
    action: Action,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let precondition = caching::if_match(req)?;
    let view = db::run(&state.pool, move |conn| {
        service::transition(conn, id, action, precondition.as_ref(), now)
    })
    .await?;
    written(view, &state.settings.content, now)
}

/// Publish an article
///
/// Makes the article public now. An article published before keeps its first publication
/// date unless `published_at` (not in the future) is sent to set another. Publishing a
/// published article changes nothing but the version.
#[utoipa::path(
    tag = "articles",
    params(
        ("article" = Uuid, Path, description = "The article's id",
            example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"),
        ("If-Match" = Option<String>, Header,
            description = "The `ETag` of your last keyed read or write; 412 when the article changed since",
            example = "\"mC9hQ2ZkX3sRk0VqU1b4yA\""),
    ),
    request_body(content = Option<PublishArticle>, description = "Optional",
        example = json!({"published_at": "2026-11-01T08:00:00Z"})),
    responses(
        (status = 200, description = "The published article", body = Article,
            headers(("ETag" = String, description = "The new version tag")),
            example = json!(crate::routes::examples::article())),
        (status = 404, description = "No article has this id"),
        (status = 412, description = "`If-Match` does not match the current version"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/publish")]
pub async fn publish_article(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: OptionalJson<PublishArticle>,
) -> Result<HttpResponse, Error> {
    let at = body.0.and_then(|body| body.published_at);
    act(&req, &state, path.into_inner(), Action::Publish(at)).await
}

/// Schedule an article
///
/// Hides the article until `published_at` (in the future), when it goes live by itself on
/// every replica: no job runs, reads compare `published_at` with the clock.
#[utoipa::path(
    tag = "articles",
    params(
        ("article" = Uuid, Path, description = "The article's id",
            example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"),
        ("If-Match" = Option<String>, Header,
            description = "The `ETag` of your last keyed read or write; 412 when the article changed since",
            example = "\"mC9hQ2ZkX3sRk0VqU1b4yA\""),
    ),
    request_body(content = ScheduleArticle, example = json!({"published_at": "2026-12-15T08:00:00Z"})),
    responses(
        (status = 200, description = "The scheduled article", body = Article,
            headers(("ETag" = String, description = "The new version tag")),
            example = json!(crate::routes::examples::article())),
        (status = 404, description = "No article has this id"),
        (status = 412, description = "`If-Match` does not match the current version"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/schedule")]
pub async fn schedule_article(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: Json<ScheduleArticle>,
) -> Result<HttpResponse, Error> {
    let action = Action::Schedule(body.0.published_at);
    act(&req, &state, path.into_inner(), action).await
}

/// Unpublish an article
///
/// Turns the article back into a draft: it disappears from the public at once and its
/// publication date is cleared (publishing it again dates it anew).
#[utoipa::path(
    tag = "articles",
    params(
        ("article" = Uuid, Path, description = "The article's id",
            example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"),
        ("If-Match" = Option<String>, Header,
            description = "The `ETag` of your last keyed read or write; 412 when the article changed since",
            example = "\"mC9hQ2ZkX3sRk0VqU1b4yA\""),
    ),
    responses(
        (status = 200, description = "The article, now a draft", body = Article,
            headers(("ETag" = String, description = "The new version tag")),
            example = json!(crate::routes::examples::article())),
        (status = 404, description = "No article has this id"),
        (status = 412, description = "`If-Match` does not match the current version"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/unpublish")]
pub async fn unpublish_article(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    act(&req, &state, path.into_inner(), Action::Unpublish).await
}

/// Archive an article
///
/// Takes the article off the public site but keeps it, with its publication date, for the
/// record. Publish it again to restore it.
#[utoipa::path(
    tag = "articles",
    params(
        ("article" = Uuid, Path, description = "The article's id",
            example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81"),
        ("If-Match" = Option<String>, Header,
            description = "The `ETag` of your last keyed read or write; 412 when the article changed since",
            example = "\"mC9hQ2ZkX3sRk0VqU1b4yA\""),
    ),
    responses(
        (status = 200, description = "The archived article", body = Article,
            headers(("ETag" = String, description = "The new version tag")),
            example = json!(crate::routes::examples::article())),
        (status = 404, description = "No article has this id"),
        (status = 412, description = "`If-Match` does not match the current version"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/archive")]
pub async fn archive_article(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    act(&req, &state, path.into_inner(), Action::Archive).await
}

/// Create a preview token
///
/// A signed token (HMAC-SHA256 over the article id and expiry) that lets anyone holding it
/// read this article, whatever its status, with `GET /v1/articles/{article}?preview_token=…`
/// until it expires. Nothing is stored; tokens cannot be revoked one by one (rotating
/// `BEACON_PREVIEW_SECRET` revokes them all).
#[utoipa::path(
    tag = "articles",
    params(("article" = Uuid, Path, description = "The article's id",
            example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")),
    request_body(content = Option<PreviewTokenRequest>, description = "Optional",
        example = json!({"expires_in_seconds": 3600})),
    responses(
        (status = 201, description = "The token", body = PreviewToken,
            example = json!(crate::routes::examples::preview_token())),
        (status = 404, description = "No article has this id"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/preview-token")]
pub async fn create_preview_token(
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: OptionalJson<PreviewTokenRequest>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let content = &state.settings.content;
    let max = content.preview_ttl.as_secs();
    let seconds = match body.0.and_then(|body| body.expires_in_seconds) {
        None => max,
        Some(seconds) if (60..=max).contains(&u64::from(seconds)) => u64::from(seconds),
        Some(_) => {
            return Err(Error::invalid(
                "/expires_in_seconds",
                format!("must be between 60 and {max}"),
            ));
        }
    };
    let ttl = Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX));
    let key = state.keys()?.preview.clone();
    let id = path.into_inner();
    let issued = db::run(&state.pool, move |conn| {
        service::preview_token(conn, id, &key, ttl, now)
    })
    .await?;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("preview_token", &issued.token)
        .finish();
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(PreviewToken {
            url: format!("{}?{query}", content.site.article(&issued.slug)),
            api_url: format!("/v1/articles/{}?{query}", issued.slug),
            token: issued.token,
            expires_at: issued.expires_at,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_article_was_last_modified_when_it_went_live() {
        let edited = DateTime::from_timestamp(1_000, 0).unwrap();
        let live = DateTime::from_timestamp(2_000, 0).unwrap();
        assert_eq!(last_modified(edited, Some(live), live), live);
        assert_eq!(last_modified(edited, Some(live), edited), edited);
        assert_eq!(last_modified(live, Some(edited), live), live);
    }
}
