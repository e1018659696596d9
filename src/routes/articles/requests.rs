//! What the article endpoints accept: bodies and query parameters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::article::{
    AuthorInput, ContentInput, ContentPatch, CoverImageInput, InitialStatus,
};
use crate::domain::change::Change;

/// Who wrote the article.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorBody {
    /// 1–120 characters.
    #[schema(example = "Dr. Maya Patel")]
    pub(super) name: String,
    /// Up to 120 characters.
    #[schema(example = "MD, board-certified psychiatrist")]
    pub(super) credentials: Option<String>,
    /// Plain text, up to 2,000 characters.
    #[schema(example = "Dr. Patel leads the clinic's ketamine programme.")]
    pub(super) bio: Option<String>,
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
    pub(super) url: String,
    /// Describes the image for screen readers; 1–300 characters.
    #[schema(example = "Sunlight through trees on a quiet path")]
    pub(super) alt: String,
    /// Pixels, 1–20000.
    #[schema(example = 1600)]
    pub(super) width: Option<u32>,
    /// Pixels, 1–20000.
    #[schema(example = 900)]
    pub(super) height: Option<u32>,
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
    pub(super) title: String,
    /// Up to 300 characters.
    #[schema(example = "What the research says, and what treatment looks like")]
    pub(super) subtitle: Option<String>,
    /// Lowercase letters, digits and single hyphens, ≤ 120 characters. Derived from the title
    /// when left out (with `-2`, `-3`, … if taken).
    #[schema(example = "ketamine-and-ptsd")]
    pub(super) slug: Option<String>,
    /// Plain text, ≤ 500 characters. Derived from the body's first paragraph when left out.
    #[schema(example = json!(null))]
    pub(super) excerpt: Option<String>,
    /// CommonMark with tables, ≤ 200,000 characters. Raw HTML is sanitised. At most 200
    /// headings, 2,000 links and images, 10,000 table cells, 1,000 raw HTML tags and 32 levels
    /// of nesting (quotes, lists, list items, emphasis); beyond them a 422 names the limit.
    #[schema(
        example = "For many trauma survivors, standard treatments bring only partial relief.\n\n## How ketamine helps with PTSD\n\n1. **Fast relief.** …\n2. **Neuroplasticity.** …\n\n## Is it right for you?\n\n- [ ] A diagnosis of PTSD\n- [ ] Tried at least two treatments"
    )]
    pub(super) body_markdown: String,
    /// Names or slugs, at most 20; unknown ones are created.
    #[serde(default)]
    #[schema(example = json!(["PTSD", "ketamine-therapy"]))]
    pub(super) tags: Vec<String>,
    /// Who wrote the article.
    pub(super) author: AuthorBody,
    /// Who medically reviewed the article, up to 200 characters.
    #[schema(example = "Dr. Sam Okafor, MD, psychiatrist")]
    pub(super) reviewed_by: Option<String>,
    #[schema(example = "2026-11-20T09:00:00Z")]
    /// Not in the future.
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    pub(super) last_reviewed_at: Option<DateTime<Utc>>,
    /// The image at the top of the article and on cards.
    pub(super) cover_image: Option<CoverImageBody>,
    /// ≤ 120 characters; the title is used when absent.
    #[schema(example = json!(null))]
    pub(super) meta_title: Option<String>,
    /// ≤ 320 characters; the excerpt is used when absent.
    #[schema(example = json!(null))]
    pub(super) meta_description: Option<String>,
    /// An absolute http(s) URL, when the article first appeared elsewhere.
    #[schema(example = json!(null))]
    pub(super) canonical_url: Option<String>,
    /// An absolute http(s) URL; the cover image is used when absent.
    #[schema(example = json!(null))]
    pub(super) og_image: Option<String>,
    /// Highlight the article (filter with `featured=true`).
    #[serde(default)]
    #[schema(example = false)]
    pub(super) featured: bool,
    #[schema(example = "published")]
    /// `draft` (default), `published` or `scheduled`.
    pub(super) status: Option<NewArticleStatus>,
    #[schema(example = json!(null))]
    /// With `published`: optional, not in the future (defaults to now). With `scheduled`:
    /// required, in the future. With `draft`: not allowed.
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    pub(super) published_at: Option<DateTime<Utc>>,
}

impl CreateArticle {
    pub(super) fn into_parts(self) -> (ContentInput, InitialStatus, Option<DateTime<Utc>>) {
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
    pub(super) title: Change<String>,
    /// `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "What the research says")]
    pub(super) subtitle: Change<String>,
    /// A new slug; the old one keeps answering with a 301. `null` derives it from the title.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "ketamine-and-ptsd")]
    pub(super) slug: Change<String>,
    /// `null` derives it from the body again (and after every body change).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = json!(null))]
    pub(super) excerpt: Change<String>,
    /// A new body; HTML, outline, word count and reading time follow. Not null. Same limits
    /// as on creation.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "For many trauma survivors…\n\n## How ketamine helps\n\n…")]
    pub(super) body_markdown: Change<String>,
    /// Replaces all tags; `[]` or `null` removes them.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, example = json!(["PTSD", "Trauma"]))]
    pub(super) tags: Change<Vec<String>>,
    /// Replaces the author as a whole. Not null.
    #[serde(default)]
    #[schema(value_type = Option<AuthorBody>)]
    pub(super) author: Change<AuthorBody>,
    /// `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Dr. Sam Okafor, MD, psychiatrist")]
    pub(super) reviewed_by: Change<String>,
    /// Not in the future; `null` removes it.
    #[serde(default, deserialize_with = "crate::domain::instant::change")]
    #[schema(value_type = Option<DateTime<Utc>>, example = "2026-11-20T09:00:00Z")]
    pub(super) last_reviewed_at: Change<DateTime<Utc>>,
    /// Replaces the cover image as a whole; `null` removes it.
    #[serde(default)]
    #[schema(value_type = Option<CoverImageBody>)]
    pub(super) cover_image: Change<CoverImageBody>,
    /// `null` falls back to the title.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Ketamine for PTSD | Clinic")]
    pub(super) meta_title: Change<String>,
    /// `null` falls back to the excerpt.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "How ketamine therapy may ease PTSD symptoms.")]
    pub(super) meta_description: Change<String>,
    /// `null` falls back to the article's own URL.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = json!(null))]
    pub(super) canonical_url: Change<String>,
    /// `null` falls back to the cover image.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "https://cdn.clinic.example/images/og/ptsd.jpg")]
    pub(super) og_image: Change<String>,
    /// Highlight the article or stop doing so.
    #[serde(default)]
    #[schema(value_type = Option<bool>, example = true)]
    pub(super) featured: Change<bool>,
}

pub(super) fn map_change<T, U>(change: Change<T>, f: impl FnOnce(T) -> U) -> Change<U> {
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
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    pub(super) published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleArticle {
    #[schema(example = "2026-12-15T08:00:00Z")]
    /// When the article goes live; must be in the future.
    #[serde(deserialize_with = "crate::domain::instant::required")]
    pub(super) published_at: DateTime<Utc>,
}

/// Optional body of `preview-token`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewTokenRequest {
    /// Lifetime in seconds, 60 to `BEACON_PREVIEW_TTL_SECS` (the default).
    #[schema(example = 3600)]
    pub(super) expires_in_seconds: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewToken {
    /// Pass it as `preview_token` to `GET /v1/articles/{article}`.
    #[schema(
        example = "AZOk8XwetyUpoD8tXGt6gQAAAABpKxSAvbq6Eb0M0Cw5dP1h9bqS2iC1xM3kQwqLZ6v3nL0JHtY"
    )]
    pub(super) token: String,
    /// After this instant the token is refused with a 401.
    #[schema(example = "2026-11-30T12:00:00Z")]
    pub(super) expires_at: DateTime<Utc>,
    /// The article's page on the public site with the token, to hand to a reviewer.
    #[schema(example = "https://clinic.example/blog/ketamine-and-ptsd?preview_token=AZOk8Xwe…")]
    pub(super) url: String,
    /// The API request the front-end makes for that page.
    #[schema(example = "/v1/articles/ketamine-and-ptsd?preview_token=AZOk8Xwe…")]
    pub(super) api_url: String,
}

/// Filters and paging of the article list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only articles with this tag (its slug).
    #[param(example = "ptsd")]
    pub(super) tag: Option<String>,
    /// Only featured (`true`) or only other (`false`) articles.
    #[param(example = true)]
    pub(super) featured: Option<bool>,
    /// Only articles by this author (the author's slug).
    #[param(example = "dr-maya-patel")]
    pub(super) author: Option<String>,
    /// Only articles published at or after this time (RFC 3339).
    #[param(example = "2026-01-01T00:00:00Z")]
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    pub(super) published_after: Option<DateTime<Utc>>,
    /// Only articles published before this time (RFC 3339).
    #[param(example = "2027-01-01T00:00:00Z")]
    #[serde(default, deserialize_with = "crate::domain::instant::optional")]
    pub(super) published_before: Option<DateTime<Utc>>,
    /// Full-text search over title, subtitle, excerpt and body (English stemming; quotes,
    /// `or` and `-word` work as in web search engines), up to 200 characters; blank means no
    /// search. Results are then
    /// ordered by relevance (title matches weigh most, then excerpt, then body) and carry a
    /// `snippet`.
    #[param(example = "ketamine ptsd")]
    pub(super) q: Option<String>,
    /// Editors only (a `content:write` key): list articles in these statuses instead of what
    /// the public can read, comma-separated: `draft`, `scheduled`, `published`, `archived`.
    /// Statuses are those readers see: a scheduled article whose `published_at` has passed is
    /// `published`. Ordered by creation, newest first (by relevance with `q`); `tag`,
    /// `featured`, `author`, `q` and the `published_*` bounds still apply (drafts have no
    /// `published_at`, so those bounds leave them out). The response is private.
    #[param(example = "draft,scheduled")]
    pub(super) status: Option<String>,
    /// `next_cursor` of the previous page, with the same filters, `q` and `status`.
    #[param(example = "cDE6MTc2NDQxNzYwMDAwMDAwMDowMTkzYTRmMTdjMWU3YjUyOWEwZTNmMmQ1YzZiN2E4MQ")]
    pub(super) cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(example = 20, minimum = 1, maximum = 100)]
    pub(super) limit: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleParams {
    /// A token from `POST /v1/articles/{article}/preview-token`: shows that article whatever
    /// its status, without a key, until the token expires. A bad or expired token is a 401.
    #[param(
        example = "AZOk8XwetyUpoD8tXGt6gQAAAABpKxSAvbq6Eb0M0Cw5dP1h9bqS2iC1xM3kQwqLZ6v3nL0JHtY"
    )]
    pub(super) preview_token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RelatedParams {
    /// How many, 1–12 (default 3).
    #[param(example = 3, minimum = 1, maximum = 12)]
    pub(super) limit: Option<i64>,
}
