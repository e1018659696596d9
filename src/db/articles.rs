//! Queries on `articles` and `article_slug_history`. Public visibility is decided here in SQL
//! (`status IN ('published', 'scheduled') AND published_at <= now`), matching the partial index.
//! The editors' list filters on the status readers see (`Status::effective`) in SQL too.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Float, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::enums::literal;
use super::prepared::KeepPrepared;
use super::schema::{article_slug_history, article_tags, articles, tags};
use crate::domain::article::Status;

/// `<table>.status IN ('published', 'scheduled')`: the statuses the public may read once
/// `published_at` has passed. Written literally (not bound) so the planner can use the partial
/// indexes, whose predicate says the same.
pub fn public_status(table: &str) -> String {
    format!(
        "{table}.status IN ({}, {})",
        literal(Status::Published),
        literal(Status::Scheduled)
    )
}

/// Matches are wrapped in \x02 … \x03, which no stored text can contain (control characters are
/// refused on input), so the caller can escape the snippet and then mark the matches.
const HEADLINE_OPTIONS: &str = "StartSel=\u{2}, StopSel=\u{3}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \"";

/// A whole article as stored, without the search vector and plain text.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(Pg))]
pub struct ArticleRow {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub excerpt: String,
    pub excerpt_is_custom: bool,
    pub body_markdown: String,
    pub body_html: String,
    pub outline: serde_json::Value,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub author_name: String,
    pub author_slug: String,
    pub author_credentials: Option<String>,
    pub author_bio: Option<String>,
    pub reviewed_by: Option<String>,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    pub cover_image: Option<serde_json::Value>,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    pub canonical_url: Option<String>,
    pub og_image: Option<String>,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub featured: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// What a list shows of an article: no body.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles, check_for_backend(Pg))]
pub struct SummaryRow {
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
    pub cover_image: Option<serde_json::Value>,
    pub og_image: Option<String>,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub featured: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// Every column a write sets, content and derived alike.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = articles, treat_none_as_null = true)]
pub struct ArticleValues<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub subtitle: Option<&'a str>,
    pub excerpt: &'a str,
    pub excerpt_is_custom: bool,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub body_text: &'a str,
    pub outline: serde_json::Value,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub author_name: &'a str,
    pub author_slug: &'a str,
    pub author_credentials: Option<&'a str>,
    pub author_bio: Option<&'a str>,
    pub reviewed_by: Option<&'a str>,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    pub cover_image: Option<serde_json::Value>,
    pub meta_title: Option<&'a str>,
    pub meta_description: Option<&'a str>,
    pub canonical_url: Option<&'a str>,
    pub og_image: Option<&'a str>,
    pub featured: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = articles)]
struct NewArticle<'a> {
    id: Uuid,
    #[diesel(embed)]
    values: ArticleValues<'a>,
    status: Status,
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    values: ArticleValues<'_>,
    status: Status,
    published_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> QueryResult<ArticleRow> {
    diesel::insert_into(articles::table)
        .values(NewArticle {
            id,
            values,
            status,
            published_at,
            created_at: now,
            updated_at: now,
        })
        .returning(ArticleRow::as_returning())
        .get_result(conn)
}

/// The earliest `published_at` after `now` of a scheduled article: when the public answers
/// next change by themselves. Served by `articles_public_idx` (its predicate covers this one).
pub fn next_scheduled(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    articles::table
        .filter(articles::status.eq(Status::Scheduled))
        .filter(articles::published_at.gt(now))
        .select(diesel::dsl::min(articles::published_at))
        .first(conn)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ArticleRow>> {
    articles::table
        .find(id)
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_slug(conn: &mut PgConnection, slug: &str) -> QueryResult<Option<ArticleRow>> {
    articles::table
        .filter(articles::slug.eq(slug))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()
}

/// Locks the row for the rest of the transaction, so concurrent writes queue up and the
/// version check in between is reliable.
pub fn find_for_update(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ArticleRow>> {
    articles::table
        .find(id)
        .select(ArticleRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// The plain text a derived excerpt and the search index are made from (not in `ArticleRow`).
pub fn body_text(conn: &mut PgConnection, id: Uuid) -> QueryResult<String> {
    articles::table
        .find(id)
        .select(articles::body_text)
        .first(conn)
}

/// Saves new content; bumps the version.
pub fn update_content(
    conn: &mut PgConnection,
    id: Uuid,
    values: ArticleValues<'_>,
    now: DateTime<Utc>,
) -> QueryResult<ArticleRow> {
    diesel::update(articles::table.find(id))
        .set((
            values,
            articles::version.eq(articles::version + 1),
            articles::updated_at.eq(now),
        ))
        .returning(ArticleRow::as_returning())
        .get_result(conn)
}

/// Moves an article in its lifecycle; bumps the version.
pub fn set_lifecycle(
    conn: &mut PgConnection,
    id: Uuid,
    status: Status,
    published_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> QueryResult<ArticleRow> {
    diesel::update(articles::table.find(id))
        .set((
            articles::status.eq(status),
            articles::published_at.eq(published_at),
            articles::version.eq(articles::version + 1),
            articles::updated_at.eq(now),
        ))
        .returning(ArticleRow::as_returning())
        .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(articles::table.find(id)).execute(conn)
}

/// Live slugs among `candidates`, and old slugs too when `include_history` (a derived slug
/// must not take over another article's old address).
pub fn slugs_in_use(
    conn: &mut PgConnection,
    candidates: &[String],
    include_history: bool,
) -> QueryResult<Vec<String>> {
    let mut used: Vec<String> = articles::table
        .filter(articles::slug.eq_any(candidates))
        .select(articles::slug)
        .load(conn)?;
    if include_history {
        used.extend(
            article_slug_history::table
                .filter(article_slug_history::slug.eq_any(candidates))
                .select(article_slug_history::slug)
                .load::<String>(conn)?,
        );
    }
    Ok(used)
}

/// Whether another article than `except` has `slug` as its current slug.
pub fn slug_taken(conn: &mut PgConnection, slug: &str, except: Option<Uuid>) -> QueryResult<bool> {
    let mut query = articles::table.filter(articles::slug.eq(slug)).into_boxed();
    if let Some(id) = except {
        query = query.filter(articles::id.ne(id));
    }
    diesel::select(diesel::dsl::exists(query)).get_result(conn)
}

/// The article an old slug pointed to.
pub fn find_by_old_slug(conn: &mut PgConnection, slug: &str) -> QueryResult<Option<ArticleRow>> {
    article_slug_history::table
        .inner_join(articles::table)
        .filter(article_slug_history::slug.eq(slug))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()
}

/// `old` now redirects to `article_id`; `new` is live again, so it is no longer an old slug.
pub fn record_slug_change(
    conn: &mut PgConnection,
    article_id: Uuid,
    old: &str,
    new: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    forget_old_slug(conn, new)?;
    diesel::insert_into(article_slug_history::table)
        .values((
            article_slug_history::slug.eq(old),
            article_slug_history::article_id.eq(article_id),
            article_slug_history::created_at.eq(now),
        ))
        .on_conflict(article_slug_history::slug)
        .do_update()
        .set((
            article_slug_history::article_id.eq(article_id),
            article_slug_history::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn forget_old_slug(conn: &mut PgConnection, slug: &str) -> QueryResult<()> {
    diesel::delete(article_slug_history::table.filter(article_slug_history::slug.eq(slug)))
        .execute(conn)
        .map(drop)
}

/// Filters of the list; all optional.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// `None`: what the public may read now. Otherwise (editors) articles in any of these
    /// statuses as readers see them: a scheduled article whose time has passed is published.
    pub statuses: Option<Vec<Status>>,
    pub tag: Option<String>,
    pub featured: Option<bool>,
    pub author: Option<String>,
    pub published_after: Option<DateTime<Utc>>,
    pub published_before: Option<DateTime<Utc>>,
}

type Condition = Box<dyn BoxableExpression<articles::table, Pg, SqlType = Bool>>;

/// Articles whose effective status (see `Status::effective`) is `status` at `now`.
fn effective_status(status: Status, now: DateTime<Utc>) -> Condition {
    let passed = articles::published_at.assume_not_null().le(now);
    match status {
        Status::Draft | Status::Archived => Box::new(articles::status.eq(status)),
        Status::Published => Box::new(
            articles::status
                .eq(Status::Published)
                .or(articles::status.eq(Status::Scheduled).and(passed)),
        ),
        Status::Scheduled => Box::new(
            articles::status.eq(Status::Scheduled).and(
                articles::published_at
                    .is_null()
                    .or(articles::published_at.assume_not_null().gt(now)),
            ),
        ),
    }
}

/// The listed articles matching `filter`, without the keyset condition or order.
fn visible(filter: &ListFilter, now: DateTime<Utc>) -> articles::BoxedQuery<'static, Pg> {
    let mut query = articles::table.into_boxed();
    query = match &filter.statuses {
        None => query
            .filter(sql::<Bool>(&public_status("articles")))
            .filter(articles::published_at.assume_not_null().le(now)),
        Some(statuses) => {
            let any = statuses
                .iter()
                .map(|status| effective_status(*status, now))
                .reduce(|a, b| Box::new(a.or(b)))
                .unwrap_or_else(|| Box::new(sql::<Bool>("FALSE")));
            query.filter(any)
        }
    };
    if let Some(tag) = &filter.tag {
        query = query.filter(
            articles::id.eq_any(
                article_tags::table
                    .inner_join(tags::table)
                    .filter(tags::slug.eq(tag.clone()))
                    .select(article_tags::article_id),
            ),
        );
    }
    if let Some(featured) = filter.featured {
        query = query.filter(articles::featured.eq(featured));
    }
    if let Some(author) = &filter.author {
        query = query.filter(articles::author_slug.eq(author.clone()));
    }
    if let Some(after) = filter.published_after {
        query = query.filter(articles::published_at.assume_not_null().ge(after));
    }
    if let Some(before) = filter.published_before {
        query = query.filter(articles::published_at.assume_not_null().lt(before));
    }
    query
}

/// Which time "newest" goes by.
#[derive(Clone, Copy, Debug)]
pub enum Newest {
    /// The public list: `(published_at, id)`.
    Published,
    /// The editors' list, where drafts have no `published_at`: `(created_at, id)`.
    Created,
}

/// Newest first: up to `limit` listed articles after `after` (a `(time, id)` key of `by`).
pub fn list_newest(
    conn: &mut PgConnection,
    filter: &ListFilter,
    by: Newest,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SummaryRow>> {
    let column = match by {
        Newest::Published => "articles.published_at",
        Newest::Created => "articles.created_at",
    };
    let mut query = match tag_page(filter, by, after, limit, now) {
        Some(ids) => {
            let others = ListFilter {
                tag: None,
                ..filter.clone()
            };
            visible(&others, now).filter(articles::id.eq_any(ids))
        }
        None => visible(filter, now),
    };
    if let Some((at, id)) = after {
        // A row comparison the (time DESC, id DESC) order can seek to directly.
        query = query.filter(
            sql::<Bool>(&format!("({column}, articles.id) < ("))
                .bind::<Timestamptz, _>(at)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        );
    }
    query = match by {
        Newest::Published => query.order((articles::published_at.desc(), articles::id.desc())),
        Newest::Created => query.order((articles::created_at.desc(), articles::id.desc())),
    };
    // The text varies only with which filters are set (a handful of shapes), never with values.
    query
        .limit(limit)
        .select(SummaryRow::as_select())
        .keep_prepared()
        .load(conn)
}

/// The ids of a public tag page, newest first, when the tag's rows can answer every filter:
/// `article_tags_public_idx` (the article's status and `published_at` copied beside its tags)
/// then yields the page in order, at the same cost however many articles the tag has. `None`
/// for other lists (editors', featured, by author), which filter the articles themselves.
fn tag_page(
    filter: &ListFilter,
    by: Newest,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
    now: DateTime<Utc>,
) -> Option<article_tags::BoxedQuery<'static, Pg, SqlUuid>> {
    let (Newest::Published, None, None, None, Some(tag)) = (
        by,
        &filter.statuses,
        filter.featured,
        &filter.author,
        &filter.tag,
    ) else {
        return None;
    };
    // A scalar subquery, not a join: the index is then walked for one known tag, in order.
    let tag_id = tags::table
        .filter(tags::slug.eq(tag.clone()))
        .select(tags::id)
        .single_value();
    let mut ids = article_tags::table
        .filter(article_tags::tag_id.nullable().eq(tag_id))
        .filter(sql::<Bool>(&public_status("article_tags")))
        .filter(article_tags::published_at.assume_not_null().le(now))
        .select(article_tags::article_id)
        .into_boxed();
    if let Some((at, id)) = after {
        ids = ids.filter(
            sql::<Bool>("(article_tags.published_at, article_tags.article_id) < (")
                .bind::<Timestamptz, _>(at)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        );
    }
    if let Some(after) = filter.published_after {
        ids = ids.filter(article_tags::published_at.assume_not_null().ge(after));
    }
    if let Some(before) = filter.published_before {
        ids = ids.filter(article_tags::published_at.assume_not_null().lt(before));
    }
    Some(
        ids.order((
            article_tags::published_at.desc(),
            article_tags::article_id.desc(),
        ))
        .limit(limit),
    )
}

/// Best match first: up to `limit` visible articles matching `q` after `after` (a `(rank, id)`
/// key), each with its rank.
pub fn search(
    conn: &mut PgConnection,
    filter: &ListFilter,
    q: &str,
    after: Option<(f32, Uuid)>,
    limit: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(SummaryRow, f32)>> {
    let matches = sql::<Bool>("articles.search @@ websearch_to_tsquery('english', ")
        .bind::<Text, _>(q.to_owned())
        .sql(")");
    let mut query = visible(filter, now).filter(matches);
    if let Some((rank, id)) = after {
        query = query.filter(
            sql::<Bool>("(ts_rank(articles.search, websearch_to_tsquery('english', ")
                .bind::<Text, _>(q.to_owned())
                .sql(")), articles.id) < (")
                .bind::<Float, _>(rank)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        );
    }
    let rank_expr = sql::<Float>("ts_rank(articles.search, websearch_to_tsquery('english', ")
        .bind::<Text, _>(q.to_owned())
        .sql(")) AS search_rank");
    // By the output column's name: the same expression written again would be a second bind
    // parameter, and PostgreSQL would rank every match twice.
    query
        .order((sql::<Float>("search_rank").desc(), articles::id.desc()))
        .limit(limit)
        .select((SummaryRow::as_select(), rank_expr))
        .load(conn)
}

/// Snippets of the body around the matches of `q`, for one page of results (one query).
pub fn headlines(
    conn: &mut PgConnection,
    ids: &[Uuid],
    q: &str,
) -> QueryResult<Vec<(Uuid, String)>> {
    let headline =
        sql::<Text>("ts_headline('english', articles.body_text, websearch_to_tsquery('english', ")
            .bind::<Text, _>(q.to_owned())
            .sql("), ")
            .bind::<Text, _>(HEADLINE_OPTIONS)
            .sql(")");
    articles::table
        .filter(articles::id.eq_any(ids))
        .select((articles::id, headline))
        .load(conn)
}

pub fn summaries(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<SummaryRow>> {
    articles::table
        .filter(articles::id.eq_any(ids))
        .select(SummaryRow::as_select())
        .load(conn)
}

#[derive(QueryableByName)]
struct Related {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Up to `limit` visible articles sharing tags with `id`: most shared tags first, then newest.
/// Articles sharing no tag fill the remaining places, newest first.
pub fn related_ids(
    conn: &mut PgConnection,
    id: Uuid,
    limit: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    let mut ids: Vec<Uuid> = diesel::sql_query(format!(
        "SELECT a.id FROM article_tags theirs \
         JOIN articles a ON a.id = theirs.article_id \
         WHERE theirs.tag_id IN (SELECT tag_id FROM article_tags WHERE article_id = $1) \
           AND theirs.article_id <> $1 \
           AND {public} AND a.published_at <= $2 \
         GROUP BY a.id \
         ORDER BY count(*) DESC, a.published_at DESC, a.id DESC \
         LIMIT $3",
        public = public_status("a"),
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(limit)
    .load::<Related>(conn)?
    .into_iter()
    .map(|row| row.id)
    .collect();
    let missing = limit - i64::try_from(ids.len()).unwrap_or(limit);
    if missing > 0 {
        let mut excluded = ids.clone();
        excluded.push(id);
        let fill: Vec<Uuid> = visible(&ListFilter::default(), now)
            .filter(articles::id.ne_all(excluded))
            .order((articles::published_at.desc(), articles::id.desc()))
            .limit(missing)
            .select(articles::id)
            .load(conn)?;
        ids.extend(fill);
    }
    Ok(ids)
}
