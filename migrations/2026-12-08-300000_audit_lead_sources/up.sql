-- Changing or deleting a lead source changes where leads are attributed and whose key may post
-- them: the audit records who did it, like creating or revoking a key.
ALTER TABLE access_audit DROP CONSTRAINT access_audit_action_check;
ALTER TABLE access_audit ADD CONSTRAINT access_audit_action_check CHECK (action IN
    ('lead.read', 'lead.list', 'lead.export', 'lead.erase', 'lead.reinstate', 'key.created',
     'key.revoked', 'webhook.personal_data_enabled', 'lead_source.updated',
     'lead_source.deleted'));
