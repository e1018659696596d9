-- API keys are stored only as a SHA-256 of the whole key; the prefix identifies a key to people.
CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    prefix text NOT NULL UNIQUE,
    secret_hash bytea NOT NULL UNIQUE,
    -- Space-separated scope names, e.g. 'content:write leads:read'.
    scopes text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
