-- External leads (issue 11): leads an ad platform (Google Ads, Meta) delivers to a source's
-- webhook, recorded through the one intake service.

-- The custom question whose answers name the source's leads' interests (matched to the managed
-- interests by code or label, case-insensitively); null: none.
ALTER TABLE lead_sources ADD COLUMN interests_question text
    CHECK (char_length(interests_question) BETWEEN 1 AND 200);

-- The platform's own id of the lead: one submission per (source, id), so a redelivery is
-- recognised and recorded once. Erasure deletes the submission, and the id with it.
ALTER TABLE lead_submissions ADD COLUMN external_id text
    CHECK (char_length(external_id) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX lead_submissions_source_external_id
    ON lead_submissions (lead_source_id, external_id) WHERE external_id IS NOT NULL;
-- The answers to the platform form's other questions, `[{"question", "answer"}]`: personal
-- data, deleted with the submission.
ALTER TABLE lead_submissions ADD COLUMN custom_answers jsonb;
-- The platform's ids of campaign, ad group, ad, form…: not personal.
ALTER TABLE lead_submissions ADD COLUMN external_context jsonb;

-- A platform's test lead: kept apart from the queue, the statistics and the clinic's tools.
ALTER TABLE lead_submissions ADD COLUMN is_test boolean NOT NULL DEFAULT false;
ALTER TABLE leads ADD COLUMN is_test boolean NOT NULL DEFAULT false;
