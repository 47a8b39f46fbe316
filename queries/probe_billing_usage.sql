-- probe_billing_usage: Whether the bot may read system.billing.usage (`jobs-bot doctor`).
-- One row at most, whatever the table holds: a missing grant or a disabled system schema
-- fails here with the warehouse's own error, which the doctor turns into the grant to run.
-- Columns:
--   readable INT  always 1
SELECT 1 AS readable
FROM system.billing.usage
LIMIT 1
