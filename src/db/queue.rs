//! The delivery queue every channel shares (webhook deliveries, staff e-mails, Meta lead
//! fetches): a row per thing to send or fetch, claimed by any worker of any process with
//! `FOR UPDATE SKIP LOCKED` under a lease, and moved on only by the holder of the current
//! claim. The tables differ only in what a row does; their queue columns are the same: `id`,
//! `state`, `attempts`, `next_attempt_at`, `updated_at`.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::enums::literal;
use crate::domain::webhook::DeliveryState;

/// A queue table, and what else a row needs to be claimable (a `JOIN` and a condition on it).
pub struct Queue {
    pub table: &'static str,
    /// Joined to the row `d`, e.g. its subscription; empty for none.
    pub join: &'static str,
    /// Added to the claim's `WHERE`, e.g. that the subscription is enabled; `true` for none.
    pub ready: &'static str,
}

impl Queue {
    /// A statement that claims one due row: its attempt count goes up and it is not due again
    /// until `$2` milliseconds from now, so no other worker takes it meanwhile, and a worker
    /// that dies holding it only delays it. A first attempt is due `$1` milliseconds after the
    /// row was queued. The claimed row is the CTE `claimed`, which `select` reads (joining what
    /// the sender needs). One statement: the row lock lasts only while it runs.
    pub fn claim_sql(&self, select: &str) -> String {
        format!(
            "WITH due AS ( \
               SELECT d.id FROM {table} d {join} \
               WHERE d.state = {pending} AND ({ready}) \
                 AND d.next_attempt_at + CASE WHEN d.attempts = 0 \
                     THEN $1 * interval '1 millisecond' ELSE interval '0' END <= now() \
               ORDER BY d.next_attempt_at LIMIT 1 \
               FOR UPDATE OF d SKIP LOCKED), \
             claimed AS ( \
               UPDATE {table} d SET attempts = d.attempts + 1, \
                 next_attempt_at = clock_timestamp() + $2 * interval '1 millisecond', \
                 updated_at = now() \
               FROM due WHERE d.id = due.id \
               RETURNING d.*) \
             {select}",
            table = self.table,
            join = self.join,
            ready = self.ready,
            pending = literal(DeliveryState::Pending),
        )
    }

    /// Moves a claimed row to `state`, due again at `next` (unchanged when `None`). Only the
    /// holder of the current claim (`attempt` still the row's count) moves it; `false` when a
    /// later claim took over.
    pub fn finish(
        &self,
        conn: &mut PgConnection,
        id: Uuid,
        attempt: i32,
        state: DeliveryState,
        next: Option<DateTime<Utc>>,
    ) -> QueryResult<bool> {
        self.finish_setting("", id, attempt, state, next)
            .execute(conn)
            .map(|moved| moved == 1)
    }

    /// [`finish`](Self::finish) for a queue whose rows keep why their last attempt failed
    /// (`last_error`), written by the same statement.
    pub fn finish_noting_error(
        &self,
        conn: &mut PgConnection,
        id: Uuid,
        attempt: i32,
        state: DeliveryState,
        next: Option<DateTime<Utc>>,
        error: Option<&str>,
    ) -> QueryResult<bool> {
        self.finish_setting(", last_error = $5", id, attempt, state, next)
            .bind::<Nullable<Text>, _>(error)
            .execute(conn)
            .map(|moved| moved == 1)
    }

    fn finish_setting(
        &self,
        also_set: &str,
        id: Uuid,
        attempt: i32,
        state: DeliveryState,
        next: Option<DateTime<Utc>>,
    ) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        diesel::sql_query(format!(
            "UPDATE {table} SET state = $1, \
               next_attempt_at = coalesce($2, next_attempt_at), updated_at = now(){also_set} \
             WHERE id = $3 AND attempts = $4 AND state = {pending}",
            table = self.table,
            pending = literal(DeliveryState::Pending),
        ))
        .into_boxed()
        .bind::<Text, _>(state.as_str())
        .bind::<Nullable<Timestamptz>, _>(next)
        .bind::<SqlUuid, _>(id)
        .bind::<Integer, _>(attempt)
    }
}
