DROP TABLE rate_limit_windows;
DROP TABLE idempotency_keys;
