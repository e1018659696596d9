-- An enquiry beyond its number's hourly limit is kept, quarantined, instead of refused with a
-- 429 that would tell a stranger someone else had been enquiring from that number.
ALTER TABLE lead_submissions DROP CONSTRAINT lead_submissions_spam_reason_check;
ALTER TABLE lead_submissions ADD CONSTRAINT lead_submissions_spam_reason_check
    CHECK (spam_reason IN ('honeypot', 'too_fast', 'rate_limited'));
