//! `meta_lead_fetches`: one Graph API fetch per lead Meta announced to a `meta` source, queued
//! in the transaction that acknowledges the notification and claimed through the shared
//! delivery queue (`db::queue`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::queue::Queue;
use super::schema::meta_lead_fetches;
use crate::domain::meta::LeadgenChange;
use crate::domain::webhook::DeliveryState;

/// Lead fetches in the shared queue: due only while their source is enabled and not deleted.
pub const QUEUE: Queue = Queue {
    table: "meta_lead_fetches",
    join: "JOIN lead_sources s ON s.id = d.lead_source_id",
    ready: "s.enabled AND s.deleted_at IS NULL",
};

/// Queues the fetch of `change`'s lead for the source; `false` when that lead is queued (or
/// fetched) already. Call it in the acknowledgement's transaction.
pub fn queue(
    conn: &mut PgConnection,
    source_id: Uuid,
    change: &LeadgenChange,
) -> QueryResult<bool> {
    use meta_lead_fetches as f;
    let id = |value: &Option<crate::domain::meta::GraphId>| {
        value.as_ref().map(|id| id.as_str().to_owned())
    };
    diesel::insert_into(f::table)
        .values((
            f::id.eq(Uuid::now_v7()),
            f::lead_source_id.eq(source_id),
            f::leadgen_id.eq(change.leadgen_id.as_str()),
            f::page_id.eq(id(&change.page_id)),
            f::form_id.eq(id(&change.form_id)),
            f::ad_id.eq(id(&change.ad_id)),
            f::adgroup_id.eq(id(&change.adgroup_id)),
            f::submitted_at.eq(change.created_time),
        ))
        .on_conflict((f::lead_source_id, f::leadgen_id))
        .do_nothing()
        .execute(conn)
        .map(|inserted| inserted == 1)
}

/// A claimed fetch with the page token to make it with.
#[derive(QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Integer)]
    pub attempt: i32,
    #[diesel(sql_type = SqlUuid)]
    pub lead_source_id: Uuid,
    #[diesel(sql_type = Text)]
    pub leadgen_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub page_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub form_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub ad_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub adgroup_id: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub submitted_at: Option<DateTime<Utc>>,
    /// The source's credentials (`None` only if they were removed).
    #[diesel(sql_type = Nullable<diesel::sql_types::Jsonb>)]
    pub credentials: Option<serde_json::Value>,
}

/// Claims one due fetch under a `lease_ms` lease ([`Queue::claim_sql`]); a first attempt is
/// due `first_wait_ms` after it was queued.
pub fn claim(
    conn: &mut PgConnection,
    first_wait_ms: i64,
    lease_ms: i64,
) -> QueryResult<Option<Claimed>> {
    diesel::sql_query(QUEUE.claim_sql(
        "SELECT c.id, c.attempts AS attempt, c.lead_source_id, c.leadgen_id, c.page_id, \
           c.form_id, c.ad_id, c.adgroup_id, c.submitted_at, s.credentials \
         FROM claimed c JOIN lead_sources s ON s.id = c.lead_source_id",
    ))
    .bind::<BigInt, _>(first_wait_ms)
    .bind::<BigInt, _>(lease_ms)
    .get_result(conn)
    .optional()
}

/// A source's fetches by state, for its admin view.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub pending: i64,
    pub failed: i64,
    /// Why the latest failed fetch failed.
    pub last_error: Option<String>,
}

pub fn counts(conn: &mut PgConnection, source_id: Uuid) -> QueryResult<Counts> {
    use meta_lead_fetches as f;
    let by_state: Vec<(String, i64)> = f::table
        .filter(f::lead_source_id.eq(source_id))
        .group_by(f::state)
        .select((f::state, diesel::dsl::count_star()))
        .load(conn)?;
    let count = |state: DeliveryState| {
        by_state
            .iter()
            .find(|(name, _)| name == state.as_str())
            .map_or(0, |(_, count)| *count)
    };
    let last_error = f::table
        .filter(f::lead_source_id.eq(source_id))
        .filter(f::state.eq(DeliveryState::Failed.as_str()))
        .order(f::updated_at.desc())
        .select(f::last_error)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    Ok(Counts {
        pending: count(DeliveryState::Pending),
        failed: count(DeliveryState::Failed),
        last_error,
    })
}
