-- Webhook hardening (issue 10): secret rotation with an overlap, disabling an endpoint that
-- has failed for days, and the two webhook events.

-- After a rotation the old secret still signs (beside the new one) until it expires.
ALTER TABLE webhooks
    ADD COLUMN previous_secret text,
    ADD COLUMN previous_secret_expires_at timestamptz,
    -- When the current run of failed attempts began; null after a success.
    ADD COLUMN failing_since timestamptz,
    ADD CONSTRAINT webhooks_previous_secret_expires
        CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL));

ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check CHECK (type IN (
    'lead.created', 'lead.updated', 'lead.erased', 'lead.opted_out', 'lead.sla_breached',
    'article.published', 'article.updated', 'article.unpublished', 'article.deleted',
    'webhook.disabled', 'webhook.test'));
