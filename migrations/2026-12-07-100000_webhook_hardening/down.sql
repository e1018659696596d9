DELETE FROM webhook_deliveries
    WHERE event_id IN (SELECT id FROM events WHERE type IN ('webhook.disabled', 'webhook.test'));
DELETE FROM events WHERE type IN ('webhook.disabled', 'webhook.test');
ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check CHECK (type IN (
    'lead.created', 'lead.updated', 'lead.erased', 'lead.opted_out', 'lead.sla_breached',
    'article.published', 'article.updated', 'article.unpublished', 'article.deleted'));

ALTER TABLE webhooks
    DROP CONSTRAINT webhooks_previous_secret_expires,
    DROP COLUMN failing_since,
    DROP COLUMN previous_secret_expires_at,
    DROP COLUMN previous_secret;
