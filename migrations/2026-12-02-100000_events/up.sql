-- The transactional outbox: each row is written in the same transaction as the change it
-- reports, so neither exists without the other. Read by `GET /v1/events` and, later, by the
-- webhook and e-mail deliveries.
CREATE TABLE events (
    -- UUID v7, taken before commit: sortable by creation, but NOT the feed's order (see txid).
    id uuid PRIMARY KEY,
    type text NOT NULL CHECK (type IN (
        'lead.created', 'lead.updated', 'lead.erased', 'lead.opted_out', 'lead.sla_breached',
        'article.published', 'article.updated', 'article.unpublished', 'article.deleted')),
    occurred_at timestamptz NOT NULL,
    -- The lead or article the event is about (no foreign key: articles are deleted, events stay).
    subject_id uuid NOT NULL,
    -- De-identified: what any `admin` consumer may see.
    payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    -- The person's details, for subscriptions that opted in; cleared when the lead is erased.
    personal jsonb CHECK (personal IS NULL OR jsonb_typeof(personal) = 'object'),
    -- Time-based events (`INSERT … ON CONFLICT (dedupe_key) DO NOTHING`): exactly once however
    -- many processes find them.
    dedupe_key text UNIQUE,
    -- The writing transaction's id. The feed lists only events below the oldest transaction
    -- still running, ordered by (txid, id), so a late commit can never slip in behind a page a
    -- consumer has already read.
    txid bigint NOT NULL DEFAULT pg_current_xact_id()::text::bigint
);

-- The feed: keyset pages in (txid, id) order.
CREATE INDEX events_feed ON events (txid, id);
-- Erasure clears `personal` of every event of the lead.
CREATE INDEX events_personal_by_subject ON events (subject_id) WHERE personal IS NOT NULL;
