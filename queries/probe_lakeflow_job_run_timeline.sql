-- probe_lakeflow_job_run_timeline: Whether the bot may read system.lakeflow.job_run_timeline (`jobs-bot doctor`).
-- One row at most, whatever the table holds: a missing grant or a disabled system schema
-- fails here with the warehouse's own error, which the doctor turns into the grant to run.
-- Columns:
--   readable INT  always 1
SELECT 1 AS readable
FROM system.lakeflow.job_run_timeline
LIMIT 1
