//! What waits in the database, read for each metrics scrape: one statement, counts only.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Timestamptz};

use super::enums::literal;
use crate::domain::pipeline::LeadStatus;
use crate::domain::webhook::DeliveryState;

#[derive(QueryableByName, Debug, PartialEq)]
pub struct BacklogRow {
    #[diesel(sql_type = BigInt)]
    pub overdue_leads: i64,
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    #[diesel(sql_type = BigInt)]
    pub delivered: i64,
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
    /// Zero when nothing is pending.
    #[diesel(sql_type = Double)]
    pub oldest_pending_secs: f64,
}

/// Overdue leads come from the partial index `leads_overdue`; the deliveries are one pass over
/// `webhook_deliveries` (small: a row per event and subscription).
pub fn read(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<BacklogRow> {
    diesel::sql_query(format!(
        "SELECT (SELECT count(*) FROM leads WHERE status = {new} AND erased_at IS NULL \
                    AND contact_by < $1) AS overdue_leads, \
                count(*) FILTER (WHERE state = {pending}) AS pending, \
                count(*) FILTER (WHERE state = {delivered}) AS delivered, \
                count(*) FILTER (WHERE state = {failed}) AS failed, \
                COALESCE(extract(epoch FROM $1 - min(created_at) FILTER \
                    (WHERE state = {pending}))::float8, 0) AS oldest_pending_secs \
         FROM webhook_deliveries",
        new = literal(LeadStatus::New),
        pending = literal(DeliveryState::Pending),
        delivered = literal(DeliveryState::Delivered),
        failed = literal(DeliveryState::Failed),
    ))
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
}
