//! Listing, renaming and deleting tags. Articles carrying a changed tag get a new version, so
//! their ETags and `If-Match` see the change.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};

use crate::db::tags::{self as queries, TagRow, TagUpdate};
use crate::domain::article::TagChanges;
use crate::domain::change::Change;
use crate::error::Error;

/// A tag as readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagView {
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<TagRow> for TagView {
    fn from(row: TagRow) -> Self {
        TagView {
            slug: row.slug,
            name: row.name,
            description: row.description,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TagWithCount {
    pub tag: TagView,
    /// Articles the public can read now.
    pub article_count: i64,
}

pub fn list(
    conn: &mut PgConnection,
    include_unused: bool,
    now: DateTime<Utc>,
) -> Result<Vec<TagWithCount>, Error> {
    let rows = queries::list_with_counts(conn, include_unused, now)?;
    Ok(rows
        .into_iter()
        .map(|row| TagWithCount {
            tag: row.tag.into(),
            article_count: row.article_count,
        })
        .collect())
}

/// A tag with its count of public articles. The public sees only tags with at least one.
pub fn find(
    conn: &mut PgConnection,
    slug: &str,
    include_unused: bool,
    now: DateTime<Utc>,
) -> Result<TagWithCount, Error> {
    let tag = queries::find_by_slug(conn, slug)?.ok_or(Error::NotFound)?;
    let article_count = queries::public_count(conn, tag.id, now)?;
    if article_count == 0 && !include_unused {
        return Err(Error::NotFound);
    }
    Ok(TagWithCount {
        tag: tag.into(),
        article_count,
    })
}

pub fn update(
    conn: &mut PgConnection,
    slug: &str,
    changes: TagChanges,
    now: DateTime<Utc>,
) -> Result<TagView, Error> {
    conn.transaction(|conn| {
        let tag = queries::find_by_slug(conn, slug)?.ok_or(Error::NotFound)?;
        if let Some(new) = &changes.slug {
            let taken =
                new.as_str() != tag.slug && queries::find_by_slug(conn, new.as_str())?.is_some();
            if taken {
                return Err(Error::Conflict(format!(
                    "The tag slug `{new}` is already used by another tag."
                )));
            }
        }
        let description = match &changes.description {
            Change::Keep => None,
            Change::Clear => Some(None),
            Change::Set(description) => Some(Some(description.as_str())),
        };
        let updated = queries::update(
            conn,
            tag.id,
            &TagUpdate {
                name: changes.name.as_deref(),
                slug: changes.slug.as_ref().map(|slug| slug.as_str()),
                description,
                updated_at: now,
            },
        )?;
        let changed = (&updated.name, &updated.slug, &updated.description)
            != (&tag.name, &tag.slug, &tag.description);
        if changed {
            queries::touch_articles(conn, tag.id, now)?;
        }
        tracing::info!(tag_id = %tag.id, slug = %updated.slug, "tag updated");
        Ok(updated.into())
    })
}

/// Removes the tag from every article, then deletes it.
pub fn delete(conn: &mut PgConnection, slug: &str, now: DateTime<Utc>) -> Result<(), Error> {
    conn.transaction(|conn| {
        let tag = queries::find_by_slug(conn, slug)?.ok_or(Error::NotFound)?;
        let touched = queries::touch_articles(conn, tag.id, now)?;
        queries::delete(conn, tag.id)?;
        tracing::info!(tag_id = %tag.id, articles = touched, "tag deleted");
        Ok(())
    })
}
