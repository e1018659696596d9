-- Lead intake's reads that must come after a lock, each with its lock in one round trip.
-- Why functions and not one SQL statement: a statement reads from the snapshot taken when it
-- began, before its lock was granted, so it could miss what the lock's previous holder had just
-- committed. Each statement inside a (volatile) PL/pgSQL function takes a fresh snapshot, so the
-- read after the lock sees it, exactly as a second statement from the client would.

-- Takes the transaction-scoped lock of an idempotency key (without waiting) and, holding it,
-- returns the key's live stored answer. `locked` false: the same request is in flight elsewhere.
CREATE FUNCTION beacon_claim_idempotency_key(
    _lock bigint, _scope text, _key text, _request_sha256 bytea, _now timestamptz,
    OUT locked boolean, OUT response_status smallint, OUT response_body jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    locked := pg_try_advisory_xact_lock(_lock);
    IF locked THEN
        SELECT k.response_status, k.response_body INTO response_status, response_body
          FROM idempotency_keys k
         WHERE k.scope = _scope AND k.key = _key AND k.request_sha256 = _request_sha256
           AND k.expires_at > _now;
    END IF;
END $$;

-- Takes a number's transaction-scoped lock (waiting for it) and, holding it, returns the most
-- recent real (not quarantined) lead of the number received since `_since` (none when `_since`
-- is null: dedupe is off) and when the number opted out, if its opt-out stands.
CREATE FUNCTION beacon_lock_number(
    _lock bigint, _phone_e164 text, _since timestamptz, _suppression_tag bytea,
    OUT lead_id uuid, OUT priority text, OUT contact_by timestamptz, OUT interests text[],
    OUT opted_out_at timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(_lock);
    IF _since IS NOT NULL THEN
        SELECT l.id, l.priority, l.contact_by, l.interests
          INTO lead_id, priority, contact_by, interests
          FROM leads l
         WHERE l.phone_e164 = _phone_e164 AND l.status <> 'spam' AND l.last_received_at >= _since
         ORDER BY l.last_received_at DESC
         LIMIT 1;
    END IF;
    SELECT s.opted_out_at INTO opted_out_at
      FROM suppressed_numbers s
     WHERE s.phone_hmac = _suppression_tag;
END $$;
