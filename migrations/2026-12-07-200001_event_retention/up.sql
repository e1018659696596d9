-- Event retention (`BEACON_EVENT_RETENTION_DAYS`) finds old events by when they happened.
CREATE INDEX events_occurred_at ON events (occurred_at);
