DROP INDEX events_occurred_at;
