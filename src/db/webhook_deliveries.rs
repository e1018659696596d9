//! `webhook_deliveries` and `webhook_attempts`: the fan-out of each event to the subscriptions
//! that want it, claimed by workers with `FOR UPDATE SKIP LOCKED` under a lease.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::enums::literal;
use super::queue::Queue;
use super::schema::webhook_attempts;
use crate::domain::event::EventType;
use crate::domain::webhook::DeliveryState;

/// One delivery of the event to this subscription only (a test delivery); returns its id.
pub fn insert_one(conn: &mut PgConnection, webhook_id: Uuid, event_id: Uuid) -> QueryResult<Uuid> {
    use super::schema::webhook_deliveries as d;
    diesel::insert_into(d::table)
        .values((
            d::id.eq(Uuid::now_v7()),
            d::webhook_id.eq(webhook_id),
            d::event_id.eq(event_id),
        ))
        .returning(d::id)
        .get_result(conn)
}

/// A claimed delivery with what it takes to send it.
#[derive(Debug, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// This attempt's number (1-based); it fences the result.
    #[diesel(sql_type = Integer)]
    pub attempt: i32,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub format: String,
    #[diesel(sql_type = SqlUuid)]
    pub webhook_id: Uuid,
    #[diesel(sql_type = Text)]
    pub secret: String,
    /// A rotated-out secret still within its overlap.
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pub previous_secret: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub include_personal_data: bool,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = SqlUuid)]
    pub subject_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Jsonb>)]
    pub personal: Option<serde_json::Value>,
}

/// Webhook deliveries in the shared queue: due only while their subscription is enabled.
pub const QUEUE: Queue = Queue {
    table: "webhook_deliveries",
    join: "JOIN webhooks w ON w.id = d.webhook_id",
    ready: "w.enabled",
};

/// Claims one due delivery of an enabled subscription under a `lease_ms` lease
/// ([`Queue::claim_sql`]); a first attempt is due `first_wait_ms` after the event.
pub fn claim(
    conn: &mut PgConnection,
    first_wait_ms: i64,
    lease_ms: i64,
) -> QueryResult<Option<Claimed>> {
    diesel::sql_query(QUEUE.claim_sql(
        "SELECT c.id, c.attempts AS attempt, w.url, w.format, c.webhook_id, w.secret, \
           CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END \
             AS previous_secret, \
           w.include_personal_data, e.id AS event_id, e.type AS event_type, e.occurred_at, \
           e.subject_id, e.payload, e.personal \
         FROM claimed c JOIN webhooks w ON w.id = c.webhook_id JOIN events e ON e.id = c.event_id",
    ))
    .bind::<BigInt, _>(first_wait_ms)
    .bind::<BigInt, _>(lease_ms)
    .get_result(conn)
    .optional()
}

#[derive(Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct NewAttempt<'a> {
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub number: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<&'a str>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Records the attempt and moves the delivery on: `state`, due again at `next_attempt_at`.
/// Only the holder of the current claim (`attempt` still the delivery's count) moves it.
pub fn finish(
    conn: &mut PgConnection,
    attempt: &NewAttempt<'_>,
    state: DeliveryState,
) -> QueryResult<bool> {
    conn.transaction(|conn| {
        diesel::insert_into(webhook_attempts::table)
            .values(attempt)
            .on_conflict_do_nothing()
            .execute(conn)?;
        QUEUE.finish(
            conn,
            attempt.delivery_id,
            attempt.number,
            state,
            attempt.next_attempt_at,
        )
    })
}

/// A delivery as its subscription's owner sees it.
#[derive(Debug, QueryableByName)]
pub struct DeliveryRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: EventType,
    #[diesel(sql_type = Text)]
    pub state: DeliveryState,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub next_attempt_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// A subscription's deliveries, newest first, after the `(created_at, id)` position.
pub fn list(
    conn: &mut PgConnection,
    webhook_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    diesel::sql_query(
        "SELECT d.id, d.event_id, e.type AS event_type, d.state, d.attempts, \
           d.next_attempt_at, d.created_at \
         FROM webhook_deliveries d JOIN events e ON e.id = d.event_id \
         WHERE d.webhook_id = $1 \
           AND ($2::timestamptz IS NULL OR (d.created_at, d.id) < ($2, $3)) \
         ORDER BY d.created_at DESC, d.id DESC LIMIT $4",
    )
    .bind::<SqlUuid, _>(webhook_id)
    .bind::<diesel::sql_types::Nullable<Timestamptz>, _>(after.map(|(at, _)| at))
    .bind::<SqlUuid, _>(after.map_or(Uuid::nil(), |(_, id)| id))
    .bind::<BigInt, _>(limit)
    .load(conn)
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts, check_for_backend(diesel::pg::Pg))]
pub struct AttemptRow {
    pub delivery_id: Uuid,
    pub number: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Every attempt of these deliveries, in order.
pub fn attempts_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<AttemptRow>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(ids))
        .order((webhook_attempts::delivery_id, webhook_attempts::number))
        .select(AttemptRow::as_select())
        .load(conn)
}

/// Makes a finished delivery of the subscription due now for one more attempt; `false` when
/// there is no such delivery or it is still pending.
pub fn retry(conn: &mut PgConnection, webhook_id: Uuid, delivery_id: Uuid) -> QueryResult<bool> {
    diesel::sql_query(format!(
        "UPDATE webhook_deliveries SET state = {pending}, next_attempt_at = now(), \
           updated_at = now() \
         WHERE id = $1 AND webhook_id = $2 AND state <> {pending}",
        pending = literal(DeliveryState::Pending),
    ))
    .bind::<SqlUuid, _>(delivery_id)
    .bind::<SqlUuid, _>(webhook_id)
    .execute(conn)
    .map(|moved| moved == 1)
}

pub fn exists(conn: &mut PgConnection, webhook_id: Uuid, delivery_id: Uuid) -> QueryResult<bool> {
    use super::schema::webhook_deliveries as d;
    diesel::select(diesel::dsl::exists(
        d::table.filter(d::id.eq(delivery_id).and(d::webhook_id.eq(webhook_id))),
    ))
    .get_result(conn)
}
