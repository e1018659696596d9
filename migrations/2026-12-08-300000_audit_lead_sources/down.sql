DELETE FROM access_audit WHERE action IN ('lead_source.updated', 'lead_source.deleted');
ALTER TABLE access_audit DROP CONSTRAINT access_audit_action_check;
ALTER TABLE access_audit ADD CONSTRAINT access_audit_action_check CHECK (action IN
    ('lead.read', 'lead.list', 'lead.export', 'lead.erase', 'lead.reinstate', 'key.created',
     'key.revoked', 'webhook.personal_data_enabled'));
