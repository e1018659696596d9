CREATE OR REPLACE FUNCTION consent_records_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent_records are append-only';
END;
$$ LANGUAGE plpgsql;

ALTER TABLE consent_records DROP CONSTRAINT consent_records_form_has_submission;
ALTER TABLE consent_records DROP COLUMN kind;
-- Opt-out records have no submission; they cannot survive the old shape.
ALTER TABLE consent_records DISABLE TRIGGER consent_records_append_only;
DELETE FROM consent_records WHERE submission_id IS NULL;
ALTER TABLE consent_records ENABLE TRIGGER consent_records_append_only;
ALTER TABLE consent_records ALTER COLUMN submission_id SET NOT NULL;

DROP TABLE suppressed_numbers;
DROP TRIGGER access_audit_append_only ON access_audit;
DROP FUNCTION access_audit_is_append_only();
DROP TABLE access_audit;
DROP TABLE lead_activity;

DROP TRIGGER lead_submissions_source ON lead_submissions;
DROP FUNCTION leads_take_first_source();
DROP TRIGGER leads_bump_version ON leads;
DROP FUNCTION leads_bump_version();

DROP INDEX leads_by_phone;
DROP INDEX leads_retention;
DROP INDEX leads_overdue;
DROP INDEX leads_newest;

-- Tombstones and pipeline stages have no place in the old shape.
DELETE FROM leads WHERE erased_at IS NOT NULL;
UPDATE leads SET status = 'new' WHERE status NOT IN ('new', 'spam');
ALTER TABLE leads DROP CONSTRAINT leads_priority_until_erased;
ALTER TABLE leads ALTER COLUMN priority SET NOT NULL;
ALTER TABLE leads DROP CONSTRAINT leads_erasure_is_recorded;
ALTER TABLE leads
    DROP COLUMN assignee,
    DROP COLUMN version,
    DROP COLUMN source,
    DROP COLUMN first_contacted_at,
    DROP COLUMN contacted_on_time,
    DROP COLUMN interest_count,
    DROP COLUMN erased_at,
    DROP COLUMN erased_by,
    DROP COLUMN erased_by_key_id;
ALTER TABLE leads DROP CONSTRAINT leads_status_check;
ALTER TABLE leads ADD CONSTRAINT leads_status_check CHECK (status IN ('new', 'spam'));
