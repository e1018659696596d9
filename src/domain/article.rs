//! Articles as editors write them: validated content, what is derived from it, the lifecycle,
//! and the version tag that guards concurrent edits. Pure: no I/O, no clock (callers pass `now`).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::change::Change;
use crate::domain::markdown::{self, OutlineEntry};
use crate::domain::slug::Slug;
use crate::domain::text;

pub const TITLE_MAX: usize = 200;
pub const SUBTITLE_MAX: usize = 300;
pub const EXCERPT_MAX: usize = 500;
/// A derived excerpt is cut at a word boundary to this many characters.
pub const DERIVED_EXCERPT_CHARS: usize = 280;
pub const BODY_MAX: usize = 200_000;
pub const TAGS_MAX: usize = 20;
pub const TAG_NAME_MAX: usize = 60;
pub const TAG_DESCRIPTION_MAX: usize = 500;
pub const AUTHOR_NAME_MAX: usize = 120;
pub const CREDENTIALS_MAX: usize = 120;
pub const BIO_MAX: usize = 2_000;
pub const REVIEWED_BY_MAX: usize = 200;
pub const ALT_MAX: usize = 300;
pub const IMAGE_SIDE_MAX: u32 = 20_000;
pub const META_TITLE_MAX: usize = 120;
pub const META_DESCRIPTION_MAX: usize = 320;

/// One refused field: a JSON Pointer into the request body and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub pointer: String,
    pub message: String,
}

impl Invalid {
    pub fn new(pointer: impl Into<String>, message: impl ToString) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.to_string(),
        }
    }
}

/// Gathers every field error of one request, so a client sees them all at once.
#[derive(Default)]
struct Checks {
    errors: Vec<Invalid>,
}

impl Checks {
    /// The value, or its default after recording the error (the default is never used then).
    fn check<T: Default, E: fmt::Display>(&mut self, pointer: &str, result: Result<T, E>) -> T {
        match result {
            Ok(value) => value,
            Err(error) => {
                self.errors.push(Invalid::new(pointer, error));
                T::default()
            }
        }
    }

    fn fail(&mut self, pointer: &str, message: &str) {
        self.errors.push(Invalid::new(pointer, message));
    }

    fn finish<T>(self, value: T) -> Result<T, Vec<Invalid>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

/// Where an article is in its life. `Scheduled` turns into `Published` by itself once
/// `published_at` has passed: see [`Status::effective`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Scheduled,
    Published,
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
            Status::Published => "published",
            Status::Archived => "archived",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        match value {
            "draft" => Some(Status::Draft),
            "scheduled" => Some(Status::Scheduled),
            "published" => Some(Status::Published),
            "archived" => Some(Status::Archived),
            _ => None,
        }
    }

    /// A comma-separated list of names, e.g. `draft,scheduled`: spaces around names are
    /// ignored and repeats collapse; an unknown or empty name is refused.
    pub fn parse_list(value: &str) -> Result<Vec<Status>, String> {
        let mut statuses = Vec::new();
        for name in value.split(',').map(str::trim) {
            let status = Status::parse(name).ok_or_else(|| {
                format!(
                    "must be a comma-separated list of `draft`, `scheduled`, `published` and \
                     `archived`; `{name}` is not one of them"
                )
            })?;
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        Ok(statuses)
    }

    /// The status readers see at `now`: a scheduled article whose time has come is published,
    /// on every replica at once, without a job flipping it.
    pub fn effective(self, published_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Status {
        match (self, published_at) {
            (Status::Scheduled, Some(at)) if at <= now => Status::Published,
            (status, _) => status,
        }
    }

    /// Whether the public may read the article at `now`.
    pub fn is_public(self, published_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        self.effective(published_at, now) == Status::Published
            && published_at.is_some_and(|at| at <= now)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lifecycle state an article moves to: its status and publication time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
}

/// The status a new article is created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitialStatus {
    #[default]
    Draft,
    Published,
    Scheduled,
}

impl Lifecycle {
    /// The state of a new article. Errors point at `/status` and `/published_at`.
    pub fn initial(
        status: InitialStatus,
        published_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Lifecycle, Vec<Invalid>> {
        let fail = |message: &str| Err(vec![Invalid::new("/published_at", message)]);
        match (status, published_at) {
            (InitialStatus::Draft, None) => Ok(Lifecycle {
                status: Status::Draft,
                published_at: None,
            }),
            (InitialStatus::Draft, Some(_)) => {
                fail("may only be set with status `published` or `scheduled`")
            }
            (InitialStatus::Published, at) => {
                Self::published(at, None, now).map_err(|e| vec![Invalid::new("/published_at", e)])
            }
            (InitialStatus::Scheduled, None) => fail("is required with status `scheduled`"),
            (InitialStatus::Scheduled, Some(at)) => {
                Self::scheduled(at, now).map_err(|e| vec![Invalid::new("/published_at", e)])
            }
        }
    }

    /// Publishing: at `requested` (never in the future), else when it was first published if
    /// that is past (re-publishing keeps the date), else `now`.
    pub fn published(
        requested: Option<DateTime<Utc>>,
        previous: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Lifecycle, &'static str> {
        if requested.is_some_and(|at| at > now) {
            return Err("must not be in the future; schedule the article instead");
        }
        let at = requested
            .or(previous.filter(|at| *at <= now))
            .unwrap_or(now);
        Ok(Lifecycle {
            status: Status::Published,
            published_at: Some(at),
        })
    }

    /// Scheduling: hidden until `at`, which must be in the future.
    pub fn scheduled(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Lifecycle, &'static str> {
        if at <= now {
            return Err("must be in the future; publish the article instead");
        }
        Ok(Lifecycle {
            status: Status::Scheduled,
            published_at: Some(at),
        })
    }

    /// Back to draft: hidden, and published again later with a new date.
    pub fn unpublished() -> Lifecycle {
        Lifecycle {
            status: Status::Draft,
            published_at: None,
        }
    }

    /// Hidden for good but kept; its publication date stays for the record.
    pub fn archived(previous: Option<DateTime<Utc>>) -> Lifecycle {
        Lifecycle {
            status: Status::Archived,
            published_at: previous,
        }
    }
}

/// The tag an article version is known by (quoted in `ETag`, compared with `If-Match`): it
/// changes with every write and when a scheduled article goes live.
pub fn version_tag(id: Uuid, version: i32, effective: Status) -> String {
    let mut hasher = Sha256::new();
    hasher.update(id.as_bytes());
    hasher.update(version.to_be_bytes());
    hasher.update(effective.as_str().as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    // Half of SHA-256 is plenty to tell versions apart.
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// A tag as written on an article: a display name and the slug it is found by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagName {
    pub name: String,
    pub slug: Slug,
}

impl TagName {
    /// Accepts a name ("Ketamine therapy") or a slug ("ketamine-therapy"); both find the same tag.
    pub fn parse(input: &str) -> Result<TagName, String> {
        let name = text::single_line(input, TAG_NAME_MAX).map_err(|e| e.to_string())?;
        let slug = Slug::from_title(&name)
            .ok_or_else(|| "must contain a letter or digit (a-z, 0-9)".to_owned())?;
        Ok(TagName { name, slug })
    }
}

/// Who wrote the article.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub credentials: Option<String>,
    pub bio: Option<String>,
}

impl Author {
    /// The slug author pages and the `author` filter use: derived from the name.
    pub fn slug(&self) -> String {
        match Slug::from_title(&self.name) {
            Some(slug) => slug.into(),
            // A name without letters or digits (symbols only) still gets a stable, URL-safe slug.
            None => {
                let digest = Sha256::digest(self.name.as_bytes());
                format!(
                    "author-{}",
                    hex::encode(digest.get(..4).unwrap_or_default())
                )
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverImage {
    pub url: String,
    pub alt: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Search and social metadata as the editor set it; unset fields fall back (see `share`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seo {
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub og_image: Option<String>,
}

/// Everything an editor writes, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    pub title: String,
    pub subtitle: Option<String>,
    /// Set when the editor chose the slug; otherwise one is derived from the title on creation.
    pub slug: Option<Slug>,
    /// Set when the editor wrote the excerpt; otherwise it is derived from the body.
    pub excerpt: Option<String>,
    pub body_markdown: String,
    pub tags: Vec<TagName>,
    pub author: Author,
    pub reviewed_by: Option<String>,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    pub cover_image: Option<CoverImage>,
    pub seo: Seo,
    pub featured: bool,
}

/// Raw author fields, as received.
#[derive(Debug, Clone, Default)]
pub struct AuthorInput {
    pub name: String,
    pub credentials: Option<String>,
    pub bio: Option<String>,
}

/// Raw cover image fields, as received.
#[derive(Debug, Clone, Default)]
pub struct CoverImageInput {
    pub url: String,
    pub alt: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Raw content fields, as received. Blank optional strings count as absent.
#[derive(Debug, Clone, Default)]
pub struct ContentInput {
    pub title: String,
    pub subtitle: Option<String>,
    pub slug: Option<String>,
    pub excerpt: Option<String>,
    pub body_markdown: String,
    pub tags: Vec<String>,
    pub author: AuthorInput,
    pub reviewed_by: Option<String>,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    pub cover_image: Option<CoverImageInput>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub og_image: Option<String>,
    pub featured: bool,
}

/// Raw PATCH fields: each absent (keep), `null` (clear) or set.
#[derive(Debug, Clone, Default)]
pub struct ContentPatch {
    pub title: Change<String>,
    pub subtitle: Change<String>,
    /// `null` derives the slug from the title again.
    pub slug: Change<String>,
    /// `null` derives the excerpt from the body again.
    pub excerpt: Change<String>,
    pub body_markdown: Change<String>,
    pub tags: Change<Vec<String>>,
    pub author: Change<AuthorInput>,
    pub reviewed_by: Change<String>,
    pub last_reviewed_at: Change<DateTime<Utc>>,
    pub cover_image: Change<CoverImageInput>,
    pub meta_title: Change<String>,
    pub meta_description: Change<String>,
    pub canonical_url: Change<String>,
    pub og_image: Change<String>,
    pub featured: Change<bool>,
}

impl Content {
    /// Validates every field, reporting all errors with pointers shaped like the JSON body.
    pub fn parse(input: ContentInput, now: DateTime<Utc>) -> Result<Content, Vec<Invalid>> {
        let mut checks = Checks::default();
        let title = checks.check("/title", text::single_line(&input.title, TITLE_MAX));
        let subtitle = optional(&mut checks, "/subtitle", input.subtitle, |s| {
            text::single_line(s, SUBTITLE_MAX)
        });
        let slug = optional(&mut checks, "/slug", input.slug, |s| Slug::parse(s.trim()));
        let slug_given = checks.errors.iter().any(|e| e.pointer == "/slug") || slug.is_some();
        if !slug_given && !title.is_empty() && Slug::from_title(&title).is_none() {
            checks.fail(
                "/slug",
                "is required when the title has no letters a-z or digits to derive one from",
            );
        }
        let excerpt = optional(&mut checks, "/excerpt", input.excerpt, |s| {
            text::multi_line(s, EXCERPT_MAX)
        });
        let body_markdown = checks.check(
            "/body_markdown",
            text::multi_line(&input.body_markdown, BODY_MAX)
                .map_err(|e| e.to_string())
                .and_then(|body| match markdown::check(&body) {
                    Ok(()) => Ok(body),
                    Err(limit) => Err(limit.to_string()),
                }),
        );
        let tags = parse_tags(&mut checks, &input.tags);
        let author = parse_author(&mut checks, input.author);
        let reviewed_by = optional(&mut checks, "/reviewed_by", input.reviewed_by, |s| {
            text::single_line(s, REVIEWED_BY_MAX)
        });
        if input.last_reviewed_at.is_some_and(|at| at > now) {
            checks.fail("/last_reviewed_at", "must not be in the future");
        }
        let cover_image = input
            .cover_image
            .map(|image| parse_cover_image(&mut checks, image));
        let seo = Seo {
            meta_title: optional(&mut checks, "/meta_title", input.meta_title, |s| {
                text::single_line(s, META_TITLE_MAX)
            }),
            meta_description: optional(
                &mut checks,
                "/meta_description",
                input.meta_description,
                |s| text::single_line(s, META_DESCRIPTION_MAX),
            ),
            canonical_url: optional(
                &mut checks,
                "/canonical_url",
                input.canonical_url,
                text::http_url,
            ),
            og_image: optional(&mut checks, "/og_image", input.og_image, text::http_url),
        };
        checks.finish(Content {
            title,
            subtitle,
            slug,
            excerpt,
            body_markdown,
            tags,
            author,
            reviewed_by,
            last_reviewed_at: input.last_reviewed_at,
            cover_image,
            seo,
            featured: input.featured,
        })
    }

    /// This content with `patch` applied, validated as a whole (pointers as in the PATCH body).
    pub fn patched(self, patch: ContentPatch, now: DateTime<Utc>) -> Result<Content, Vec<Invalid>> {
        let mut required = Checks::default();
        let mut keep = |pointer: &str, change: Change<String>, current: String| match change {
            Change::Keep => current,
            Change::Set(value) => value,
            Change::Clear => {
                required.fail(pointer, "must not be null");
                current
            }
        };
        let title = keep("/title", patch.title, self.title);
        let body_markdown = keep("/body_markdown", patch.body_markdown, self.body_markdown);
        let author = match patch.author {
            Change::Set(author) => author,
            Change::Keep => AuthorInput {
                name: self.author.name,
                credentials: self.author.credentials,
                bio: self.author.bio,
            },
            Change::Clear => {
                required.fail("/author", "must not be null");
                AuthorInput {
                    name: self.author.name,
                    credentials: self.author.credentials,
                    bio: self.author.bio,
                }
            }
        };
        let tags = match patch.tags {
            Change::Set(tags) => tags,
            Change::Clear => Vec::new(),
            Change::Keep => self.tags.into_iter().map(|tag| tag.name).collect(),
        };
        let cover_image = patch
            .cover_image
            .apply(self.cover_image.map(|image| CoverImageInput {
                url: image.url,
                alt: image.alt,
                width: image.width,
                height: image.height,
            }));
        let input = ContentInput {
            title,
            subtitle: patch.subtitle.apply(self.subtitle),
            slug: patch.slug.apply(self.slug.map(String::from)),
            excerpt: patch.excerpt.apply(self.excerpt),
            body_markdown,
            tags,
            author,
            reviewed_by: patch.reviewed_by.apply(self.reviewed_by),
            last_reviewed_at: patch.last_reviewed_at.apply(self.last_reviewed_at),
            cover_image,
            meta_title: patch.meta_title.apply(self.seo.meta_title),
            meta_description: patch.meta_description.apply(self.seo.meta_description),
            canonical_url: patch.canonical_url.apply(self.seo.canonical_url),
            og_image: patch.og_image.apply(self.seo.og_image),
            featured: patch.featured.apply(Some(self.featured)).unwrap_or(false),
        };
        let parsed = Content::parse(input, now);
        match (parsed, required.errors) {
            (Ok(content), errors) if errors.is_empty() => Ok(content),
            (Ok(_), errors) => Err(errors),
            (Err(mut errors), required) => {
                errors.extend(required);
                Err(errors)
            }
        }
    }

    /// The editor's slug, or one derived from the title (`parse` ensures one of them exists).
    pub fn slug_or_derived(&self) -> Option<Slug> {
        self.slug.clone().or_else(|| Slug::from_title(&self.title))
    }

    /// What is computed from the content and stored beside it.
    pub fn derive(&self) -> Derived {
        let rendered = markdown::render(&self.body_markdown);
        let excerpt = match &self.excerpt {
            Some(excerpt) => excerpt.clone(),
            None => {
                let source = rendered
                    .first_paragraph
                    .as_deref()
                    .filter(|p| !p.is_empty())
                    .unwrap_or(&rendered.plain_text);
                let derived = markdown::excerpt_from(source, DERIVED_EXCERPT_CHARS);
                if derived.is_empty() {
                    self.title.clone()
                } else {
                    derived
                }
            }
        };
        Derived {
            excerpt,
            body_html: rendered.html,
            body_text: rendered.plain_text,
            outline: rendered.outline,
            word_count: rendered.word_count,
            reading_time_minutes: rendered.reading_time_minutes,
            author_slug: self.author.slug(),
        }
    }
}

/// Stored with the content, never written by clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub excerpt: String,
    /// Sanitised HTML.
    pub body_html: String,
    /// Plain text, for search and snippets.
    pub body_text: String,
    pub outline: Vec<OutlineEntry>,
    pub word_count: u32,
    pub reading_time_minutes: u32,
    pub author_slug: String,
}

/// An optional field: blank counts as absent, anything else is checked.
fn optional<T, E: fmt::Display>(
    checks: &mut Checks,
    pointer: &str,
    value: Option<String>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    let value = value.filter(|v| !v.trim().is_empty())?;
    match parse(&value) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            checks.errors.push(Invalid::new(pointer, error));
            None
        }
    }
}

fn parse_tags(checks: &mut Checks, tags: &[String]) -> Vec<TagName> {
    if tags.len() > TAGS_MAX {
        checks.fail("/tags", &format!("must have at most {TAGS_MAX} tags"));
        return Vec::new();
    }
    let mut parsed: Vec<TagName> = Vec::with_capacity(tags.len());
    for (index, tag) in tags.iter().enumerate() {
        match TagName::parse(tag) {
            // "PTSD" and "ptsd" name one tag: the first spelling wins.
            Ok(tag) if parsed.iter().any(|t| t.slug == tag.slug) => {}
            Ok(tag) => parsed.push(tag),
            Err(error) => checks.fail(&format!("/tags/{index}"), &error),
        }
    }
    parsed
}

fn parse_author(checks: &mut Checks, author: AuthorInput) -> Author {
    Author {
        name: checks.check(
            "/author/name",
            text::single_line(&author.name, AUTHOR_NAME_MAX),
        ),
        credentials: optional(checks, "/author/credentials", author.credentials, |s| {
            text::single_line(s, CREDENTIALS_MAX)
        }),
        bio: optional(checks, "/author/bio", author.bio, |s| {
            text::multi_line(s, BIO_MAX)
        }),
    }
}

fn parse_cover_image(checks: &mut Checks, image: CoverImageInput) -> CoverImage {
    let mut side = |pointer: &str, value: Option<u32>| {
        if value.is_some_and(|v| v == 0 || v > IMAGE_SIDE_MAX) {
            checks.fail(
                pointer,
                &format!("must be between 1 and {IMAGE_SIDE_MAX} pixels"),
            );
        }
        value
    };
    let width = side("/cover_image/width", image.width);
    let height = side("/cover_image/height", image.height);
    CoverImage {
        url: checks.check("/cover_image/url", text::http_url(&image.url)),
        alt: checks.check("/cover_image/alt", text::single_line(&image.alt, ALT_MAX)),
        width,
        height,
    }
}

/// Validated changes to a tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChanges {
    pub name: Option<String>,
    pub slug: Option<Slug>,
    pub description: Change<String>,
}

impl TagChanges {
    pub fn parse(
        name: Option<String>,
        slug: Option<String>,
        description: Change<String>,
    ) -> Result<TagChanges, Vec<Invalid>> {
        let mut checks = Checks::default();
        let name = name.map(|n| checks.check("/name", text::single_line(&n, TAG_NAME_MAX)));
        let slug = slug.and_then(|s| {
            Slug::parse(s.trim())
                .map_err(|e| checks.fail("/slug", &e.to_string()))
                .ok()
        });
        let description = match description {
            Change::Set(d) if d.trim().is_empty() => Change::Clear,
            Change::Set(d) => {
                Change::Set(checks.check("/description", text::multi_line(&d, TAG_DESCRIPTION_MAX)))
            }
            other => other,
        };
        checks.finish(TagChanges {
            name,
            slug,
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()
    }

    fn input() -> ContentInput {
        ContentInput {
            title: "Ketamine and PTSD: a ray of hope".into(),
            body_markdown: "Trauma can linger.\n\n## What ketamine does\n\nIt helps some people."
                .into(),
            tags: vec!["PTSD".into(), "Ketamine therapy".into()],
            author: AuthorInput {
                name: "Dr. Maya Patel".into(),
                credentials: Some("MD".into()),
                bio: None,
            },
            ..ContentInput::default()
        }
    }

    fn pointers(errors: &[Invalid]) -> Vec<&str> {
        errors.iter().map(|e| e.pointer.as_str()).collect()
    }

    #[test]
    fn valid_content_parses_and_derives_slug_excerpt_and_html() {
        let content = Content::parse(input(), now()).unwrap();
        let derived = content.derive();

        assert_eq!(
            content.slug_or_derived().unwrap().as_str(),
            "ketamine-and-ptsd-a-ray-of-hope"
        );
        assert_eq!(derived.excerpt, "Trauma can linger.");
        assert!(derived.body_html.contains("<h2 id=\"what-ketamine-does\">"));
        assert_eq!(derived.outline.len(), 1);
        assert_eq!(derived.author_slug, "dr-maya-patel");
        assert_eq!(content.tags[1].slug.as_str(), "ketamine-therapy");
    }

    #[test]
    fn every_invalid_field_is_reported_with_its_pointer() {
        let mut bad = input();
        bad.title = "  ".into();
        bad.slug = Some("Not A Slug".into());
        bad.body_markdown = "nul \u{0} byte".into();
        bad.tags = vec!["ok".into(), "!!!".into()];
        bad.author.name = "a\nb".into();
        bad.canonical_url = Some("javascript:alert(1)".into());
        bad.cover_image = Some(CoverImageInput {
            url: "ftp://x".into(),
            alt: "".into(),
            width: Some(0),
            height: None,
        });
        bad.last_reviewed_at = Some(now() + chrono::Duration::days(1));

        let errors = Content::parse(bad, now()).unwrap_err();

        assert_eq!(
            pointers(&errors),
            [
                "/title",
                "/slug",
                "/body_markdown",
                "/tags/1",
                "/author/name",
                "/last_reviewed_at",
                "/cover_image/width",
                "/cover_image/url",
                "/cover_image/alt",
                "/canonical_url",
            ]
        );
    }

    #[test]
    fn blank_optional_fields_count_as_absent_and_tags_are_deduplicated() {
        let mut given = input();
        given.subtitle = Some("   ".into());
        given.tags = vec!["PTSD".into(), "ptsd".into(), "Trauma".into()];

        let content = Content::parse(given, now()).unwrap();

        assert_eq!(content.subtitle, None);
        let names: Vec<_> = content.tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["PTSD", "Trauma"]);
    }

    #[test]
    fn a_title_without_letters_or_digits_needs_a_slug() {
        let mut given = input();
        given.title = "🧠 + 💊 = ?".into();
        assert_eq!(
            pointers(&Content::parse(given.clone(), now()).unwrap_err()),
            ["/slug"]
        );
        given.slug = Some("ptsd-zh".into());
        assert!(Content::parse(given, now()).is_ok());
    }

    #[test]
    fn too_many_tags_are_refused() {
        let mut given = input();
        given.tags = (0..21).map(|i| format!("tag {i}")).collect();

        let errors = Content::parse(given, now()).unwrap_err();

        assert_eq!(pointers(&errors), ["/tags"]);
    }

    #[test]
    fn a_patch_keeps_absent_fields_clears_nulls_and_refuses_null_required_fields() {
        let mut given = input();
        given.subtitle = Some("For survivors".into());
        given.excerpt = Some("Custom".into());
        let content = Content::parse(given, now()).unwrap();

        let patched = content
            .clone()
            .patched(
                ContentPatch {
                    title: Change::Set("New title".into()),
                    subtitle: Change::Clear,
                    excerpt: Change::Clear,
                    ..ContentPatch::default()
                },
                now(),
            )
            .unwrap();
        assert_eq!(patched.title, "New title");
        assert_eq!(patched.subtitle, None);
        assert_eq!(patched.excerpt, None);
        assert_eq!(patched.tags, content.tags);
        assert_eq!(patched.author, content.author);

        let errors = content
            .patched(
                ContentPatch {
                    title: Change::Clear,
                    author: Change::Clear,
                    ..ContentPatch::default()
                },
                now(),
            )
            .unwrap_err();
        assert_eq!(pointers(&errors), ["/title", "/author"]);
    }

    #[test]
    fn a_scheduled_article_is_published_once_its_time_has_come() {
        let at = now();
        assert_eq!(
            Status::Scheduled.effective(Some(at), at - chrono::Duration::seconds(1)),
            Status::Scheduled
        );
        assert_eq!(Status::Scheduled.effective(Some(at), at), Status::Published);
        assert!(Status::Scheduled.is_public(Some(at), at));
        assert!(!Status::Draft.is_public(None, at));
        assert!(!Status::Archived.is_public(Some(at), at));
    }

    #[test]
    fn a_status_list_is_comma_separated_names_without_repeats() {
        assert_eq!(
            Status::parse_list("draft, scheduled,draft"),
            Ok(vec![Status::Draft, Status::Scheduled])
        );
        assert_eq!(
            Status::parse_list("published,archived"),
            Ok(vec![Status::Published, Status::Archived])
        );
        for bad in ["", "draft,", "Draft", "deleted", "draft;archived"] {
            let error = Status::parse_list(bad).unwrap_err();
            assert!(
                error.contains("`draft`, `scheduled`, `published` and `archived`"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_initial_lifecycle_checks_published_at_against_the_status() {
        let later = now() + chrono::Duration::days(1);
        let earlier = now() - chrono::Duration::days(1);

        assert_eq!(
            Lifecycle::initial(InitialStatus::Published, None, now())
                .unwrap()
                .published_at,
            Some(now())
        );
        assert_eq!(
            Lifecycle::initial(InitialStatus::Published, Some(earlier), now())
                .unwrap()
                .published_at,
            Some(earlier)
        );
        assert!(Lifecycle::initial(InitialStatus::Published, Some(later), now()).is_err());
        assert!(Lifecycle::initial(InitialStatus::Scheduled, None, now()).is_err());
        assert!(Lifecycle::initial(InitialStatus::Scheduled, Some(earlier), now()).is_err());
        assert!(Lifecycle::initial(InitialStatus::Draft, Some(later), now()).is_err());
        assert_eq!(
            Lifecycle::initial(InitialStatus::Scheduled, Some(later), now())
                .unwrap()
                .status,
            Status::Scheduled
        );
    }

    #[test]
    fn republishing_keeps_the_first_publication_date() {
        let first = now() - chrono::Duration::days(10);
        let again = Lifecycle::published(None, Some(first), now()).unwrap();
        assert_eq!(again.published_at, Some(first));
        let from_schedule =
            Lifecycle::published(None, Some(now() + chrono::Duration::days(1)), now()).unwrap();
        assert_eq!(from_schedule.published_at, Some(now()));
    }

    #[test]
    fn the_version_tag_changes_with_the_version_and_the_effective_status() {
        let id = Uuid::now_v7();
        let tag = version_tag(id, 1, Status::Scheduled);
        assert_eq!(tag, version_tag(id, 1, Status::Scheduled));
        assert_ne!(tag, version_tag(id, 2, Status::Scheduled));
        assert_ne!(tag, version_tag(id, 1, Status::Published));
        assert_ne!(tag, version_tag(Uuid::now_v7(), 1, Status::Scheduled));
    }

    #[test]
    fn an_author_named_without_letters_or_digits_still_gets_a_slug() {
        let author = Author {
            name: "⚕ ✚".into(),
            ..Author::default()
        };
        assert!(author.slug().starts_with("author-"));
        assert!(Slug::parse(&author.slug()).is_ok());
    }

    #[test]
    fn tag_changes_validate_name_slug_and_description() {
        let errors =
            TagChanges::parse(Some("".into()), Some("Bad Slug".into()), Change::Keep).unwrap_err();
        assert_eq!(pointers(&errors), ["/name", "/slug"]);
        let changes = TagChanges::parse(None, None, Change::Set("  ".into())).unwrap();
        assert_eq!(changes.description, Change::Clear);
    }
}
