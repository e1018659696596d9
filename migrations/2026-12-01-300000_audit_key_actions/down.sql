-- Fails while key entries exist: the audit is append-only, so they cannot be removed.
ALTER TABLE access_audit DROP CONSTRAINT access_audit_action_check;
ALTER TABLE access_audit ADD CONSTRAINT access_audit_action_check CHECK (action IN
    ('lead.read', 'lead.list', 'lead.export', 'lead.erase', 'lead.reinstate'));
