ALTER TABLE leads DROP COLUMN is_test;
ALTER TABLE lead_submissions DROP COLUMN is_test;
ALTER TABLE lead_submissions DROP COLUMN external_context;
ALTER TABLE lead_submissions DROP COLUMN custom_answers;
DROP INDEX lead_submissions_source_external_id;
ALTER TABLE lead_submissions DROP COLUMN external_id;
ALTER TABLE lead_sources DROP COLUMN interests_question;
