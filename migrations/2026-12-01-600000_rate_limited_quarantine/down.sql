-- NOT VALID: submissions already quarantined as rate_limited stay as evidence.
ALTER TABLE lead_submissions DROP CONSTRAINT lead_submissions_spam_reason_check;
ALTER TABLE lead_submissions ADD CONSTRAINT lead_submissions_spam_reason_check
    CHECK (spam_reason IN ('honeypot', 'too_fast')) NOT VALID;
