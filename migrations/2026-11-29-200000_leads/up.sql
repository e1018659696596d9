-- The conditions a form asks about. Codes are referenced by leads, so they are deactivated,
-- never deleted.
CREATE TABLE interests (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,63}$'),
    label text NOT NULL CHECK (char_length(label) BETWEEN 1 AND 100),
    active boolean NOT NULL DEFAULT true,
    -- Order of the form's checklist, then code.
    position integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT diesel_manage_updated_at('interests');

INSERT INTO interests (code, label, position) VALUES
    ('treatment_resistant_depression', 'Treatment-resistant depression', 1),
    ('suicidal_ideation', 'Suicidal ideation', 2),
    ('ptsd', 'Post-traumatic stress disorder', 3);

-- One row per person to call back. Every enquiry is also kept in lead_submissions.
-- Spam is quarantined as status 'spam' and kept out of dedupe and of lead lists.
CREATE TABLE leads (
    id uuid PRIMARY KEY,
    status text NOT NULL CHECK (status IN ('new', 'spam')),
    priority text NOT NULL CHECK (priority IN ('normal', 'urgent')),
    contact_by timestamptz NOT NULL,
    -- Latest consent answer: false means "do not call for marketing"; null means never asked.
    marketing_consent boolean,
    submission_count integer NOT NULL DEFAULT 1 CHECK (submission_count > 0),
    first_received_at timestamptz NOT NULL,
    last_received_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Personal data, latest values: erasure nulls these columns and keeps the row.
    name text,
    phone text,
    phone_e164 text,
    email text,
    interests text[]
);
SELECT diesel_manage_updated_at('leads');
-- Dedupe looks up the latest real lead for a number.
CREATE INDEX leads_dedupe ON leads (phone_e164, last_received_at DESC)
    WHERE status <> 'spam' AND phone_e164 IS NOT NULL;

-- Every enquiry exactly as it arrived (after validation), so nothing a person sent is lost
-- when it is merged into an existing lead.
CREATE TABLE lead_submissions (
    id uuid PRIMARY KEY,
    lead_id uuid NOT NULL REFERENCES leads (id),
    received_at timestamptz NOT NULL,
    -- True when this enquiry was merged into an existing lead.
    duplicate boolean NOT NULL,
    spam_reason text CHECK (spam_reason IN ('honeypot', 'too_fast')),
    utm_source text,
    utm_medium text,
    utm_campaign text,
    utm_term text,
    utm_content text,
    gclid text,
    fbclid text,
    referrer text,
    landing_page text,
    -- The article the enquiry came from; plain text, articles may be renamed or removed.
    article_slug text,
    -- Personal data: erasure nulls these columns and keeps the row.
    name text,
    phone text,
    phone_e164 text,
    email text,
    interests text[],
    message text,
    preferred_contact_time text
);
CREATE INDEX lead_submissions_by_lead ON lead_submissions (lead_id, received_at);

-- Consent evidence, append-only: what wording was shown, what the person answered, and from
-- where. Rows are never changed or deleted.
CREATE TABLE consent_records (
    id uuid PRIMARY KEY,
    lead_id uuid NOT NULL REFERENCES leads (id),
    submission_id uuid NOT NULL UNIQUE REFERENCES lead_submissions (id),
    agreed boolean NOT NULL,
    wording text NOT NULL,
    wording_sha256 bytea NOT NULL CHECK (octet_length(wording_sha256) = 32),
    form_version text,
    recorded_at timestamptz NOT NULL,
    -- The client's address as resolved through trusted proxies.
    ip text,
    user_agent text,
    page_url text
);
CREATE INDEX consent_records_by_lead ON consent_records (lead_id, recorded_at);

CREATE FUNCTION consent_records_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent_records are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER consent_records_append_only
    BEFORE UPDATE OR DELETE ON consent_records
    FOR EACH ROW EXECUTE FUNCTION consent_records_are_append_only();
