//! `suppressed_numbers`: keyed hashes of numbers that opted out, with their latest opt-out.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::suppressed_numbers;

/// Adds a number's tag, or moves its time to this latest opt-out.
pub fn insert(conn: &mut PgConnection, tag: &[u8], now: DateTime<Utc>) -> QueryResult<()> {
    diesel::insert_into(suppressed_numbers::table)
        .values((
            suppressed_numbers::phone_hmac.eq(tag),
            suppressed_numbers::opted_out_at.eq(now),
        ))
        .on_conflict(suppressed_numbers::phone_hmac)
        .do_update()
        .set(suppressed_numbers::opted_out_at.eq(now))
        .execute(conn)
        .map(drop)
}

/// When the number last opted out; `None` when no opt-out stands.
pub fn opted_out_at(conn: &mut PgConnection, tag: &[u8]) -> QueryResult<Option<DateTime<Utc>>> {
    suppressed_numbers::table
        .find(tag)
        .select(suppressed_numbers::opted_out_at)
        .first(conn)
        .optional()
}

/// Lifts the number's opt-out; `false` when none stood.
pub fn remove(conn: &mut PgConnection, tag: &[u8]) -> QueryResult<bool> {
    diesel::delete(suppressed_numbers::table.find(tag))
        .execute(conn)
        .map(|deleted| deleted > 0)
}
