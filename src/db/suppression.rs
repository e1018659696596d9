//! `suppressed_numbers`: keyed hashes of numbers that opted out.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::suppressed_numbers;

/// Adds a number's tag; adding it again changes nothing.
pub fn insert(conn: &mut PgConnection, tag: &[u8], now: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(suppressed_numbers::table)
        .values((
            suppressed_numbers::phone_hmac.eq(tag),
            suppressed_numbers::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(drop)
}

pub fn contains(conn: &mut PgConnection, tag: &[u8]) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        suppressed_numbers::table.filter(suppressed_numbers::phone_hmac.eq(tag)),
    ))
    .get_result(conn)
}
