-- Webhook subscriptions (issue 10). The signing secret is kept as written: Beacon needs it to
-- sign every delivery, so unlike an API key it cannot be a hash.
CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    url text NOT NULL,
    -- Event type names, or the single entry '*' for every type.
    events text[] NOT NULL CHECK (cardinality(events) > 0),
    enabled boolean NOT NULL DEFAULT true,
    include_personal_data boolean NOT NULL DEFAULT false,
    description text,
    format text NOT NULL DEFAULT 'standard' CHECK (format IN ('standard', 'slack')),
    secret text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_created_at_id ON webhooks (created_at DESC, id DESC);

-- Letting a subscription receive personal data is an access to it: the audit records who did.
ALTER TABLE access_audit DROP CONSTRAINT access_audit_action_check;
ALTER TABLE access_audit ADD CONSTRAINT access_audit_action_check CHECK (action IN
    ('lead.read', 'lead.list', 'lead.export', 'lead.erase', 'lead.reinstate', 'key.created',
     'key.revoked', 'webhook.personal_data_enabled'));
