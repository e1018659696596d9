DROP FUNCTION beacon_lock_number(bigint, text, timestamptz, bytea);
DROP FUNCTION beacon_claim_idempotency_key(bigint, text, text, bytea, timestamptz);
