-- Meta lead ads (issue 11): Meta's notification names a lead (`leadgen_id`); its answers are
-- fetched from the Graph API afterwards. One fetch per (source, lead), inserted in the
-- transaction that acknowledges the notification, so a redelivery adds nothing, and claimed
-- through the shared delivery queue (`db::queue`) like webhook deliveries and staff e-mails:
-- `attempts` counts the claims and fences a late result, `next_attempt_at` is the lease while
-- an attempt runs. The ids are Meta's (digits), not personal data; the answers never land here.
CREATE TABLE meta_lead_fetches (
    id uuid PRIMARY KEY,
    lead_source_id uuid NOT NULL REFERENCES lead_sources (id),
    leadgen_id text NOT NULL CHECK (leadgen_id ~ '^[0-9]{1,32}$'),
    page_id text CHECK (page_id ~ '^[0-9]{1,32}$'),
    form_id text CHECK (form_id ~ '^[0-9]{1,32}$'),
    ad_id text CHECK (ad_id ~ '^[0-9]{1,32}$'),
    adgroup_id text CHECK (adgroup_id ~ '^[0-9]{1,32}$'),
    -- When Meta says the person sent the form.
    submitted_at timestamptz,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- Why the last attempt failed (the Graph status and error code; never an answer or token).
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (lead_source_id, leadgen_id)
);
CREATE INDEX meta_lead_fetches_due ON meta_lead_fetches (next_attempt_at) WHERE state = 'pending';
