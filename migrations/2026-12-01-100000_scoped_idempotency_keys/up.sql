-- A key names a request only together with its body: someone who learns another person's key
-- and sends other data makes a request of their own instead of claiming the key.
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (scope, key, request_sha256);
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_request_sha256_length
    CHECK (octet_length(request_sha256) = 32);
