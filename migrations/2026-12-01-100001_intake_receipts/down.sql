-- The old answers cannot be rebuilt (they named the lead's state at the time); receipts stay.
SELECT 1;
