-- Lead sources (issue 11): where leads come from besides the site's own form. Deleting a source
-- keeps its row as a name-only record (`deleted_at` set, key revoked, credentials cleared), so
-- its leads still say where they came from.
CREATE TABLE lead_sources (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind IN ('google_ads', 'meta', 'api')),
    enabled boolean NOT NULL DEFAULT true,
    -- Default attribution for the source's leads; a value the lead carries wins.
    utm_source text,
    utm_medium text,
    utm_campaign text,
    -- kind `api`: the `leads:create` key its tools post with.
    api_key_id uuid UNIQUE REFERENCES api_keys (id),
    -- Per-kind secrets of the webhook kinds to come (Google's key, Meta's app secret and page
    -- token); null for `api`, whose only credential is its key.
    credentials jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CHECK ((kind = 'api') = (api_key_id IS NOT NULL) OR deleted_at IS NOT NULL)
);
CREATE INDEX lead_sources_created_at_id ON lead_sources (created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- The source of each enquiry, and of the enquiry that created each lead (null: the site's own
-- form). Not personal data, so erasure keeps both.
ALTER TABLE lead_submissions ADD COLUMN lead_source_id uuid REFERENCES lead_sources (id);
ALTER TABLE leads ADD COLUMN lead_source_id uuid REFERENCES lead_sources (id);
CREATE INDEX leads_lead_source_id ON leads (lead_source_id, created_at DESC, id DESC)
    WHERE lead_source_id IS NOT NULL;
