//! `events`, the outbox: rows written in the transaction of the change they report, the
//! commit-safe feed, and the scans that find time-based events.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::enums::literal;
use super::prepared::KeepPrepared;
use super::schema::events;
use crate::domain::article::Status;
use crate::domain::event::EventType;
use crate::domain::pipeline::LeadStatus;
use crate::domain::webhook::ALL_EVENTS;

/// The channel every new event is announced on (`pg_notify`, delivered at commit).
pub const CHANNEL: &str = "beacon_events";

/// Only events of transactions below the oldest one still running: every transaction there has
/// ended, so the set below that horizon is final and a page read from it never changes later.
const SETTLED: &str = "events.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

#[derive(Insertable)]
#[diesel(table_name = events)]
pub struct NewEventRow<'a> {
    pub id: Uuid,
    #[diesel(column_name = type_)]
    pub kind: EventType,
    pub occurred_at: DateTime<Utc>,
    pub subject_id: Uuid,
    pub payload: serde_json::Value,
    pub personal: Option<serde_json::Value>,
    pub dedupe_key: Option<&'a str>,
}

/// An event as the feed shows it: never its personal part.
#[derive(Queryable, Selectable)]
#[diesel(table_name = events, check_for_backend(Pg))]
pub struct FeedRow {
    pub id: Uuid,
    #[diesel(column_name = type_)]
    pub kind: EventType,
    pub occurred_at: DateTime<Utc>,
    pub subject_id: Uuid,
    pub payload: serde_json::Value,
}

/// Inserts the event with one webhook delivery per enabled subscription that wants it, one
/// staff e-mail per recipient when `mail_staff`, and a `pg_notify` on [`CHANNEL`] (delivered at
/// commit): one statement, one round trip. Returns `false`, having written nothing, when the
/// event's dedupe key was taken already (by this process or another).
pub fn insert_and_fan_out(
    conn: &mut PgConnection,
    row: &NewEventRow<'_>,
    mail_staff: bool,
) -> QueryResult<bool> {
    // Data-modifying CTEs all run to completion, whether or not the final SELECT reads them;
    // with no event inserted they have no row to fan out from.
    diesel::sql_query(
        "WITH event AS ( \
           INSERT INTO events (id, type, occurred_at, subject_id, payload, personal, dedupe_key) \
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id \
         ), hooks AS ( \
           INSERT INTO webhook_deliveries (id, webhook_id, event_id) \
           SELECT gen_random_uuid(), w.id, event.id FROM event, webhooks w \
           WHERE w.enabled AND ($2 = ANY (w.events) OR $8 = ANY (w.events)) \
           ON CONFLICT (webhook_id, event_id) DO NOTHING \
         ), mail AS ( \
           INSERT INTO email_deliveries (id, event_id, recipient) \
           SELECT gen_random_uuid(), event.id, r.address FROM event, notification_recipients r \
           WHERE $9 ON CONFLICT (event_id, recipient) DO NOTHING \
         ) \
         SELECT count(*) AS inserted FROM (SELECT pg_notify($10, '') FROM event) announced",
    )
    .bind::<SqlUuid, _>(row.id)
    .bind::<Text, _>(row.kind.as_str())
    .bind::<Timestamptz, _>(row.occurred_at)
    .bind::<SqlUuid, _>(row.subject_id)
    .bind::<Jsonb, _>(&row.payload)
    .bind::<Nullable<Jsonb>, _>(&row.personal)
    .bind::<Nullable<Text>, _>(row.dedupe_key)
    .bind::<Text, _>(ALL_EVENTS)
    .bind::<Bool, _>(mail_staff)
    .bind::<Text, _>(CHANNEL)
    .keep_prepared()
    .get_result::<Inserted>(conn)
    .map(|row| row.inserted == 1)
}

/// Inserts the event alone; `false` when its dedupe key was taken already.
pub fn insert(conn: &mut PgConnection, row: &NewEventRow<'_>) -> QueryResult<bool> {
    diesel::insert_into(events::table)
        .values(row)
        .on_conflict(events::dedupe_key)
        .do_nothing()
        .execute(conn)
        .map(|inserted| inserted == 1)
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    inserted: i64,
}

/// Where the event `id` sits in the feed's order: its transaction id.
pub fn position(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<i64>> {
    events::table
        .find(id)
        .select(events::txid)
        .first(conn)
        .optional()
}

/// Up to `limit` settled events after `(txid, id)`, in `(txid, id)` order. One statement, so
/// the horizon and the rows it returns come from the same snapshot.
pub fn feed(
    conn: &mut PgConnection,
    after: Option<(i64, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<FeedRow>> {
    // A test delivery's event concerns one subscription, not the clinic's data.
    let mut query = events::table
        .filter(sql::<Bool>(SETTLED))
        .filter(events::type_.ne(EventType::WebhookTest))
        .into_boxed();
    if let Some((txid, id)) = after {
        // A row comparison the (txid, id) index answers directly.
        query = query.filter(
            sql::<Bool>("(events.txid, events.id) > (")
                .bind::<BigInt, _>(txid)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        );
    }
    query
        .order((events::txid, events::id))
        .limit(limit)
        .select(FeedRow::as_select())
        .load(conn)
}

/// Whether any event names this subject.
pub fn any_about(conn: &mut PgConnection, subject_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        events::table.filter(events::subject_id.eq(subject_id)),
    ))
    .get_result(conn)
}

/// Clears the personal part of every event about the subject; returns how many held one.
pub fn forget_personal(conn: &mut PgConnection, subject_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        events::table
            .filter(events::subject_id.eq(subject_id))
            .filter(events::personal.is_not_null()),
    )
    .set(events::personal.eq(None::<serde_json::Value>))
    .execute(conn)
}

/// A scheduled article whose time has come.
#[derive(QueryableByName)]
pub struct DueArticle {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub slug: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub title: String,
    #[diesel(sql_type = Timestamptz)]
    pub published_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub version: i32,
}

/// Up to `limit` articles scheduled for `now` or earlier whose publication has no event yet,
/// locked until the transaction ends; articles an editor (or another scan) holds are skipped,
/// and found by the next scan. The key built here is `domain::event::scheduled_publication_key`.
pub fn due_scheduled_articles(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<DueArticle>> {
    diesel::sql_query(format!(
        "SELECT a.id, a.slug, a.title, a.published_at, a.version FROM articles a \
         WHERE a.status = {scheduled} AND a.published_at <= $1 \
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.dedupe_key = \
               '{published}:' || a.id::text || ':' \
               || (extract(epoch FROM a.published_at) * 1000000)::bigint::text) \
         ORDER BY a.published_at, a.id LIMIT $2 \
         FOR NO KEY UPDATE OF a SKIP LOCKED",
        scheduled = literal(Status::Scheduled),
        published = EventType::ArticlePublished.as_str(),
    ))
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// A `new` lead past its deadline. Nothing personal.
#[derive(QueryableByName)]
pub struct OverdueLead {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub contact_by: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub assignee: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Timestamptz>)]
    pub opted_out_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub source: Option<String>,
}

/// Up to `limit` live `new` leads whose `contact_by` passed before `now` and whose breach of
/// it has no event yet, locked like [`due_scheduled_articles`]. The key built here is
/// `domain::event::sla_breach_key`.
pub fn overdue_leads(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<OverdueLead>> {
    diesel::sql_query(format!(
        "SELECT l.id, l.contact_by, l.assignee, l.opted_out_at, l.source FROM leads l \
         WHERE l.status = {new} AND l.erased_at IS NULL AND l.contact_by < $1 \
           AND NOT EXISTS (SELECT 1 FROM events e WHERE e.dedupe_key = \
               '{breached}:' || l.id::text || ':' \
               || (extract(epoch FROM l.contact_by) * 1000000)::bigint::text) \
         ORDER BY l.contact_by, l.id LIMIT $2 \
         FOR NO KEY UPDATE OF l SKIP LOCKED",
        new = literal(LeadStatus::New),
        breached = EventType::LeadSlaBreached.as_str(),
    ))
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Deletes up to `limit` events that happened before `cutoff` and that no delivery still
/// needs (none `pending`, by webhook or e-mail), with their finished deliveries (attempts go
/// with them); events another transaction holds are left for the next run. One statement:
/// the foreign keys are checked once its deletes are all done.
pub fn purge_before(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "WITH old AS ( \
           SELECT e.id FROM events e WHERE e.occurred_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
                             WHERE d.event_id = e.id AND d.state = {pending}) \
             AND NOT EXISTS (SELECT 1 FROM email_deliveries m \
                             WHERE m.event_id = e.id AND m.state = {pending}) \
           ORDER BY e.occurred_at LIMIT $2 \
           FOR UPDATE OF e SKIP LOCKED), \
         hooks AS (DELETE FROM webhook_deliveries d USING old WHERE d.event_id = old.id), \
         mails AS (DELETE FROM email_deliveries m USING old WHERE m.event_id = old.id) \
         DELETE FROM events e USING old WHERE e.id = old.id",
        pending = literal(crate::domain::webhook::DeliveryState::Pending),
    ))
    .bind::<Timestamptz, _>(cutoff)
    .bind::<BigInt, _>(limit)
    .execute(conn)
}
