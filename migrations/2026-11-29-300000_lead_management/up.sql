-- Lead management and privacy: the staff pipeline, activity history, access audit, opt-outs
-- (suppression list) and erasure.

-- The whole pipeline of domain::pipeline::LeadStatus.
ALTER TABLE leads DROP CONSTRAINT leads_status_check;
ALTER TABLE leads ADD CONSTRAINT leads_status_check CHECK (status IN
    ('new', 'contacted', 'qualified', 'unqualified', 'closed', 'do_not_contact', 'spam'));

ALTER TABLE leads
    -- Who on the staff works the lead: a name or an address, as the clinic writes it.
    ADD COLUMN assignee text CHECK (char_length(assignee) BETWEEN 1 AND 100),
    -- Goes up with every change of the row (trigger below, so intake merges count too): the
    -- ETag that If-Match is compared with.
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    -- First-touch attribution: the utm_source of the lead's first submission that had one.
    ADD COLUMN source text,
    -- When staff first moved the lead out of `new` (to `contacted` or `do_not_contact`, not
    -- to spam), and whether that was by `contact_by`: the statistics' on time and late.
    ADD COLUMN first_contacted_at timestamptz,
    ADD COLUMN contacted_on_time boolean,
    -- Erasure leaves an anonymous tombstone: id, status (the outcome), source, the day (all
    -- times are cut to the clinic-local day), how many interests, and who erased it when.
    ADD COLUMN interest_count integer,
    ADD COLUMN erased_at timestamptz,
    ADD COLUMN erased_by text,
    ADD COLUMN erased_by_key_id uuid,
    ADD CONSTRAINT leads_erasure_is_recorded CHECK (
        (erased_at IS NULL) = (erased_by IS NULL)
        AND (erased_at IS NULL OR (name IS NULL AND phone IS NULL AND phone_e164 IS NULL
            AND email IS NULL AND interests IS NULL)));

-- An urgent priority says the person reported suicidal thoughts: a tombstone keeps none.
ALTER TABLE leads ALTER COLUMN priority DROP NOT NULL;
ALTER TABLE leads ADD CONSTRAINT leads_priority_until_erased
    CHECK (priority IS NOT NULL OR erased_at IS NOT NULL);

-- Newest first, the order of lists and exports; retention looks at the latest enquiry.
CREATE INDEX leads_newest ON leads (created_at DESC, id DESC) WHERE erased_at IS NULL;
CREATE INDEX leads_overdue ON leads (contact_by) WHERE status = 'new' AND erased_at IS NULL;
CREATE INDEX leads_retention ON leads (last_received_at) WHERE erased_at IS NULL;
CREATE INDEX leads_by_phone ON leads (phone_e164) WHERE phone_e164 IS NOT NULL;

CREATE FUNCTION leads_bump_version() RETURNS trigger AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER leads_bump_version BEFORE UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION leads_bump_version();

-- Keeps leads.source without intake having to know about it.
CREATE FUNCTION leads_take_first_source() RETURNS trigger AS $$
BEGIN
    IF NEW.utm_source IS NOT NULL THEN
        UPDATE leads SET source = NEW.utm_source WHERE id = NEW.lead_id AND source IS NULL;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER lead_submissions_source AFTER INSERT ON lead_submissions
    FOR EACH ROW EXECUTE FUNCTION leads_take_first_source();

UPDATE leads SET source = first.utm_source
FROM (SELECT DISTINCT ON (lead_id) lead_id, utm_source FROM lead_submissions
      WHERE utm_source IS NOT NULL ORDER BY lead_id, received_at) AS first
WHERE first.lead_id = leads.id;

-- What happened to a lead and who did it: status changes (spam and not spam included),
-- assignments, notes, opt-outs and erasure.
CREATE TABLE lead_activity (
    id uuid PRIMARY KEY,
    lead_id uuid NOT NULL REFERENCES leads (id),
    at timestamptz NOT NULL,
    -- The API key's name, or what acted without one ('opt-out request', 'retention').
    actor text NOT NULL,
    actor_key_id uuid,
    action text NOT NULL CHECK (action IN
        ('status_changed', 'assigned', 'unassigned', 'note_added', 'opted_out', 'erased')),
    from_status text,
    to_status text,
    assignee text,
    -- Staff's own words may name the person or their health: erasure clears them.
    note text
);
CREATE INDEX lead_activity_by_lead ON lead_activity (lead_id, at);

-- Who read personal data, exported or erased it. Append-only. Search terms are never stored.
CREATE TABLE access_audit (
    id uuid PRIMARY KEY,
    at timestamptz NOT NULL,
    -- Null for work done without a key (the retention task, `beacon leads purge`).
    key_id uuid,
    key_name text NOT NULL,
    action text NOT NULL CHECK (action IN ('lead.read', 'lead.list', 'lead.export', 'lead.erase')),
    lead_id uuid,
    -- The leads a list read showed.
    lead_ids uuid[],
    -- The filters of a list or export, `q` redacted.
    filter jsonb,
    row_count integer NOT NULL CHECK (row_count >= 0)
);
CREATE INDEX access_audit_newest ON access_audit (at DESC, id DESC);
CREATE INDEX access_audit_by_lead ON access_audit (lead_id) WHERE lead_id IS NOT NULL;

CREATE FUNCTION access_audit_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'access_audit is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER access_audit_append_only BEFORE UPDATE OR DELETE ON access_audit
    FOR EACH ROW EXECUTE FUNCTION access_audit_is_append_only();

-- Numbers that opted out, as HMAC-SHA256 of the E.164 number under a per-installation key
-- (instance_secrets 'suppression_key' or BEACON_SUPPRESSION_SECRET): the list outlives
-- erasure without holding a number.
CREATE TABLE suppressed_numbers (
    phone_hmac bytea PRIMARY KEY CHECK (octet_length(phone_hmac) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- An opt-out is consent evidence too: a new record (agreed = false) with no submission.
ALTER TABLE consent_records ALTER COLUMN submission_id DROP NOT NULL;
ALTER TABLE consent_records
    ADD COLUMN kind text NOT NULL DEFAULT 'form' CHECK (kind IN ('form', 'opt_out')),
    ADD CONSTRAINT consent_records_form_has_submission
        CHECK ((kind = 'form') = (submission_id IS NOT NULL));

-- Still append-only, except that erasure removes a person's evidence: it alone sets
-- `beacon.erasing` for its transaction (SET LOCAL). A guard against accidents, not a lock.
CREATE OR REPLACE FUNCTION consent_records_are_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('beacon.erasing', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'consent_records are append-only';
END;
$$ LANGUAGE plpgsql;
