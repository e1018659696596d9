//! Queries on `tags` and `article_tags`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Timestamptz};
use uuid::Uuid;

use super::articles::public_status;
use super::prepared::KeepPrepared;
use super::schema::{article_tags, articles, tags};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = tags, check_for_backend(Pg))]
pub struct TagRow {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct TagWithCount {
    #[diesel(embed)]
    pub tag: TagRow,
    /// Articles the public can read now.
    #[diesel(sql_type = BigInt)]
    pub article_count: i64,
}

/// The tags of these slugs, created (with these names) where missing; in the order given.
pub fn ensure(conn: &mut PgConnection, wanted: &[(&str, &str)]) -> QueryResult<Vec<TagRow>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<_> = wanted
        .iter()
        .map(|(slug, name)| {
            (
                tags::id.eq(Uuid::now_v7()),
                tags::slug.eq(*slug),
                tags::name.eq(*name),
            )
        })
        .collect();
    diesel::insert_into(tags::table)
        .values(rows)
        .on_conflict(tags::slug)
        .do_nothing()
        .execute(conn)?;
    let slugs: Vec<&str> = wanted.iter().map(|(slug, _)| *slug).collect();
    let mut found: HashMap<String, TagRow> = tags::table
        .filter(tags::slug.eq_any(&slugs))
        .select(TagRow::as_select())
        .load::<TagRow>(conn)?
        .into_iter()
        .map(|tag| (tag.slug.clone(), tag))
        .collect();
    Ok(slugs
        .iter()
        .filter_map(|slug| found.remove(*slug))
        .collect())
}

/// Replaces an article's tags, keeping their order.
pub fn set_for_article(
    conn: &mut PgConnection,
    article_id: Uuid,
    tag_ids: &[Uuid],
) -> QueryResult<()> {
    diesel::delete(article_tags::table.filter(article_tags::article_id.eq(article_id)))
        .execute(conn)?;
    let rows: Vec<_> = tag_ids
        .iter()
        .enumerate()
        .map(|(position, tag_id)| {
            (
                article_tags::article_id.eq(article_id),
                article_tags::tag_id.eq(*tag_id),
                article_tags::position.eq(i16::try_from(position).unwrap_or(i16::MAX)),
            )
        })
        .collect();
    diesel::insert_into(article_tags::table)
        .values(rows)
        .execute(conn)
        .map(drop)
}

/// The tags of every article in `article_ids`, in one query, each article's in its order.
pub fn for_articles(
    conn: &mut PgConnection,
    article_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<TagRow>>> {
    let rows: Vec<(Uuid, TagRow)> = article_tags::table
        .inner_join(tags::table)
        .filter(article_tags::article_id.eq_any(article_ids))
        .order((article_tags::article_id, article_tags::position))
        .select((article_tags::article_id, TagRow::as_select()))
        .load(conn)?;
    let mut by_article: HashMap<Uuid, Vec<TagRow>> = HashMap::new();
    for (article_id, tag) in rows {
        by_article.entry(article_id).or_default().push(tag);
    }
    Ok(by_article)
}

/// Every tag with its count of publicly readable articles, by name; tags without any only
/// when `include_unused`.
pub fn list_with_counts(
    conn: &mut PgConnection,
    include_unused: bool,
    now: DateTime<Utc>,
) -> QueryResult<Vec<TagWithCount>> {
    diesel::sql_query(format!(
        "SELECT tags.*, count(a.id) AS article_count FROM tags \
         LEFT JOIN article_tags at ON at.tag_id = tags.id \
         LEFT JOIN articles a ON a.id = at.article_id \
           AND {public} AND a.published_at <= $1 \
         GROUP BY tags.id \
         HAVING $2 OR count(a.id) > 0 \
         ORDER BY lower(tags.name), tags.id",
        public = public_status("a"),
    ))
    .bind::<Timestamptz, _>(now)
    .bind::<Bool, _>(include_unused)
    .keep_prepared()
    .load(conn)
}

pub fn find_by_slug(conn: &mut PgConnection, slug: &str) -> QueryResult<Option<TagRow>> {
    tags::table
        .filter(tags::slug.eq(slug))
        .select(TagRow::as_select())
        .first(conn)
        .optional()
}

/// Publicly readable articles carrying the tag.
pub fn public_count(conn: &mut PgConnection, tag_id: Uuid, now: DateTime<Utc>) -> QueryResult<i64> {
    article_tags::table
        .inner_join(articles::table)
        .filter(article_tags::tag_id.eq(tag_id))
        .filter(diesel::dsl::sql::<Bool>(&public_status("articles")))
        .filter(articles::published_at.assume_not_null().le(now))
        .count()
        .get_result(conn)
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = tags)]
pub struct TagUpdate<'a> {
    pub name: Option<&'a str>,
    pub slug: Option<&'a str>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<&'a str>>,
    pub updated_at: DateTime<Utc>,
}

pub fn update(conn: &mut PgConnection, id: Uuid, changes: &TagUpdate<'_>) -> QueryResult<TagRow> {
    diesel::update(tags::table.find(id))
        .set(changes)
        .returning(TagRow::as_returning())
        .get_result(conn)
}

pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(tags::table.find(id)).execute(conn)
}

/// The articles carrying a tag change with it: their version moves on, so ETags and
/// `If-Match` see the change.
pub fn touch_articles(
    conn: &mut PgConnection,
    tag_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        articles::table.filter(
            articles::id.eq_any(
                article_tags::table
                    .filter(article_tags::tag_id.eq(tag_id))
                    .select(article_tags::article_id),
            ),
        ),
    )
    .set((
        articles::version.eq(articles::version + 1),
        articles::updated_at.eq(now),
    ))
    .execute(conn)
}
