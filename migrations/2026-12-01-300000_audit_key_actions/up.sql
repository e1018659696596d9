-- Creating and revoking API keys lands in the access audit too: a key can grant `leads:read`.
-- For these entries `filter` holds the key (id, prefix, name, scopes), never its secret.
ALTER TABLE access_audit DROP CONSTRAINT access_audit_action_check;
ALTER TABLE access_audit ADD CONSTRAINT access_audit_action_check CHECK (action IN
    ('lead.read', 'lead.list', 'lead.export', 'lead.erase', 'lead.reinstate', 'key.created',
     'key.revoked'));
