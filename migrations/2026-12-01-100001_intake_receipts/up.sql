-- Intake's stored answers become receipts: the lead's id, status, priority and duplicate flag
-- give way to the id of the submission stored with the key (intake writes both at the same
-- instant), so a replay after this change still works and leaks nothing. Answers no
-- submission matches (their lead was erased) are dropped.
UPDATE idempotency_keys AS k
SET response_status = 201,
    response_body = (k.response_body - 'status' - 'priority' - 'duplicate')
        || jsonb_build_object('id', s.id)
FROM lead_submissions AS s
WHERE k.scope = 'POST /v1/leads'
    AND k.response_body ? 'priority'
    AND s.lead_id::text = k.response_body ->> 'id'
    AND s.received_at = k.created_at;
DELETE FROM idempotency_keys WHERE scope = 'POST /v1/leads' AND response_body ? 'priority';
