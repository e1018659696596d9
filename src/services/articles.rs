//! Writing, publishing and reading articles; shared by the HTTP routes and the CLI. Every write
//! runs in one transaction that locks the article, checks its version, and saves it with its
//! tags and slug history.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use crate::db::articles::{
    self as queries, ArticleRow, ArticleValues, ListFilter, Newest, SummaryRow,
};
use crate::db::tags::{self as tag_queries, TagRow};
use crate::domain::article::{
    Author, Content, ContentPatch, CoverImage, Derived, Invalid, Lifecycle, Seo, Status, TagName,
    version_tag,
};
use crate::domain::change::Precondition;
use crate::domain::cursor::Cursor;
use crate::domain::event::ArticlePayload;
use crate::domain::preview::PreviewKey;
use crate::domain::slug::Slug;
use crate::error::{Error, FieldError};
use crate::services::events;
use crate::services::tags::TagView;

pub const LIMIT_DEFAULT: i64 = 20;
pub const LIMIT_MAX: i64 = 100;
pub const RELATED_DEFAULT: i64 = 3;
pub const RELATED_MAX: i64 = 12;
pub const SEARCH_MAX_CHARS: usize = 200;

/// Field errors from the domain as the one error type.
pub fn invalid(errors: Vec<Invalid>) -> Error {
    Error::Validation(
        errors
            .into_iter()
            .map(|e| FieldError::new(e.pointer, e.message))
            .collect(),
    )
}

/// An article with its tags, as stored.
#[derive(Debug, Clone)]
pub struct ArticleView {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub excerpt: String,
    /// The editor wrote the excerpt; otherwise it is derived from the body.
    pub excerpt_is_custom: bool,
    pub body_markdown: String,
    pub body_html: String,
    /// The body's headings as stored: a JSON array of `{level, text, anchor}`.
    pub outline: serde_json::Value,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub author_name: String,
    pub author_slug: String,
    pub author_credentials: Option<String>,
    pub author_bio: Option<String>,
    pub reviewed_by: Option<String>,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    pub cover_image: Option<CoverImage>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub og_image: Option<String>,
    /// As stored: see [`ArticleView::status`] for the status readers see.
    pub stored_status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub featured: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// In the editor's order.
    pub tags: Vec<TagView>,
}

impl ArticleView {
    fn new(row: ArticleRow, tags: Vec<TagView>) -> Self {
        ArticleView {
            id: row.id,
            slug: row.slug,
            title: row.title,
            subtitle: row.subtitle,
            excerpt: row.excerpt,
            excerpt_is_custom: row.excerpt_is_custom,
            body_markdown: row.body_markdown,
            body_html: row.body_html,
            outline: row.outline,
            word_count: row.word_count,
            reading_time_minutes: row.reading_time_minutes,
            author_name: row.author_name,
            author_slug: row.author_slug,
            author_credentials: row.author_credentials,
            author_bio: row.author_bio,
            reviewed_by: row.reviewed_by,
            last_reviewed_at: row.last_reviewed_at,
            cover_image: row.cover_image.as_ref().and_then(cover_image_of),
            meta_title: row.meta_title,
            meta_description: row.meta_description,
            canonical_url: row.canonical_url,
            og_image: row.og_image,
            stored_status: row.status,
            published_at: row.published_at,
            featured: row.featured,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
            tags,
        }
    }

    pub fn status(&self, now: DateTime<Utc>) -> Status {
        self.stored_status.effective(self.published_at, now)
    }

    /// The version tag (unquoted) `ETag` and `If-Match` use.
    pub fn version_tag(&self, now: DateTime<Utc>) -> String {
        version_tag(self.id, self.version, self.status(now))
    }

    /// What events say of the article at `now`.
    fn event_payload(&self, now: DateTime<Utc>) -> ArticlePayload {
        ArticlePayload {
            article_id: self.id,
            slug: self.slug.clone(),
            title: self.title.clone(),
            status: self.status(now),
            published_at: self.published_at,
            version: self.version,
        }
    }
}

/// The article as events see it before a write. A scheduled article whose time has come gets
/// its `article.published` first if the scan has not recorded it yet, so the write's own event
/// never arrives unannounced.
fn before_write(
    conn: &mut PgConnection,
    current: &ArticleView,
    now: DateTime<Utc>,
) -> Result<ArticlePayload, Error> {
    let before = current.event_payload(now);
    events::catch_up_publication(conn, current.stored_status, &before, now)?;
    Ok(before)
}

/// One list item: an article without its body, its tags, and a search snippet when searching.
#[derive(Debug, Clone)]
pub struct SummaryView {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub excerpt: String,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub author_name: String,
    pub author_slug: String,
    pub author_credentials: Option<String>,
    pub cover_image: Option<CoverImage>,
    /// As stored: see [`SummaryView::status`] for the status readers see.
    pub stored_status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub featured: bool,
    pub updated_at: DateTime<Utc>,
    /// In the editor's order.
    pub tags: Vec<TagView>,
    /// HTML-escaped plain text with the matches wrapped in `<mark>`…`</mark>`.
    pub snippet: Option<String>,
}

impl SummaryView {
    fn new(row: SummaryRow, tags: Vec<TagView>, snippet: Option<String>) -> Self {
        SummaryView {
            id: row.id,
            slug: row.slug,
            title: row.title,
            subtitle: row.subtitle,
            excerpt: row.excerpt,
            word_count: row.word_count,
            reading_time_minutes: row.reading_time_minutes,
            author_name: row.author_name,
            author_slug: row.author_slug,
            author_credentials: row.author_credentials,
            cover_image: row.cover_image.as_ref().and_then(cover_image_of),
            stored_status: row.status,
            published_at: row.published_at,
            featured: row.featured,
            updated_at: row.updated_at,
            tags,
            snippet,
        }
    }

    pub fn status(&self, now: DateTime<Utc>) -> Status {
        self.stored_status.effective(self.published_at, now)
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<SummaryView>,
    pub next: Option<Cursor>,
}

/// Who is reading: the public, an editor (any status), or the holder of a preview token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Public,
    Editor,
    Preview { article_id: Uuid },
}

impl Reader {
    fn may_read(self, row: &ArticleRow, now: DateTime<Utc>) -> bool {
        match self {
            Reader::Editor => true,
            Reader::Preview { article_id } if article_id == row.id => true,
            Reader::Public | Reader::Preview { .. } => row.status.is_public(row.published_at, now),
        }
    }
}

/// What a slug or id leads to.
#[derive(Debug, Clone)]
pub enum Found<T> {
    Article(T),
    /// An old slug: the article now lives at this slug.
    Moved(String),
}

/// A new article with its tags; the slug is the editor's or derived from the title.
pub fn create(
    conn: &mut PgConnection,
    content: Content,
    lifecycle: Lifecycle,
    now: DateTime<Utc>,
) -> Result<ArticleView, Error> {
    let derived = content.derive();
    conn.transaction(|conn| {
        let slug = match &content.slug {
            Some(slug) => {
                claim_slug(conn, slug, None)?;
                slug.clone()
            }
            None => free_slug(conn, &content)?,
        };
        let id = Uuid::now_v7();
        let row = queries::insert(
            conn,
            id,
            values(&content, &derived, slug.as_str())?,
            lifecycle.status,
            lifecycle.published_at,
            now,
        )?;
        let tags = save_tags(conn, id, &content.tags)?;
        tracing::info!(article_id = %id, slug = %row.slug, status = %row.status, "article created");
        let view = ArticleView::new(row, tags);
        events::article_written(conn, None, &view.event_payload(now), now)?;
        Ok(view)
    })
}

/// Applies a partial update; `precondition` is the client's `If-Match`.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    patch: ContentPatch,
    precondition: Option<&Precondition>,
    now: DateTime<Utc>,
) -> Result<ArticleView, Error> {
    conn.transaction(|conn| {
        let current = lock(conn, id, precondition, now)?;
        let before = before_write(conn, &current, now)?;
        let old_slug = current.slug.clone();
        let content = content_of(&current).patched(patch, now).map_err(invalid)?;
        let slug = match &content.slug {
            Some(slug) if slug.as_str() == old_slug => slug.clone(),
            Some(slug) => {
                claim_slug(conn, slug, Some(id))?;
                slug.clone()
            }
            // `"slug": null` derives it again from the (new) title.
            None => {
                let derived = content.slug_or_derived();
                match derived {
                    Some(slug) if slug.as_str() == old_slug => slug,
                    _ => free_slug(conn, &content)?,
                }
            }
        };
        let derived = content.derive();
        let row =
            queries::update_content(conn, id, values(&content, &derived, slug.as_str())?, now)?;
        if row.slug != old_slug {
            queries::record_slug_change(conn, id, &old_slug, &row.slug, now)?;
        }
        let tags = save_tags(conn, id, &content.tags)?;
        tracing::info!(article_id = %id, version = row.version, "article updated");
        let view = ArticleView::new(row, tags);
        events::article_written(conn, Some(&before), &view.event_payload(now), now)?;
        Ok(view)
    })
}

/// A lifecycle action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// At the given time (not in the future), or keeping an earlier publication date, or now.
    Publish(Option<DateTime<Utc>>),
    Schedule(DateTime<Utc>),
    Unpublish,
    Archive,
}

pub fn transition(
    conn: &mut PgConnection,
    id: Uuid,
    action: Action,
    precondition: Option<&Precondition>,
    now: DateTime<Utc>,
) -> Result<ArticleView, Error> {
    conn.transaction(|conn| {
        let current = lock(conn, id, precondition, now)?;
        let before = before_write(conn, &current, now)?;
        let previous = current.published_at;
        let next = match action {
            Action::Publish(at) => Lifecycle::published(at, previous, now),
            Action::Schedule(at) => Lifecycle::scheduled(at, now),
            Action::Unpublish => Ok(Lifecycle::unpublished()),
            Action::Archive => Ok(Lifecycle::archived(previous)),
        }
        .map_err(|message| Error::invalid("/published_at", message))?;
        let row = queries::set_lifecycle(conn, id, next.status, next.published_at, now)?;
        tracing::info!(article_id = %id, status = %row.status, version = row.version, "article lifecycle changed");
        let view = ArticleView::new(row, current.tags);
        events::article_written(conn, Some(&before), &view.event_payload(now), now)?;
        Ok(view)
    })
}

pub fn delete(
    conn: &mut PgConnection,
    id: Uuid,
    precondition: Option<&Precondition>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    conn.transaction(|conn| {
        let current = lock(conn, id, precondition, now)?;
        let before = before_write(conn, &current, now)?;
        queries::delete(conn, id)?;
        tracing::info!(article_id = %id, "article deleted");
        events::article_deleted(conn, &before, now)?;
        Ok(())
    })
}

/// When a scheduled article next goes live after `now`, if one is waiting: until then, the
/// public answers stay as they are unless something is written.
pub fn next_publication(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(queries::next_scheduled(conn, now)?)
}

/// The article `key` (an id or a slug, current or old) names, if `reader` may read it.
pub fn find(
    conn: &mut PgConnection,
    key: &str,
    reader: Reader,
    now: DateTime<Utc>,
) -> Result<Found<ArticleView>, Error> {
    let by_id = match Uuid::try_parse(key) {
        Ok(id) => queries::find(conn, id)?,
        Err(_) => None,
    };
    let row = match by_id {
        Some(row) => row,
        None => match queries::find_by_slug(conn, key)? {
            Some(row) => row,
            None => {
                return match queries::find_by_old_slug(conn, key)? {
                    Some(row) if reader.may_read(&row, now) => Ok(Found::Moved(row.slug)),
                    _ => Err(Error::NotFound),
                };
            }
        },
    };
    if !reader.may_read(&row, now) {
        return Err(Error::NotFound);
    }
    let tags = tags_of(conn, row.id)?;
    Ok(Found::Article(ArticleView::new(row, tags)))
}

/// What the list is asked for; every filter is optional. With `statuses` (editors only: the
/// caller checks the key) it lists those statuses, most recently created first.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// `None`: what the public may read now. Otherwise articles in any of these statuses as
    /// readers see them: a scheduled article whose time has passed is published.
    pub statuses: Option<Vec<Status>>,
    /// A tag's slug.
    pub tag: Option<String>,
    pub featured: Option<bool>,
    /// An author's slug.
    pub author: Option<String>,
    pub published_after: Option<DateTime<Utc>>,
    pub published_before: Option<DateTime<Utc>>,
    /// Full-text search; results are then ordered by rank.
    pub q: Option<String>,
    pub after: Option<Cursor>,
    pub limit: i64,
}

impl ListQuery {
    fn filter(&self) -> ListFilter {
        ListFilter {
            statuses: self.statuses.clone(),
            tag: self.tag.clone(),
            featured: self.featured,
            author: self.author.clone(),
            published_after: self.published_after,
            published_before: self.published_before,
        }
    }
}

/// How a list is ordered, and so which cursor it pages with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The public list: `(published_at, id)` descending.
    Published,
    /// The editors' list: `(created_at, id)` descending.
    Created,
    /// A search: `(rank, id)` descending.
    Ranked,
}

/// One page of articles: publicly readable ones, or those in `filter.statuses`.
pub fn list(conn: &mut PgConnection, query: &ListQuery, now: DateTime<Utc>) -> Result<Page, Error> {
    let limit = query.limit.clamp(1, LIMIT_MAX);
    // One more than asked tells whether there is a next page.
    let fetch = limit + 1;
    let filter = query.filter();
    let order = match (&query.q, &query.statuses) {
        (Some(_), _) => Order::Ranked,
        (None, None) => Order::Published,
        (None, Some(_)) => Order::Created,
    };
    let (mut rows, ranks): (Vec<SummaryRow>, Vec<Option<f32>>) = match &query.q {
        Some(q) => {
            let after = match query.after {
                None => None,
                Some(Cursor::Ranked { rank, id }) => Some((rank, id)),
                Some(_) => return Err(cursor_mismatch()),
            };
            queries::search(conn, &filter, q, after, fetch, now)?
                .into_iter()
                .map(|(row, rank)| (row, Some(rank)))
                .unzip()
        }
        None => {
            let after = match (order, query.after) {
                (_, None) => None,
                (Order::Published, Some(Cursor::Published { at, id }))
                | (Order::Created, Some(Cursor::Created { at, id })) => Some((at, id)),
                _ => return Err(cursor_mismatch()),
            };
            let by = match order {
                Order::Created => Newest::Created,
                _ => Newest::Published,
            };
            let rows = queries::list_newest(conn, &filter, by, after, fetch, now)?;
            let ranks = vec![None; rows.len()];
            (rows, ranks)
        }
    };
    let has_more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match (has_more, rows.last()) {
        (true, Some(last)) => {
            cursor_after(order, last, ranks.get(rows.len() - 1).copied().flatten())
        }
        _ => None,
    };
    let snippets = match &query.q {
        Some(q) if !rows.is_empty() => {
            let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
            queries::headlines(conn, &ids, q)?
                .into_iter()
                .map(|(id, headline)| (id, marked_snippet(&headline)))
                .collect()
        }
        _ => HashMap::new(),
    };
    let items = with_tags(conn, rows, snippets)?;
    Ok(Page { items, next })
}

/// Up to `limit` readable articles related to the one `key` names (see `related_ids`).
pub fn related(
    conn: &mut PgConnection,
    key: &str,
    limit: i64,
    reader: Reader,
    now: DateTime<Utc>,
) -> Result<Found<Vec<SummaryView>>, Error> {
    let article = match find(conn, key, reader, now)? {
        Found::Article(article) => article,
        Found::Moved(slug) => return Ok(Found::Moved(slug)),
    };
    let ids = queries::related_ids(conn, article.id, limit.clamp(1, RELATED_MAX), now)?;
    let mut rows: HashMap<Uuid, SummaryRow> = queries::summaries(conn, &ids)?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let ordered = ids.iter().filter_map(|id| rows.remove(id)).collect();
    Ok(Found::Article(with_tags(conn, ordered, HashMap::new())?))
}

/// A signed preview token for one article.
#[derive(Debug, Clone)]
pub struct PreviewToken {
    /// The article's current slug.
    pub slug: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A preview token for one article, valid for `ttl`.
pub fn preview_token(
    conn: &mut PgConnection,
    id: Uuid,
    key: &PreviewKey,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<PreviewToken, Error> {
    let row = queries::find(conn, id)?.ok_or(Error::NotFound)?;
    // Whole seconds: the token carries its expiry in seconds.
    let expires_at = DateTime::from_timestamp((now + ttl).timestamp(), 0).unwrap_or(now + ttl);
    let token = key.sign(row.id, expires_at);
    tracing::info!(article_id = %row.id, %expires_at, "preview token issued");
    Ok(PreviewToken {
        slug: row.slug,
        token,
        expires_at,
    })
}

/// The preview-token key shared through the database, created by the first replica that
/// needs it; used when `BEACON_PREVIEW_SECRET` is not set.
pub fn stored_preview_key(conn: &mut PgConnection) -> Result<PreviewKey, Error> {
    let mut candidate = [0u8; 32];
    getrandom::fill(&mut candidate).map_err(Error::internal)?;
    let stored = crate::db::secrets::get_or_create(conn, "preview_token_key", &candidate)?;
    PreviewKey::new(stored).ok_or_else(|| Error::internal("the stored preview key is too short"))
}

fn cursor_mismatch() -> Error {
    Error::BadRequest(
        "`cursor` belongs to a list with a different `q` or `status`; start again without it."
            .to_owned(),
    )
}

fn cursor_after(order: Order, row: &SummaryRow, rank: Option<f32>) -> Option<Cursor> {
    match order {
        Order::Ranked => rank.map(|rank| Cursor::Ranked { rank, id: row.id }),
        Order::Created => Some(Cursor::Created {
            at: row.created_at,
            id: row.id,
        }),
        Order::Published => row
            .published_at
            .map(|at| Cursor::Published { at, id: row.id }),
    }
}

/// `ts_headline` output (plain text, matches between \x02 and \x03) as safe HTML: everything
/// escaped, then the matches marked.
fn marked_snippet(headline: &str) -> String {
    let mut html = String::with_capacity(headline.len() + 16);
    for c in headline.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            '\u{2}' => html.push_str("<mark>"),
            '\u{3}' => html.push_str("</mark>"),
            // Blocks of the body are lines; a snippet reads as one.
            '\n' => html.push(' '),
            c => html.push(c),
        }
    }
    html
}

/// Attaches tags to a page of rows with one query.
fn with_tags(
    conn: &mut PgConnection,
    rows: Vec<SummaryRow>,
    mut snippets: HashMap<Uuid, String>,
) -> Result<Vec<SummaryView>, Error> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut tags = if ids.is_empty() {
        HashMap::new()
    } else {
        tags_by_article(conn, &ids)?
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let article_tags = tags.remove(&row.id).unwrap_or_default();
            let snippet = snippets.remove(&row.id);
            SummaryView::new(row, article_tags, snippet)
        })
        .collect())
}

/// Loads and locks the article, then checks the client's `If-Match`.
fn lock(
    conn: &mut PgConnection,
    id: Uuid,
    precondition: Option<&Precondition>,
    now: DateTime<Utc>,
) -> Result<ArticleView, Error> {
    let row = queries::find_for_update(conn, id)?.ok_or(Error::NotFound)?;
    let tags = tags_of(conn, id)?;
    let view = ArticleView::new(row, tags);
    if let Some(precondition) = precondition {
        let current = view.version_tag(now);
        if !precondition.holds(&current) {
            return Err(Error::PreconditionFailed(format!(
                "The article is now at ETag \"{current}\"; fetch it again and reapply your change."
            )));
        }
    }
    Ok(view)
}

/// An explicit slug: refused when another article uses it now; taken over when it is only
/// another article's old slug.
fn claim_slug(conn: &mut PgConnection, slug: &Slug, owner: Option<Uuid>) -> Result<(), Error> {
    if queries::slug_taken(conn, slug.as_str(), owner)? {
        return Err(Error::Conflict(format!(
            "The slug `{slug}` is already used by another article."
        )));
    }
    queries::forget_old_slug(conn, slug.as_str())?;
    Ok(())
}

/// The derived slug, or the same with `-2`, `-3`, … when taken (now or formerly).
fn free_slug(conn: &mut PgConnection, content: &Content) -> Result<Slug, Error> {
    let base = content.slug_or_derived().ok_or_else(|| {
        Error::invalid(
            "/slug",
            "is required when the title has no letters a-z or digits",
        )
    })?;
    const TRIES: usize = 50;
    let candidates: Vec<String> = (1..=TRIES)
        .map(|n| numbered(&base, n))
        .collect::<Result<_, _>>()?;
    let used = queries::slugs_in_use(conn, &candidates, true)?;
    candidates
        .into_iter()
        .find(|candidate| !used.contains(candidate))
        .map(|free| Slug::parse(&free).map_err(Error::internal))
        .transpose()?
        .ok_or_else(|| {
            Error::Conflict(format!(
                "Too many articles derive the slug `{base}`; choose a slug."
            ))
        })
}

/// `base` for 1, else `base-n`, cut so the whole stays within the slug length limit.
fn numbered(base: &Slug, n: usize) -> Result<String, Error> {
    if n == 1 {
        return Ok(base.to_string());
    }
    let suffix = format!("-{n}");
    let room = Slug::MAX_LEN - suffix.len();
    let head = base
        .as_str()
        .get(..room.min(base.as_str().len()))
        .unwrap_or_default();
    Ok(format!("{}{suffix}", head.trim_end_matches('-')))
}

fn save_tags(
    conn: &mut PgConnection,
    article_id: Uuid,
    tags: &[TagName],
) -> Result<Vec<TagView>, Error> {
    let wanted: Vec<(&str, &str)> = tags
        .iter()
        .map(|tag| (tag.slug.as_str(), tag.name.as_str()))
        .collect();
    let rows = tag_queries::ensure(conn, &wanted)?;
    let ids: Vec<Uuid> = rows.iter().map(|tag| tag.id).collect();
    tag_queries::set_for_article(conn, article_id, &ids)?;
    Ok(rows.into_iter().map(TagView::from).collect())
}

/// The tags of one article, in its order.
fn tags_of(conn: &mut PgConnection, article_id: Uuid) -> Result<Vec<TagView>, Error> {
    Ok(tags_by_article(conn, &[article_id])?
        .remove(&article_id)
        .unwrap_or_default())
}

/// The tags of every article in `ids`, in one query.
fn tags_by_article(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<TagView>>, Error> {
    Ok(tag_queries::for_articles(conn, ids)?
        .into_iter()
        .map(|(id, tags): (Uuid, Vec<TagRow>)| (id, tags.into_iter().map(TagView::from).collect()))
        .collect())
}

fn values<'a>(
    content: &'a Content,
    derived: &'a Derived,
    slug: &'a str,
) -> Result<ArticleValues<'a>, Error> {
    let outline = serde_json::to_value(&derived.outline).map_err(Error::internal)?;
    let cover_image = content.cover_image.as_ref().map(|image| {
        serde_json::json!({
            "url": image.url,
            "alt": image.alt,
            "width": image.width,
            "height": image.height,
        })
    });
    Ok(ArticleValues {
        slug,
        title: &content.title,
        subtitle: content.subtitle.as_deref(),
        excerpt: &derived.excerpt,
        excerpt_is_custom: content.excerpt.is_some(),
        body_markdown: &content.body_markdown,
        body_html: &derived.body_html,
        body_text: &derived.body_text,
        outline,
        word_count: i32::try_from(derived.word_count).unwrap_or(i32::MAX),
        reading_time_minutes: i32::try_from(derived.reading_time_minutes).unwrap_or(i32::MAX),
        author_name: &content.author.name,
        author_slug: &derived.author_slug,
        author_credentials: content.author.credentials.as_deref(),
        author_bio: content.author.bio.as_deref(),
        reviewed_by: content.reviewed_by.as_deref(),
        last_reviewed_at: content.last_reviewed_at,
        cover_image,
        meta_title: content.seo.meta_title.as_deref(),
        meta_description: content.seo.meta_description.as_deref(),
        canonical_url: content.seo.canonical_url.as_deref(),
        og_image: content.seo.og_image.as_deref(),
        featured: content.featured,
    })
}

/// The stored article as editable content (stored values were validated when written).
fn content_of(article: &ArticleView) -> Content {
    Content {
        title: article.title.clone(),
        subtitle: article.subtitle.clone(),
        slug: Slug::parse(&article.slug).ok(),
        excerpt: article.excerpt_is_custom.then(|| article.excerpt.clone()),
        body_markdown: article.body_markdown.clone(),
        tags: article
            .tags
            .iter()
            .filter_map(|tag| {
                Slug::parse(&tag.slug).ok().map(|slug| TagName {
                    name: tag.name.clone(),
                    slug,
                })
            })
            .collect(),
        author: Author {
            name: article.author_name.clone(),
            credentials: article.author_credentials.clone(),
            bio: article.author_bio.clone(),
        },
        reviewed_by: article.reviewed_by.clone(),
        last_reviewed_at: article.last_reviewed_at,
        cover_image: article.cover_image.clone(),
        seo: Seo {
            meta_title: article.meta_title.clone(),
            meta_description: article.meta_description.clone(),
            canonical_url: article.canonical_url.clone(),
            og_image: article.og_image.clone(),
        },
        featured: article.featured,
    }
}

/// The stored cover image JSON as a value.
fn cover_image_of(value: &serde_json::Value) -> Option<CoverImage> {
    let side = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
    };
    Some(CoverImage {
        url: value.get("url")?.as_str()?.to_owned(),
        alt: value.get("alt")?.as_str()?.to_owned(),
        width: side("width"),
        height: side("height"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_escaped_before_matches_are_marked() {
        assert_eq!(
            marked_snippet("a <script> &\n\u{2}PTSD\u{3} \"x\""),
            "a &lt;script&gt; &amp; <mark>PTSD</mark> &quot;x&quot;"
        );
    }

    #[test]
    fn numbered_slugs_stay_within_the_length_limit() {
        let base = Slug::parse(&"a".repeat(Slug::MAX_LEN)).unwrap();
        let second = numbered(&base, 2).unwrap();
        assert_eq!(second.len(), Slug::MAX_LEN);
        assert!(Slug::parse(&second).is_ok());
        let short = Slug::parse("ptsd").unwrap();
        assert_eq!(numbered(&short, 1).unwrap(), "ptsd");
        assert_eq!(numbered(&short, 12).unwrap(), "ptsd-12");
    }
}
