//! What the article endpoints answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::ContentSettings;
use crate::domain::article::{CoverImage as StoredCoverImage, Status};
use crate::domain::share::{ArticleMeta, ResolvedSeo, Share as DomainShare};
use crate::error::Error;
use crate::services::articles::{ArticleView, SummaryView};
use crate::services::tags::TagView;

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
    pub(super) slug: String,
    /// Display name.
    #[schema(example = "Ketamine therapy")]
    pub(super) name: String,
    /// Plain text for the tag page.
    #[schema(example = "How ketamine-assisted treatment works and who it may help.")]
    pub(super) description: Option<String>,
}

impl From<TagView> for TagRef {
    fn from(tag: TagView) -> Self {
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
    pub(super) name: String,
    /// Derived from the name; use it in `GET /v1/articles?author=`.
    #[schema(example = "dr-maya-patel")]
    pub(super) slug: String,
    /// Degrees or role, shown after the name.
    #[schema(example = "MD, board-certified psychiatrist")]
    pub(super) credentials: Option<String>,
    /// Plain text; may hold line breaks. Always null in lists.
    #[schema(example = "Dr. Patel leads the clinic's ketamine programme.")]
    pub(super) bio: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverImage {
    /// Absolute http(s) URL of the image.
    #[schema(example = "https://cdn.clinic.example/images/ptsd-hope.jpg")]
    pub(super) url: String,
    /// Text alternative for screen readers.
    #[schema(example = "Sunlight through trees on a quiet path")]
    pub(super) alt: String,
    /// Pixels, when known; lets the page reserve space.
    #[schema(example = 1600)]
    pub(super) width: Option<u32>,
    /// Pixels, when known.
    #[schema(example = 900)]
    pub(super) height: Option<u32>,
}

/// One heading of the body, for a table of contents; `anchor` is the heading's `id`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutlineItem {
    /// 1–4 (`#` to `####`).
    #[schema(example = 2)]
    pub(super) level: u8,
    /// The heading as plain text.
    #[schema(example = "How ketamine helps with PTSD")]
    pub(super) text: String,
    /// The heading's `id` in `body_html`: link to `#anchor`.
    #[schema(example = "how-ketamine-helps-with-ptsd")]
    pub(super) anchor: String,
}

/// Ready-to-use `<head>` values: each falls back when the editor left it unset.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Seo {
    /// `meta_title`, else the title.
    #[schema(example = "Ketamine and PTSD: a ray of hope")]
    pub(super) title: String,
    /// `meta_description`, else the excerpt cut to 160 characters.
    #[schema(
        example = "How ketamine therapy may ease PTSD symptoms when other treatments have not."
    )]
    pub(super) description: String,
    /// `canonical_url`, else the article's own absolute URL.
    #[schema(example = "https://clinic.example/blog/ketamine-and-ptsd")]
    pub(super) canonical_url: String,
    /// `og_image`, else the cover image, else null.
    #[schema(example = "https://cdn.clinic.example/images/ptsd-hope.jpg")]
    pub(super) og_image: Option<String>,
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
    pub(super) url: String,
    /// Text to share with the link (the title).
    #[schema(example = "Ketamine and PTSD: a ray of hope for trauma survivors")]
    pub(super) text: String,
    /// The image to pin: `og_image`, else the cover image; null when there is none.
    #[schema(example = "https://cdn.clinic.example/images/ptsd-hope.jpg")]
    pub(super) pinterest_image: Option<String>,
    /// The meta description, else the excerpt cut to 160 characters.
    #[schema(
        example = "How ketamine therapy may ease PTSD symptoms when other treatments have not."
    )]
    pub(super) pinterest_description: String,
    /// Share intent URLs.
    pub(super) links: ShareLinks,
}

/// Share intent URLs for the usual networks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShareLinks {
    /// Facebook share dialog.
    #[schema(
        example = "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd"
    )]
    pub(super) facebook: String,
    /// X (Twitter) post intent with the share text.
    #[schema(
        example = "https://x.com/intent/post?url=https%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd&text=Ketamine%20and%20PTSD"
    )]
    pub(super) x: String,
    /// LinkedIn share dialog.
    #[schema(
        example = "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd"
    )]
    pub(super) linkedin: String,
    /// Null when there is no image to pin.
    #[schema(
        example = "https://pinterest.com/pin/create/button/?url=https%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd&media=https%3A%2F%2Fcdn.clinic.example%2Fimages%2Fptsd-hope.jpg&description=How%20ketamine%20therapy"
    )]
    pub(super) pinterest: Option<String>,
    /// A `mailto:` link with subject and body filled in.
    #[schema(
        example = "mailto:?subject=Ketamine%20and%20PTSD&body=How%20ketamine%20therapy%0A%0Ahttps%3A%2F%2Fclinic.example%2Fblog%2Fketamine-and-ptsd"
    )]
    pub(super) email: String,
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
    pub(super) id: Uuid,
    /// The article's address: lowercase letters, digits and hyphens, unique. Old slugs keep
    /// answering with a 301.
    #[schema(example = "ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors")]
    pub(super) slug: String,
    /// The article's absolute URL on the public site.
    #[schema(
        example = "https://clinic.example/blog/ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors"
    )]
    pub(super) url: String,
    /// The headline, plain text.
    #[schema(example = "Ketamine and PTSD: a ray of hope for trauma survivors")]
    pub(super) title: String,
    /// A secondary headline, plain text.
    #[schema(example = "What the research says, and what treatment looks like")]
    pub(super) subtitle: Option<String>,
    /// Plain text: the editor's, or the start of the body's first paragraph (≤ 280 characters).
    #[schema(
        example = "For many trauma survivors, standard treatments bring only partial relief."
    )]
    pub(super) excerpt: String,
    /// The source, CommonMark with tables and strikethrough.
    #[schema(example = "For many trauma survivors…\n\n## How ketamine helps with PTSD\n\n…")]
    pub(super) body_markdown: String,
    /// Rendered and sanitised (no scripts, event handlers or `javascript:` URLs); headings
    /// carry the `id`s listed in `outline`. Safe to insert as is.
    #[schema(
        example = "<p>For many trauma survivors…</p>\n<h2 id=\"how-ketamine-helps-with-ptsd\">How ketamine helps with PTSD</h2>"
    )]
    pub(super) body_html: String,
    /// The body's headings (levels 1–4) in order, for a table of contents.
    #[schema(example = json!([{"level": 2, "text": "How ketamine helps with PTSD", "anchor": "how-ketamine-helps-with-ptsd"}]))]
    pub(super) outline: Vec<OutlineItem>,
    /// Words of the body's text.
    #[schema(example = 1240)]
    pub(super) word_count: u32,
    /// At 230 words a minute, rounded up.
    #[schema(example = 6)]
    pub(super) reading_time_minutes: u32,
    /// In the order the editor gave them.
    #[schema(example = json!([{"slug": "ptsd", "name": "PTSD", "description": null}]))]
    pub(super) tags: Vec<TagRef>,
    /// Who wrote the article.
    pub(super) author: Author,
    /// Who medically reviewed the article.
    #[schema(example = "Dr. Sam Okafor, MD, psychiatrist")]
    pub(super) reviewed_by: Option<String>,
    /// When the medical review was last done.
    #[schema(example = "2026-11-20T09:00:00Z")]
    pub(super) last_reviewed_at: Option<DateTime<Utc>>,
    /// The image at the top of the article and on cards.
    pub(super) cover_image: Option<CoverImage>,
    /// As the editor set it; null falls back to the title (see `seo`).
    #[schema(example = json!(null))]
    pub(super) meta_title: Option<String>,
    /// As the editor set it; null falls back to the excerpt (see `seo`).
    #[schema(example = json!(null))]
    pub(super) meta_description: Option<String>,
    /// As the editor set it; null falls back to `url` (see `seo`).
    #[schema(example = json!(null))]
    pub(super) canonical_url: Option<String>,
    /// As the editor set it; null falls back to the cover image (see `seo`).
    #[schema(example = json!(null))]
    pub(super) og_image: Option<String>,
    /// `<head>` values with the fallbacks applied.
    pub(super) seo: Seo,
    /// Everything share buttons need.
    pub(super) share: Share,
    /// `scheduled` reads as `published` once `published_at` has passed.
    pub(super) status: ArticleStatus,
    /// When it went (or goes) live; null for drafts.
    #[schema(example = "2026-11-08T09:00:00Z")]
    pub(super) published_at: Option<DateTime<Utc>>,
    /// Highlighted by the editors (filter with `featured=true`).
    #[schema(example = false)]
    pub(super) featured: bool,
    /// When the article was created.
    #[schema(example = "2026-11-01T14:12:03Z")]
    pub(super) created_at: DateTime<Utc>,
    /// When the article (or one of its tags) last changed.
    #[schema(example = "2026-11-07T16:40:55Z")]
    pub(super) updated_at: DateTime<Utc>,
    /// Goes up with every change; the `ETag` of keyed reads follows it.
    #[schema(example = 3)]
    pub(super) version: i32,
}

/// An article in a list: no body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleSummary {
    /// Stable identifier (UUID v7).
    #[schema(example = "0193a4f1-7c1e-7b52-9a0e-3f2d5c6b7a81")]
    pub(super) id: Uuid,
    /// Link to `GET /v1/articles/{slug}`.
    #[schema(example = "ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors")]
    pub(super) slug: String,
    /// The article's absolute URL on the public site.
    #[schema(
        example = "https://clinic.example/blog/ketamine-and-ptsd-a-ray-of-hope-for-trauma-survivors"
    )]
    pub(super) url: String,
    /// The headline, plain text.
    #[schema(example = "Ketamine and PTSD: a ray of hope for trauma survivors")]
    pub(super) title: String,
    /// A secondary headline, plain text.
    #[schema(example = json!(null))]
    pub(super) subtitle: Option<String>,
    /// Plain text, ≤ 500 characters.
    #[schema(
        example = "For many trauma survivors, standard treatments bring only partial relief."
    )]
    pub(super) excerpt: String,
    /// In the order the editor gave them.
    #[schema(example = json!([{"slug": "ptsd", "name": "PTSD", "description": null}]))]
    pub(super) tags: Vec<TagRef>,
    /// Who wrote the article (`bio` is null here).
    pub(super) author: Author,
    /// The card image.
    pub(super) cover_image: Option<CoverImage>,
    /// Words of the body's text.
    #[schema(example = 1240)]
    pub(super) word_count: u32,
    /// At 230 words a minute, rounded up.
    #[schema(example = 6)]
    pub(super) reading_time_minutes: u32,
    /// Always `published` in public lists.
    pub(super) status: ArticleStatus,
    /// When it went live.
    #[schema(example = "2026-11-08T09:00:00Z")]
    pub(super) published_at: Option<DateTime<Utc>>,
    /// Highlighted by the editors.
    #[schema(example = true)]
    pub(super) featured: bool,
    /// When the article (or one of its tags) last changed.
    #[schema(example = "2026-11-07T16:40:55Z")]
    pub(super) updated_at: DateTime<Utc>,
    /// Only with `q`: up to two short passages of the body around the matches, as HTML-escaped
    /// plain text in which matched words are wrapped in `<mark>`…`</mark>` (no other markup).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "… ketamine may ease <mark>PTSD</mark> symptoms within hours …")]
    pub(super) snippet: Option<String>,
}

/// A page of articles.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleList {
    /// Article summaries, newest first (or best match first with `q`).
    pub(super) items: Vec<ArticleSummary>,
    /// Pass it as `cursor` for the next page; null on the last page.
    #[schema(example = "cDE6MTc2NDQxNzYwMDAwMDAwMDowMTkzYTRmMTdjMWU3YjUyOWEwZTNmMmQ1YzZiN2E4MQ")]
    pub(super) next_cursor: Option<String>,
}

/// Related articles (no paging).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RelatedList {
    /// Article summaries, most related first.
    pub(super) items: Vec<ArticleSummary>,
    /// Always null.
    #[schema(example = json!(null))]
    pub(super) next_cursor: Option<String>,
}

pub(super) fn outline_of(value: serde_json::Value) -> Result<Vec<OutlineItem>, Error> {
    serde_json::from_value(value).map_err(|e| Error::internal(format!("stored outline: {e}")))
}

impl From<StoredCoverImage> for CoverImage {
    fn from(image: StoredCoverImage) -> Self {
        CoverImage {
            url: image.url,
            alt: image.alt,
            width: image.width,
            height: image.height,
        }
    }
}

pub(super) fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

impl Article {
    pub(super) fn new(
        article: ArticleView,
        content: &ContentSettings,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        let status = article.status(now).into();
        let url = content.site.article(&article.slug);
        let cover_image = article.cover_image.map(CoverImage::from);
        let meta = ArticleMeta {
            url: &url,
            title: &article.title,
            excerpt: &article.excerpt,
            meta_title: article.meta_title.as_deref(),
            meta_description: article.meta_description.as_deref(),
            canonical_url: article.canonical_url.as_deref(),
            og_image: article.og_image.as_deref(),
            cover_image: cover_image.as_ref().map(|image| image.url.as_str()),
        };
        let seo = meta.seo().into();
        let share = meta.share().into();
        Ok(Article {
            id: article.id,
            outline: outline_of(article.outline)?,
            author: Author {
                name: article.author_name,
                slug: article.author_slug,
                credentials: article.author_credentials,
                bio: article.author_bio,
            },
            tags: article.tags.into_iter().map(TagRef::from).collect(),
            word_count: count(article.word_count),
            reading_time_minutes: count(article.reading_time_minutes),
            slug: article.slug,
            url,
            title: article.title,
            subtitle: article.subtitle,
            excerpt: article.excerpt,
            body_markdown: article.body_markdown,
            body_html: article.body_html,
            reviewed_by: article.reviewed_by,
            last_reviewed_at: article.last_reviewed_at,
            cover_image,
            meta_title: article.meta_title,
            meta_description: article.meta_description,
            canonical_url: article.canonical_url,
            og_image: article.og_image,
            seo,
            share,
            status,
            published_at: article.published_at,
            featured: article.featured,
            created_at: article.created_at,
            updated_at: article.updated_at,
            version: article.version,
        })
    }
}

impl ArticleSummary {
    pub(super) fn new(summary: SummaryView, content: &ContentSettings, now: DateTime<Utc>) -> Self {
        let status = summary.status(now).into();
        ArticleSummary {
            id: summary.id,
            url: content.site.article(&summary.slug),
            slug: summary.slug,
            title: summary.title,
            subtitle: summary.subtitle,
            excerpt: summary.excerpt,
            tags: summary.tags.into_iter().map(TagRef::from).collect(),
            author: Author {
                name: summary.author_name,
                slug: summary.author_slug,
                credentials: summary.author_credentials,
                bio: None,
            },
            cover_image: summary.cover_image.map(CoverImage::from),
            word_count: count(summary.word_count),
            reading_time_minutes: count(summary.reading_time_minutes),
            status,
            published_at: summary.published_at,
            featured: summary.featured,
            updated_at: summary.updated_at,
            snippet: summary.snippet,
        }
    }
}

/// When a reader last saw a change: an edit, or a scheduled article going live.
pub(super) fn last_modified(
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    match published_at {
        Some(at) if at <= now && at > updated_at => at,
        _ => updated_at,
    }
}
