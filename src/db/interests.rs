//! Queries on `interests`, the managed list of conditions a lead form asks about.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::interests;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = interests)]
pub struct InterestRow {
    pub code: String,
    pub label: String,
    pub active: bool,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = interests)]
pub struct NewInterest<'a> {
    pub code: &'a str,
    pub label: &'a str,
    pub position: i32,
}

/// `None` leaves a column as it is.
#[derive(AsChangeset, Default)]
#[diesel(table_name = interests)]
pub struct InterestChanges {
    pub label: Option<String>,
    pub active: Option<bool>,
    pub position: Option<i32>,
}

/// In the form's order: by position, then code.
pub fn list(conn: &mut PgConnection, include_inactive: bool) -> QueryResult<Vec<InterestRow>> {
    let mut query = interests::table
        .order((interests::position.asc(), interests::code.asc()))
        .select(InterestRow::as_select())
        .into_boxed();
    if !include_inactive {
        query = query.filter(interests::active.eq(true));
    }
    query.load(conn)
}

pub fn find(conn: &mut PgConnection, code: &str) -> QueryResult<Option<InterestRow>> {
    interests::table
        .find(code)
        .select(InterestRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut PgConnection, interest: &NewInterest<'_>) -> QueryResult<InterestRow> {
    diesel::insert_into(interests::table)
        .values(interest)
        .returning(InterestRow::as_returning())
        .get_result(conn)
}

pub fn update(
    conn: &mut PgConnection,
    code: &str,
    changes: &InterestChanges,
) -> QueryResult<Option<InterestRow>> {
    diesel::update(interests::table.find(code))
        .set(changes)
        .returning(InterestRow::as_returning())
        .get_result(conn)
        .optional()
}

/// Which of `codes` exist, active or not.
pub fn existing_codes(conn: &mut PgConnection, codes: &[String]) -> QueryResult<Vec<String>> {
    interests::table
        .filter(interests::code.eq_any(codes))
        .select(interests::code)
        .load(conn)
}
