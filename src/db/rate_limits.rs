//! Queries on `rate_limit_windows`: fixed-window counters shared by every replica.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::rate_limit_windows;

/// Counts one request of `subject` in the window starting at `window_start` and returns the
/// window's count so far. The row stays locked until the transaction ends, so a request that
/// is refused and rolled back does not count.
pub fn hit(
    conn: &mut PgConnection,
    bucket: &str,
    subject: &[u8],
    window_start: DateTime<Utc>,
) -> QueryResult<i32> {
    diesel::insert_into(rate_limit_windows::table)
        .values((
            rate_limit_windows::bucket.eq(bucket),
            rate_limit_windows::subject.eq(subject),
            rate_limit_windows::window_start.eq(window_start),
            rate_limit_windows::count.eq(1),
        ))
        .on_conflict((
            rate_limit_windows::bucket,
            rate_limit_windows::subject,
            rate_limit_windows::window_start,
        ))
        .do_update()
        .set(rate_limit_windows::count.eq(rate_limit_windows::count + 1))
        .returning(rate_limit_windows::count)
        .get_result(conn)
}

/// Deletes up to `batch` windows that started before `before`, skipping rows another
/// transaction holds, so pruning never waits.
pub fn prune(conn: &mut PgConnection, before: DateTime<Utc>, batch: i64) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM rate_limit_windows WHERE ctid IN (SELECT ctid FROM rate_limit_windows \
         WHERE window_start < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(before)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .execute(conn)
}
