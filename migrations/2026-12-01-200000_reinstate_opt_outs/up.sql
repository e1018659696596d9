-- Opt-outs that staff can undo (POST /v1/leads/{id}/reinstate), and enquiries after an opt-out
-- that reach staff flagged instead of being suppressed.

-- The time of the number's latest opt-out, not its first: a new opt-out moves it.
ALTER TABLE suppressed_numbers RENAME COLUMN created_at TO opted_out_at;

-- When the lead's number last opted out, while that opt-out stands: staff judge a new
-- enquiry by it. Cleared when staff reinstate the number, and by erasure.
ALTER TABLE leads ADD COLUMN opted_out_at timestamptz;

-- Staff lift an opt-out with a reason: consent evidence of its own (no submission), an
-- activity entry and an access audit entry.
ALTER TABLE consent_records DROP CONSTRAINT consent_records_kind_check;
ALTER TABLE consent_records ADD CONSTRAINT consent_records_kind_check
    CHECK (kind IN ('form', 'opt_out', 'staff_reinstated'));
ALTER TABLE lead_activity DROP CONSTRAINT lead_activity_action_check;
ALTER TABLE lead_activity ADD CONSTRAINT lead_activity_action_check CHECK (action IN
    ('status_changed', 'assigned', 'unassigned', 'note_added', 'opted_out', 'erased',
     'reinstated'));
ALTER TABLE access_audit DROP CONSTRAINT access_audit_action_check;
ALTER TABLE access_audit ADD CONSTRAINT access_audit_action_check CHECK (action IN
    ('lead.read', 'lead.list', 'lead.export', 'lead.erase', 'lead.reinstate'));

-- Every opt-out so far still stands (none could be lifted): flag the live leads of each
-- number with its latest opt-out.
UPDATE leads SET opted_out_at = latest.at
FROM (SELECT numbered.phone_e164, max(consent.recorded_at) AS at
      FROM consent_records consent JOIN leads numbered ON numbered.id = consent.lead_id
      WHERE consent.kind = 'opt_out' AND numbered.phone_e164 IS NOT NULL
      GROUP BY numbered.phone_e164) AS latest
WHERE leads.phone_e164 = latest.phone_e164 AND leads.erased_at IS NULL;

-- Enquiries intake marked `do_not_contact` because their number had opted out were never
-- shown to staff: put them back in the queue, flagged. Where no opt-out record is left (its
-- lead was erased), the flag is the time intake suppressed the lead.
WITH suppressed AS (
    SELECT DISTINCT ON (activity.lead_id) activity.lead_id, activity.at
    FROM lead_activity activity JOIN leads ON leads.id = activity.lead_id
    WHERE activity.actor = 'suppression list' AND activity.to_status = 'do_not_contact'
      AND leads.status = 'do_not_contact' AND leads.erased_at IS NULL
    ORDER BY activity.lead_id, activity.at DESC
), reopened AS (
    UPDATE leads SET status = 'new', opted_out_at = coalesce(leads.opted_out_at, suppressed.at)
    FROM suppressed WHERE leads.id = suppressed.lead_id
    RETURNING leads.id
)
INSERT INTO lead_activity (id, lead_id, at, actor, action, from_status, to_status)
SELECT gen_random_uuid(), reopened.id, now(), 'new enquiry', 'status_changed',
       'do_not_contact', 'new'
FROM reopened;
