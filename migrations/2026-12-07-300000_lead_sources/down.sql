ALTER TABLE leads DROP COLUMN lead_source_id;
ALTER TABLE lead_submissions DROP COLUMN lead_source_id;
DROP TABLE lead_sources;
