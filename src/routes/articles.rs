//! `/v1/articles`: the public blog (no key) and the editors' write API (`content:write`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::{Caller, MaybeCaller, Scope};
use crate::config::ContentSettings;
use crate::db::tags::TagRow;
use crate::db::{self, articles::ListFilter, articles::SummaryRow};
use crate::domain::article::{
    AuthorInput, Change, Content, ContentInput, ContentPatch, CoverImageInput, InitialStatus,
    Lifecycle, Status,
};
use crate::domain::cursor::Cursor;
use crate::domain::share::{ArticleMeta, ResolvedSeo, Share as DomainShare};
use crate::domain::text;
use crate::error::Error;
use crate::routes::caching::{self, Audience, Cacheable};
use crate::routes::extract::{Json, OptionalJson};
use crate::services::articles::{
    self as service, Action, ArticleView, Found, ListQuery, Page, Reader, SummaryView,
};
use crate::startup::AppState;

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

// ---------------------------------------------------------------------------------------------
// Response shapes
// ---------------------------------------------------------------------------------------------

/// Where an article is in its life. `scheduled` becomes `published` by itself at `published_at`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatus {
    Draft,
    Scheduled,
    Published,
    Archived,
}

impl From<Status> for ArticleStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Draft => ArticleStatus::Draft,
            Status::Scheduled => ArticleStatus::Scheduled,
            Status::Published => ArticleStatus::Published,
            Status::Archived => ArticleStatus::Archived,
        }
    }
}

/// A tag as shown on an article.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TagRef {
    /// Use it in `GET /v1/articles?tag=` and `GET /v1/tags/{slug}`.
    #[schema(example = "ketamine-therapy")]
    slug: String,
    /// Display name.
    #[schema(example = "Ketamine therapy")]
    name: String,
    /// Plain text for the tag page.
    #[schema(example = "How ketamine-assisted treatment works and who it may help.")]
    description: Option<String>,
}

impl From<TagRow> for TagRef {
    fn from(tag: TagRow) -> Self {
        TagRef {
            slug: tag.slug,
            name: tag.name,
            description: tag.description,
        }
    }
}

/// Who wrote the article.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Author {
    /// Full name as it should appear in a byline.
    #[schema(example = "Dr. Maya Patel")]
    name: String,
    /// Derived from the name; use it in `GET /v1/articles?author=`.
    #[schema(example = "dr-maya-patel")]
    slug: String,
    /// Degrees or role, shown after the name.
    #[schema(example = "MD, board-certified psychiatrist")]
    credentials: Option<String>,
    /// Plain text; may hold line breaks. Always null in lists.
    #[schema(example = "Dr. Patel leads the clinic's ketamine programme.")]
    bio: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverImage {
    /// Absolute http(s) URL of the image.
    #[schema(example = "https://cdn.clinic.example/images/ptsd-hope.jpg")]
    url: String,
    /// Text alternative for screen readers.
    #[schema(example = "Sunlight through trees on a quiet path")]
    alt: String,
    /// Pixels, when known; lets the page reserve space.
    #[schema(example = 1600)]
    width: Option<u32>,
    /// Pixels, when known.
    #[schema(example = 900)]
    height: Option<u32>,
}

/// One heading of the body, for a table of contents; `anchor` is the heading's `id`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutlineItem {
    /// 1–4 (`#` to `####`).
    #[schema(example = 2)]
    level: u8,
    /// The heading as plain text.
    #[schema(example = "How ketamine helps with PTSD")]
    text: String,
    /// The heading's `id` in `body_html`: link to `#anchor`.
    #[schema(example = "how-ketamine-helps-with-ptsd")]
    anchor: String,
}

/// Ready-to-use `<head>` values: each falls back when the editor left it unset.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Seo {
    /// `meta_title`, else the title.
    #[schema(example = "Ketamine and PTSD: a ray of hope")]
    title: String,
    /// `meta_description`, else the excerpt cut to 160 characters.
    #[schema(
        example = "How ketamine therapy may ease PTSD symptoms when other treatments have not."
    )]
    description: String,
    /// `canonical_url`, else the article's own absolute URL.
    #[schema(example = "https://clinic.example/blog/ketamine-and-ptsd")]
    canonical_url: String,
    /// `og_image`, else the cover image, else null.
    #[schema(example = "https://cdn.clinic.example/images/ptsd-hope.jpg")]
    og_image: Option<String>,
}

impl From<ResolvedSeo> for Seo {
    fn from(seo: ResolvedSeo) -> Self {
        Seo {
            title: seo.title,
            description: seo.description,
            canonical_url: seo.canonical_url,
            og_image: seo.og_image,
        }
    }
}

/// Share buttons, ready to use: absolute URLs, encoded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Share {
    /// The article's absolute URL on the public site (`BEACON_SITE_URL` + `BEACON_ARTICLE_PATH`).
    #[schema(example = "https://clinic.example/blog/ketamine-and-ptsd")]
    url: String,
    /// Text to share with the link (the title).
    #[schema(example = "Ketamine and PTSD: a ray of hope for trauma survivors")]
    text: String,
    /// The image to pin: `og_image`, else the cover image; null when there is none.
    #[schema(example = "https://cdn.clinic.example/images/ptsd-hope.jpg")]
    pinterest_image: Option<String>,
    /// The meta description, else the excerpt cut to 160 characters.
    #[schema(
        example = "How ketamine therapy may ease PTSD symptoms when other treatments have not."
    )]
    pinterest_description: String,
    /// Share intent URLs.
    links: ShareLinks,
}

/// Share intent URLs for the usual networks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareLinks {
    /// Facebook share dialog.
    #[schema(
        example = "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd"
    )]
    facebook: String,
    /// X (Twitter) post intent with the share text.
    #[schema(
        example = "https://x.com/intent/post?url=https%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd&text=Ketamine%20and%20PTSD"
    )]
    x: String,
    /// LinkedIn share dialog.
    #[schema(
        example = "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd"
    )]
    linkedin: String,
    /// Null when there is no image to pin.
    #[schema(
        example = "https://pinterest.com/pin/create/button/?url=https%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd&media=https%3A%2F%2Fcdn.clinic.example%2Fimages%2Fptsd-hope.jpg&description=How%20ketamine%20therapy"
    )]
    pinterest: Option<String>,
    /// A `mailto:` link with subject and body filled in.
    #[schema(
        example = "mailto:?subject=Ketamine%20and%20PTSD&body=How%20ketamine%20therapy%0A%0Ahttps%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd"
    )]
    email: String,
}

impl From<DomainShare> for Share {
    fn from(share: DomainShare) -> Self {
        Share {
            url: share.url,
            text: share.text,
            pinterest_image: share.pinterest_image,
            pinterest_description: share.pinterest_description,
            links: ShareLinks {
                facebook: share.links.facebook,
                x: share.links.x,
                linkedin: share.links.linkedin,
                pinterest: share.links.pinterest,
                email: share.links.email,
            },
        }
    }
}

/// A whole article: everything an article page needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Article {
    /// Stable identifier (UUID v7); writes address the article by it.
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")]
    id: Uuid,
    /// The article's address: lowercase letters, digits and hyphens, unique. Old slugs keep
    /// answering with a 301.
    #[schema(example = "ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors")]
    slug: String,
    /// The article's absolute URL on the public site.
    #[schema(
        example = "https://clinic.example/blog/ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors"
    )]
    url: String,
    /// The headline, plain text.
    #[schema(example = "Ketamine and PTSD: a ray of hope for trauma survivors")]
    title: String,
    /// A secondary headline, plain text.
    #[schema(example = "What the research says, and what treatment looks like")]
    subtitle: Option<String>,
    /// Plain text: the editor's, or the start of the body's first paragraph (≤ 280 characters).
    #[schema(
        example = "For many trauma survivors, standard treatments bring only partial relief."
    )]
    excerpt: String,
    /// The source, CommonMark with tables and strikethrough.
    #[schema(example = "For many trauma survivors…\n\n## How ketamine helps with PTSD\n\n…")]
    body_markdown: String,
    /// Rendered and sanitised (no scripts, event handlers or `javascript:` URLs); headings
    /// carry the `id`s listed in `outline`. Safe to insert as is.
    #[schema(
        example = "<p>For many trauma survivors…</p>\n<h2 id=\"how-ketamine-helps-with-ptsd\">How ketamine helps with PTSD</h2>"
    )]
    body_html: String,
    /// The body's headings (levels 1–4) in order, for a table of contents.
    #[schema(example = json!([{"level": 2, "text": "How ketamine helps with PTSD", "anchor": "how-ketamine-helps-with-ptsd"}]))]
    outline: Vec<OutlineItem>,
    /// Words of the body's text.
    #[schema(example = 1240)]
    word_count: u32,
    /// At 230 words a minute, rounded up.
    #[schema(example = 6)]
    reading_time_minutes: u32,
    /// In the order the editor gave them.
    #[schema(example = json!([{"slug": "ptsd", "name": "PTSD", "description": null}]))]
    tags: Vec<TagRef>,
    /// Who wrote the article.
    author: Author,
    /// Who medically reviewed the article.
    #[schema(example = "Dr. Sam Okafor, MD, psychiatrist")]
    reviewed_by: Option<String>,
    /// When the medical review was last done.
    #[schema(example = "2026-11-20T09:00:00Z")]
    last_reviewed_at: Option<DateTime<Utc>>,
    /// The image at the top of the article and on cards.
    cover_image: Option<CoverImage>,
    /// As the editor set it; null falls back to the title (see `seo`).
    #[schema(example = json!(null))]
    meta_title: Option<String>,
    /// As the editor set it; null falls back to the excerpt (see `seo`).
    #[schema(example = json!(null))]
    meta_description: Option<String>,
    /// As the editor set it; null falls back to `url` (see `seo`).
    #[schema(example = json!(null))]
    canonical_url: Option<String>,
    /// As the editor set it; null falls back to the cover image (see `seo`).
    #[schema(example = json!(null))]
    og_image: Option<String>,
    /// `<head>` values with the fallbacks applied.
    seo: Seo,
    /// Everything share buttons need.
    share: Share,
    /// `scheduled` reads as `published` once `published_at` has passed.
    status: ArticleStatus,
    /// When it went (or goes) live; null for drafts.
    #[schema(example = "2026-11-08T09:00:00Z")]
    published_at: Option<DateTime<Utc>>,
    /// Highlighted by the editors (filter with `featured=true`).
    #[schema(example = false)]
    featured: bool,
    /// When the article was created.
    #[schema(example = "2026-11-01T14:12:03Z")]
    created_at: DateTime<Utc>,
    /// When the article (or one of its tags) last changed.
    #[schema(example = "2026-11-07T16:40:55Z")]
    updated_at: DateTime<Utc>,
    /// Goes up with every change; the `ETag` of keyed reads follows it.
    #[schema(example = 3)]
    version: i32,
}

/// An article in a list: no body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleSummary {
    /// Stable identifier (UUID v7).
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")]
    id: Uuid,
    /// Link to `GET /v1/articles/{slug}`.
    #[schema(example = "ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors")]
    slug: String,
    /// The article's absolute URL on the public site.
    #[schema(
        example = "https://clinic.example/blog/ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors"
    )]
    url: String,
    /// The headline, plain text.
    #[schema(example = "Ketamine and PTSD: a ray of hope for trauma survivors")]
    title: String,
    /// A secondary headline, plain text.
    #[schema(example = json!(null))]
    subtitle: Option<String>,
    /// Plain text, ≤ 500 characters.
    #[schema(
        example = "For many trauma survivors, standard treatments bring only partial relief."
    )]
    excerpt: String,
    /// In the order the editor gave them.
    #[schema(example = json!([{"slug": "ptsd", "name": "PTSD", "description": null}]))]
    tags: Vec<TagRef>,
    /// Who wrote the article (`bio` is null here).
    author: Author,
    /// The card image.
    cover_image: Option<CoverImage>,
    /// Words of the body's text.
    #[schema(example = 1240)]
    word_count: u32,
    /// At 230 words a minute, rounded up.
    #[schema(example = 6)]
    reading_time_minutes: u32,
    /// Always `published` in public lists.
    status: ArticleStatus,
    /// When it went live.
    #[schema(example = "2026-11-08T09:00:00Z")]
    published_at: Option<DateTime<Utc>>,
    /// Highlighted by the editors.
    #[schema(example = true)]
    featured: bool,
    /// When the article (or one of its tags) last changed.
    #[schema(example = "2026-11-07T16:40:55Z")]
    updated_at: DateTime<Utc>,
    /// Only with `q`: up to two short passages of the body around the matches, as HTML-escaped
    /// plain text in which matched words are wrapped in `<mark>`…`</mark>` (no other markup).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "… ketamine may ease <mark>PTSD</mark> symptoms within hours …")]
    snippet: Option<String>,
}

/// A page of articles.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleList {
    /// Article summaries, newest first (or best match first with `q`).
    items: Vec<ArticleSummary>,
    /// Pass it as `cursor` for the next page; null on the last page.
    #[schema(example = "cDE6MTc2NDQxNzYwMDAwMDAwMDowMTkzYTRmMTdjMWU3YjUyOWEwZTNmMmQ1YzZiN2E4MQ")]
    next_cursor: Option<String>,
}

/// Related articles (no paging).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RelatedList {
    /// Article summaries, most related first.
    items: Vec<ArticleSummary>,
    /// Always null.
    #[schema(example = json!(null))]
    next_cursor: Option<String>,
}

fn outline_of(value: serde_json::Value) -> Result<Vec<OutlineItem>, Error> {
    serde_json::from_value(value).map_err(|e| Error::internal(format!("stored outline: {e}")))
}

fn cover_image_of(value: Option<&serde_json::Value>) -> Option<CoverImage> {
    value
        .and_then(service::cover_image_of)
        .map(|image| CoverImage {
            url: image.url,
            alt: image.alt,
            width: image.width,
            height: image.height,
        })
}

fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

impl Article {
    fn new(
        view: ArticleView,
        content: &ContentSettings,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        let status = view.status(now).into();
        let row = view.row;
        let url = content.site.article(&row.slug);
        let cover_image = cover_image_of(row.cover_image.as_ref());
        let meta = ArticleMeta {
            url: &url,
            title: &row.title,
            excerpt: &row.excerpt,
            meta_title: row.meta_title.as_deref(),
            meta_description: row.meta_description.as_deref(),
            canonical_url: row.canonical_url.as_deref(),
            og_image: row.og_image.as_deref(),
            cover_image: cover_image.as_ref().map(|image| image.url.as_str()),
        };
        let seo = meta.seo().into();
        let share = meta.share().into();
        Ok(Article {
            id: row.id,
            outline: outline_of(row.outline)?,
            author: Author {
                name: row.author_name,
                slug: row.author_slug,
                credentials: row.author_credentials,
                bio: row.author_bio,
            },
            tags: view.tags.into_iter().map(TagRef::from).collect(),
            word_count: count(row.word_count),
            reading_time_minutes: count(row.reading_time_minutes),
            slug: row.slug,
            url,
            title: row.title,
            subtitle: row.subtitle,
            excerpt: row.excerpt,
            body_markdown: row.body_markdown,
            body_html: row.body_html,
            reviewed_by: row.reviewed_by,
            last_reviewed_at: row.last_reviewed_at,
            cover_image,
            meta_title: row.meta_title,
            meta_description: row.meta_description,
            canonical_url: row.canonical_url,
            og_image: row.og_image,
            seo,
            share,
            status,
            published_at: row.published_at,
            featured: row.featured,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        })
    }
}

impl ArticleSummary {
    fn new(view: SummaryView, content: &ContentSettings, now: DateTime<Utc>) -> Self {
        let row: SummaryRow = view.row;
        let status = Status::parse(&row.status)
            .unwrap_or(Status::Draft)
            .effective(row.published_at, now)
            .into();
        ArticleSummary {
            id: row.id,
            url: content.site.article(&row.slug),
            slug: row.slug,
            title: row.title,
            subtitle: row.subtitle,
            excerpt: row.excerpt,
            tags: view.tags.into_iter().map(TagRef::from).collect(),
            author: Author {
                name: row.author_name,
                slug: row.author_slug,
                credentials: row.author_credentials,
                bio: None,
            },
            cover_image: cover_image_of(row.cover_image.as_ref()),
            word_count: count(row.word_count),
            reading_time_minutes: count(row.reading_time_minutes),
            status,
            published_at: row.published_at,
            featured: row.featured,
            updated_at: row.updated_at,
            snippet: view.snippet,
        }
    }
}

/// When a reader last saw a change: an edit, or a scheduled article going live.
fn last_modified(
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    match published_at {
        Some(at) if at <= now && at > updated_at => at,
        _ => updated_at,
    }
}

// ---------------------------------------------------------------------------------------------
// Request shapes
// ---------------------------------------------------------------------------------------------

/// Who wrote the article.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorBody {
    /// 1–120 characters.
    #[schema(example = "Dr. Maya Patel")]
    name: String,
    /// Up to 120 characters.
    #[schema(example = "MD, board-certified psychiatrist")]
    credentials: Option<String>,
    /// Plain text, up to 2,000 characters.
    #[schema(example = "Dr. Patel leads the clinic's ketamine programme.")]
    bio: Option<String>,
}

impl From<AuthorBody> for AuthorInput {
    fn from(author: AuthorBody) -> Self {
        AuthorInput {
            name: author.name,
            credentials: author.credentials,
            bio: author.bio,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverImageBody {
    /// An absolute http(s) URL.
    #[schema(example = "https://cdn.clinic.example/images/ptsd-hope.jpg")]
    url: String,
    /// Describes the image for screen readers; 1–300 characters.
    #[schema(example = "Sunlight through trees on a quiet path")]
    alt: String,
    /// Pixels, 1–20000.
    #[schema(example = 1600)]
    width: Option<u32>,
    /// Pixels, 1–20000.
    #[schema(example = 900)]
    height: Option<u32>,
}

impl From<CoverImageBody> for CoverImageInput {
    fn from(image: CoverImageBody) -> Self {
        CoverImageInput {
            url: image.url,
            alt: image.alt,
            width: image.width,
            height: image.height,
        }
    }
}

/// The status a new article starts in.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NewArticleStatus {
    Draft,
    Published,
    Scheduled,
}

/// A new article. Server-set fields (`id`, `version`, `created_at`, `body_html`, …) are
/// refused. Blank optional text counts as absent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateArticle {
    /// 1–200 characters.
    #[schema(example = "Ketamine and PTSD: a ray of hope for trauma survivors")]
    title: String,
    /// Up to 300 characters.
    #[schema(example = "What the research says, and what treatment looks like")]
    subtitle: Option<String>,
    /// Lowercase letters, digits and single hyphens, ≤ 120 characters. Derived from the title
    /// when left out (with `-2`, `-3`, … if taken).
    #[schema(example = "ketamine-and-ptsd")]
    slug: Option<String>,
    /// Plain text, ≤ 500 characters. Derived from the body's first paragraph when left out.
    #[schema(example = json!(null))]
    excerpt: Option<String>,
    /// CommonMark with tables, ≤ 200,000 characters. Raw HTML is sanitised.
    #[schema(
        example = "For many trauma survivors, standard treatments bring only partial relief.\n\n## How ketamine helps with PTSD\n\n1. **Fast relief.** …\n2. **Neuroplasticity.** …\n\n## Is it right for you?\n\n- [ ] A diagnosis of PTSD\n- [ ] Tried at least two treatments"
    )]
    body_markdown: String,
    /// Names or slugs, at most 20; unknown ones are created.
    #[serde(default)]
    #[schema(example = json!(["PTSD", "ketamine-therapy"]))]
    tags: Vec<String>,
    /// Who wrote the article.
    author: AuthorBody,
    /// Who medically reviewed the article, up to 200 characters.
    #[schema(example = "Dr. Sam Okafor, MD, psychiatrist")]
    reviewed_by: Option<String>,
    #[schema(example = "2026-11-20T09:00:00Z")]
    /// Not in the future.
    last_reviewed_at: Option<DateTime<Utc>>,
    /// The image at the top of the article and on cards.
    cover_image: Option<CoverImageBody>,
    /// ≤ 120 characters; the title is used when absent.
    #[schema(example = json!(null))]
    meta_title: Option<String>,
    /// ≤ 320 characters; the excerpt is used when absent.
    #[schema(example = json!(null))]
    meta_description: Option<String>,
    /// An absolute http(s) URL, when the article first appeared elsewhere.
    #[schema(example = json!(null))]
    canonical_url: Option<String>,
    /// An absolute http(s) URL; the cover image is used when absent.
    #[schema(example = json!(null))]
    og_image: Option<String>,
    /// Highlight the article (filter with `featured=true`).
    #[serde(default)]
    #[schema(example = false)]
    featured: bool,
    #[schema(example = "published")]
    /// `draft` (default), `published` or `scheduled`.
    status: Option<NewArticleStatus>,
    #[schema(example = json!(null))]
    /// With `published`: optional, not in the future (defaults to now). With `scheduled`:
    /// required, in the future. With `draft`: not allowed.
    published_at: Option<DateTime<Utc>>,
}

impl CreateArticle {
    fn into_parts(self) -> (ContentInput, InitialStatus, Option<DateTime<Utc>>) {
        let status = match self.status {
            None | Some(NewArticleStatus::Draft) => InitialStatus::Draft,
            Some(NewArticleStatus::Published) => InitialStatus::Published,
            Some(NewArticleStatus::Scheduled) => InitialStatus::Scheduled,
        };
        let input = ContentInput {
            title: self.title,
            subtitle: self.subtitle,
            slug: self.slug,
            excerpt: self.excerpt,
            body_markdown: self.body_markdown,
            tags: self.tags,
            author: self.author.into(),
            reviewed_by: self.reviewed_by,
            last_reviewed_at: self.last_reviewed_at,
            cover_image: self.cover_image.map(CoverImageInput::from),
            meta_title: self.meta_title,
            meta_description: self.meta_description,
            canonical_url: self.canonical_url,
            og_image: self.og_image,
            featured: self.featured,
        };
        (input, status, self.published_at)
    }
}

/// Changes to an article: absent fields stay as they are; `null` clears an optional field.
/// Limits are those of creating an article. The status changes only through the lifecycle
/// actions; server-set fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateArticle {
    /// A new headline; the slug stays (send `slug` to change it). Not null.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Ketamine and PTSD: new hope for trauma survivors")]
    title: Change<String>,
    /// `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "What the research says")]
    subtitle: Change<String>,
    /// A new slug; the old one keeps answering with a 301. `null` derives it from the title.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "ketamine-and-ptsd")]
    slug: Change<String>,
    /// `null` derives it from the body again (and after every body change).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = json!(null))]
    excerpt: Change<String>,
    /// A new body; HTML, outline, word count and reading time follow. Not null.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "For many trauma survivors…\n\n## How ketamine helps\n\n…")]
    body_markdown: Change<String>,
    /// Replaces all tags; `[]` or `null` removes them.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, example = json!(["PTSD", "Trauma"]))]
    tags: Change<Vec<String>>,
    /// Replaces the author as a whole. Not null.
    #[serde(default)]
    #[schema(value_type = Option<AuthorBody>)]
    author: Change<AuthorBody>,
    /// `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Dr. Sam Okafor, MD, psychiatrist")]
    reviewed_by: Change<String>,
    /// Not in the future; `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<DateTime<Utc>>, example = "2026-11-20T09:00:00Z")]
    last_reviewed_at: Change<DateTime<Utc>>,
    /// Replaces the cover image as a whole; `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<CoverImageBody>)]
    cover_image: Change<CoverImageBody>,
    /// `null` falls back to the title.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Ketamine for PTSD | Clinic")]
    meta_title: Change<String>,
    /// `null` falls back to the excerpt.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "How ketamine therapy may ease PTSD symptoms.")]
    meta_description: Change<String>,
    /// `null` falls back to the article's own URL.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = json!(null))]
    canonical_url: Change<String>,
    /// `null` falls back to the cover image.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "https://cdn.clinic.example/images/og/ptsd.jpg")]
    og_image: Change<String>,
    /// Highlight the article or stop doing so.
    #[serde(default)]
    #[schema(value_type = Option<bool>, example = true)]
    featured: Change<bool>,
}

fn map_change<T, U>(change: Change<T>, f: impl FnOnce(T) -> U) -> Change<U> {
    match change {
        Change::Keep => Change::Keep,
        Change::Clear => Change::Clear,
        Change::Set(value) => Change::Set(f(value)),
    }
}

impl From<UpdateArticle> for ContentPatch {
    fn from(body: UpdateArticle) -> Self {
        ContentPatch {
            title: body.title,
            subtitle: body.subtitle,
            slug: body.slug,
            excerpt: body.excerpt,
            body_markdown: body.body_markdown,
            tags: body.tags,
            author: map_change(body.author, AuthorInput::from),
            reviewed_by: body.reviewed_by,
            last_reviewed_at: body.last_reviewed_at,
            cover_image: map_change(body.cover_image, CoverImageInput::from),
            meta_title: body.meta_title,
            meta_description: body.meta_description,
            canonical_url: body.canonical_url,
            og_image: body.og_image,
            featured: body.featured,
        }
    }
}

/// Optional body of `publish`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishArticle {
    #[schema(example = "2026-11-01T08:00:00Z")]
    /// Back-date the publication (not in the future). Without it, an article published before
    /// keeps its date; otherwise it is now.
    published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleArticle {
    #[schema(example = "2026-12-15T08:00:00Z")]
    /// When the article goes live; must be in the future.
    published_at: DateTime<Utc>,
}

/// Optional body of `preview-token`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewTokenRequest {
    /// Lifetime in seconds, 60 to `BEACON_PREVIEW_TTL_SECS` (the default).
    #[schema(example = 3600)]
    expires_in_seconds: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewToken {
    /// Pass it as `preview_token` to `GET /v1/articles/{article}`.
    #[schema(
        example = "AZOk8XwetyUpoD8tXGt6gQAAAABpKxSAvbq6Eb0M0Cw5dP1h9bqS2iC1xM3kQwqLZ6v3nL0JHtY"
    )]
    token: String,
    /// After this instant the token is refused with a 401.
    #[schema(example = "2026-11-30T12:00:00Z")]
    expires_at: DateTime<Utc>,
    /// The article's page on the public site with the token, to hand to a reviewer.
    #[schema(example = "https://clinic.example/blog/ketamine-and-ptsd?preview_token=AZOk8Xwe…")]
    url: String,
    /// The API request the front-end makes for that page.
    #[schema(example = "/v1/articles/ketamine-and-ptsd?preview_token=AZOk8Xwe…")]
    api_url: String,
}

/// Filters and paging of the article list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only articles with this tag (its slug).
    #[param(example = "ptsd")]
    tag: Option<String>,
    /// Only featured (`true`) or only other (`false`) articles.
    #[param(example = true)]
    featured: Option<bool>,
    /// Only articles by this author (the author's slug).
    #[param(example = "dr-maya-patel")]
    author: Option<String>,
    /// Only articles published at or after this time (RFC 3339).
    #[param(example = "2026-01-01T00:00:00Z")]
    published_after: Option<DateTime<Utc>>,
    /// Only articles published before this time (RFC 3339).
    #[param(example = "2027-01-01T00:00:00Z")]
    published_before: Option<DateTime<Utc>>,
    /// Full-text search over title, subtitle, excerpt and body (English stemming; quotes,
    /// `or` and `-word` work as in web search engines), up to 200 characters; blank means no
    /// search. Results are then
    /// ordered by relevance (title matches weigh most, then excerpt, then body) and carry a
    /// `snippet`.
    #[param(example = "ketamine ptsd")]
    q: Option<String>,
    /// `next_cursor` of the previous page, with the same filters and `q`.
    #[param(example = "cDE6MTc2NDQxNzYwMDAwMDAwMDowMTkzYTRmMTdjMWU3YjUyOWEwZTNmMmQ1YzZiN2E4MQ")]
    cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(example = 20, minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleParams {
    /// A token from `POST /v1/articles/{article}/preview-token`: shows that article whatever
    /// its status, without a key, until the token expires. A bad or expired token is a 401.
    #[param(
        example = "AZOk8XwetyUpoD8tXGt6gQAAAABpKxSAvbq6Eb0M0Cw5dP1h9bqS2iC1xM3kQwqLZ6v3nL0JHtY"
    )]
    preview_token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RelatedParams {
    /// How many, 1–12 (default 3).
    #[param(example = 3, minimum = 1, maximum = 12)]
    limit: Option<i64>,
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// Whose view of the articles this request gets.
fn reader(
    caller: &MaybeCaller,
    preview_token: Option<&str>,
    content: &ContentSettings,
    now: DateTime<Utc>,
) -> Result<Reader, Error> {
    if let Some(caller) = &caller.0 {
        caller.require(Scope::ContentWrite)?;
        return Ok(Reader::Editor);
    }
    let Some(token) = preview_token else {
        return Ok(Reader::Public);
    };
    let key = content
        .preview_key
        .as_ref()
        .ok_or_else(|| Error::internal("no preview key was loaded at start-up"))?;
    let grant = key
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

/// List published articles
///
/// The blog index, tag pages, author pages and search. Only articles the public can read now
/// are listed: published, or scheduled with `published_at` passed. Newest first, or by
/// relevance with `q`. Pages are keyset-paginated: follow `next_cursor` (also sent as a
/// `Link: <…>; rel="next"` header) with the same filters; a page costs the same however deep
/// it is, and articles published meanwhile never shift later pages. A `limit` outside 1–100,
/// a `q` over 200 characters or an undecodable `cursor` is a 400.
#[utoipa::path(
    tag = "articles",
    params(ListParams),
    responses(
        (status = 200, description = "A page of article summaries", body = ArticleList,
            headers(
                ("ETag" = String, description = "Strong validator of this page"),
                ("Last-Modified" = String, description = "The latest change among the listed articles"),
                ("Cache-Control" = String, description = "`BEACON_PUBLIC_CACHE_CONTROL`"),
                ("Link" = String, description = "`<…>; rel=\"next\"` when there is a next page"),
            ),
            examples(
                ("index" = (summary = "The blog index", value = json!(crate::routes::examples::article_list()))),
                ("search" = (summary = "Searching with `q=ketamine`: hits carry a snippet", value = json!(crate::routes::examples::search_results())))
            )),
        (status = 304, description = "The page has not changed since the `If-None-Match` ETag"),
    ),
)]
#[get("/articles")]
pub async fn list_articles(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let query = list_query(params.into_inner())?;
    let page: Page = db::run(&state.pool, move |conn| service::list(conn, &query, now)).await?;
    let content = &state.settings.content;
    let last_modified = page
        .items
        .iter()
        .map(|item| last_modified(item.row.updated_at, item.row.published_at, now))
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
    let mut response = Cacheable {
        audience: Audience::Public(&content.public_cache_control),
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
    let limit = params.limit.unwrap_or(service::LIMIT_DEFAULT);
    if !(1..=service::LIMIT_MAX).contains(&limit) {
        return Err(Error::BadRequest(format!(
            "`limit` must be between 1 and {}.",
            service::LIMIT_MAX
        )));
    }
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
    // A malformed slug cannot match anything; no need to refuse it.
    let slug = |value: Option<String>| value.map(|v| v.trim().to_owned());
    Ok(ListQuery {
        filter: ListFilter {
            tag: slug(params.tag),
            featured: params.featured,
            author: slug(params.author),
            published_after: params.published_after,
            published_before: params.published_before,
        },
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
        (status = 404, description = "No article the caller may read has this slug or id",
            body = crate::error::Problem, content_type = "application/problem+json"),
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
    let reader = reader(&caller, params.preview_token.as_deref(), content, now)?;
    let key = path.into_inner();
    let found = db::run(&state.pool, move |conn| {
        service::find(conn, &key, reader, now)
    })
    .await?;
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
    let modified = last_modified(view.row.updated_at, view.row.published_at, now);
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
        (status = 404, description = "No article the caller may read has this slug or id",
            body = crate::error::Problem, content_type = "application/problem+json"),
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
    let reader = reader(&caller, None, content, now)?;
    let limit = params.limit.unwrap_or(service::RELATED_DEFAULT);
    if !(1..=service::RELATED_MAX).contains(&limit) {
        return Err(Error::BadRequest(format!(
            "`limit` must be between 1 and {}.",
            service::RELATED_MAX
        )));
    }
    let key = path.into_inner();
    let found = db::run(&state.pool, move |conn| {
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
        .map(|item| last_modified(item.row.updated_at, item.row.published_at, now))
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
        (status = 409, description = "The slug is already used by another article",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles")]
pub async fn create_article(
    caller: Caller,
    state: web::Data<AppState>,
    body: Json<CreateArticle>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::ContentWrite)?;
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
        (status = 404, description = "No article has this id",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The new slug is used by another article",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` does not match the current version",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[patch("/articles/{article}")]
pub async fn update_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: Json<UpdateArticle>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::ContentWrite)?;
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
        (status = 404, description = "No article has this id",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` does not match the current version",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[delete("/articles/{article}")]
pub async fn delete_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::ContentWrite)?;
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
        (status = 404, description = "No article has this id",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` does not match the current version",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/publish")]
pub async fn publish_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: OptionalJson<PublishArticle>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::ContentWrite)?;
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
        (status = 404, description = "No article has this id",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` does not match the current version",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/schedule")]
pub async fn schedule_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: Json<ScheduleArticle>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::ContentWrite)?;
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
        (status = 404, description = "No article has this id",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` does not match the current version",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/unpublish")]
pub async fn unpublish_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::ContentWrite)?;
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
        (status = 404, description = "No article has this id",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` does not match the current version",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/archive")]
pub async fn archive_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::ContentWrite)?;
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
        (status = 404, description = "No article has this id",
            body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["content:write"])),
)]
#[post("/articles/{article}/preview-token")]
pub async fn create_preview_token(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: OptionalJson<PreviewTokenRequest>,
) -> Result<HttpResponse, Error> {
    caller.require(Scope::ContentWrite)?;
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
    let key = content
        .preview_key
        .clone()
        .ok_or_else(|| Error::internal("no preview key was loaded at start-up"))?;
    let id = path.into_inner();
    let (row, token, expires_at) = db::run(&state.pool, move |conn| {
        service::preview_token(conn, id, &key, ttl, now)
    })
    .await?;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("preview_token", &token)
        .finish();
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(PreviewToken {
            url: format!("{}?{query}", content.site.article(&row.slug)),
            api_url: format!("/v1/articles/{}?{query}", row.slug),
            token,
            expires_at,
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
