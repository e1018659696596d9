-- Keeps the newest answer of each (scope, key) so the narrower key fits again.
DELETE FROM idempotency_keys AS older USING idempotency_keys AS newer
WHERE older.scope = newer.scope AND older.key = newer.key
    AND (older.created_at, older.request_sha256) < (newer.created_at, newer.request_sha256);
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_request_sha256_length;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (scope, key);
