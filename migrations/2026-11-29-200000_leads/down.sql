DROP TABLE consent_records;
DROP FUNCTION consent_records_are_append_only();
DROP TABLE lead_submissions;
DROP TABLE leads;
DROP TABLE interests;
