//! `notification_recipients` and `email_deliveries`: staff e-mails queued in the transaction
//! of the event they report, claimed through the shared delivery queue (`db::queue`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::queue::Queue;
use super::schema::notification_recipients;
use crate::domain::lead::Priority;

/// Staff e-mails in the shared queue: nothing else to wait for.
pub const QUEUE: Queue = Queue {
    table: "email_deliveries",
    join: "",
    ready: "true",
};

/// Replaces the recipients with `addresses` (none: no e-mail is queued from now on).
pub fn set_recipients(conn: &mut PgConnection, addresses: &[String]) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(
            notification_recipients::table
                .filter(notification_recipients::address.ne_all(addresses)),
        )
        .execute(conn)?;
        let rows: Vec<_> = addresses
            .iter()
            .map(|address| notification_recipients::address.eq(address))
            .collect();
        diesel::insert_into(notification_recipients::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(conn)?;
        Ok(())
    })
}

/// A claimed e-mail with the event it reports. `urgent` is worked out here so the priority
/// itself never leaves the database: from the event's personal part, else (an SLA breach
/// carries none) the lead's, while the lead is not erased.
#[derive(Debug, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Integer)]
    pub attempt: i32,
    #[diesel(sql_type = Text)]
    pub recipient: String,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Text)]
    pub event_type: String,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub payload: serde_json::Value,
    /// When the lead came in, while it is not erased.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub lead_created_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Bool)]
    pub urgent: bool,
}

/// Claims one due e-mail under a `lease_ms` lease; a first attempt is due `first_wait_ms` after
/// it was queued.
pub fn claim(
    conn: &mut PgConnection,
    first_wait_ms: i64,
    lease_ms: i64,
) -> QueryResult<Option<Claimed>> {
    diesel::sql_query(QUEUE.claim_sql(&format!(
        "SELECT c.id, c.attempts AS attempt, c.recipient, e.id AS event_id, \
           e.type AS event_type, e.occurred_at, e.payload, l.created_at AS lead_created_at, \
           coalesce(coalesce(e.personal ->> 'priority', l.priority) = '{urgent}', false) \
             AS urgent \
         FROM claimed c JOIN events e ON e.id = c.event_id \
         LEFT JOIN leads l ON l.id = e.subject_id AND l.erased_at IS NULL",
        urgent = Priority::Urgent.as_str(),
    )))
    .bind::<BigInt, _>(first_wait_ms)
    .bind::<BigInt, _>(lease_ms)
    .get_result(conn)
    .optional()
}
