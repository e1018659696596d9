DROP TABLE meta_lead_fetches;
