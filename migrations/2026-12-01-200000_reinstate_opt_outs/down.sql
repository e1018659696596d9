-- Reinstatements have no place in the old shape; their evidence goes with it.
ALTER TABLE access_audit DISABLE TRIGGER access_audit_append_only;
DELETE FROM access_audit WHERE action = 'lead.reinstate';
ALTER TABLE access_audit ENABLE TRIGGER access_audit_append_only;
ALTER TABLE access_audit DROP CONSTRAINT access_audit_action_check;
ALTER TABLE access_audit ADD CONSTRAINT access_audit_action_check CHECK (action IN
    ('lead.read', 'lead.list', 'lead.export', 'lead.erase'));

DELETE FROM lead_activity WHERE action = 'reinstated';
ALTER TABLE lead_activity DROP CONSTRAINT lead_activity_action_check;
ALTER TABLE lead_activity ADD CONSTRAINT lead_activity_action_check CHECK (action IN
    ('status_changed', 'assigned', 'unassigned', 'note_added', 'opted_out', 'erased'));

ALTER TABLE consent_records DISABLE TRIGGER consent_records_append_only;
DELETE FROM consent_records WHERE kind = 'staff_reinstated';
ALTER TABLE consent_records ENABLE TRIGGER consent_records_append_only;
ALTER TABLE consent_records DROP CONSTRAINT consent_records_kind_check;
ALTER TABLE consent_records ADD CONSTRAINT consent_records_kind_check
    CHECK (kind IN ('form', 'opt_out'));

ALTER TABLE leads DROP COLUMN opted_out_at;
ALTER TABLE suppressed_numbers RENAME COLUMN opted_out_at TO created_at;
