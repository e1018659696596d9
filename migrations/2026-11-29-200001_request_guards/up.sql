-- Idempotency keys of completed requests and the answer they got, replayed on retry. A request
-- in flight holds a transaction-scoped advisory lock on its key instead of a row, so a crash
-- never leaves a key stuck (see services::idempotency).
CREATE TABLE idempotency_keys (
    -- The operation the key belongs to, e.g. 'POST /v1/leads'.
    scope text NOT NULL,
    key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_sha256 bytea NOT NULL,
    response_status smallint NOT NULL,
    response_body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Fixed-window request counters shared by every replica. Subjects are SHA-256 hashes (of a
-- client network, of a phone number), never raw values. Unlogged: losing counts in a crash is
-- harmless and the writes are cheaper.
CREATE UNLOGGED TABLE rate_limit_windows (
    bucket text NOT NULL,
    subject bytea NOT NULL,
    window_start timestamptz NOT NULL,
    count integer NOT NULL,
    PRIMARY KEY (bucket, subject, window_start)
);
CREATE INDEX rate_limit_windows_age ON rate_limit_windows (window_start);
