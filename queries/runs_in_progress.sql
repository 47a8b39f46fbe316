-- runs_in_progress: Runs that have timeline slices but no terminal row yet, as of :now.
-- Only runs with a slice ending in the last 6 hours count: a run whose slices stopped long
-- ago without a terminal row is lost data, not a live run. Elapsed is measured from the
-- first slice start to :now and compared with the job's p90 duration (successful runs of the
-- last 30 days). Jobs deleted by :now are left out. Longest-running first. Only JOB_RUN rows
-- (NULL run_type read as JOB_RUN): a WORKFLOW_RUN child is part of a run already shown, and
-- a SUBMIT_RUN has no saved job to compare with. The owner falls back to the run_as of the
-- job's latest billing row (the jobs columns are empty before Dec 2025). Workspace names
-- come from the optional workspaces lookup (bot/warehouse/queries.py).
-- Params:
--   :now TIMESTAMP  the injected clock (UTC)
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING
--   run_id STRING
--   start_time TIMESTAMP
--   elapsed_seconds BIGINT  :now - start_time, whole seconds
--   p90_seconds DOUBLE  the job's usual long run; NULL without history
--   over_p90 BOOLEAN  elapsed beyond p90
--   owner STRING
WITH recent AS (
  SELECT *
  FROM system.lakeflow.job_run_timeline
  WHERE period_end_time <= :now AND period_end_time > :now - INTERVAL 32 DAYS
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
),
open_runs AS (
  SELECT workspace_id, job_id, run_id, min(period_start_time) AS start_time
  FROM recent
  GROUP BY workspace_id, job_id, run_id
  HAVING count(result_state) = 0 AND max(period_end_time) > :now - INTERVAL 6 HOURS
),
history AS (
  SELECT r.workspace_id, r.job_id, r.run_id,
    max_by(r.result_state, r.period_end_time) FILTER (WHERE r.result_state IS NOT NULL) AS state,
    CAST(sum(r.period_end_time - r.period_start_time) AS LONG) AS duration_seconds
  FROM recent AS r
  JOIN (SELECT DISTINCT workspace_id, job_id FROM open_runs) AS o
    ON o.workspace_id = r.workspace_id AND o.job_id = r.job_id
  GROUP BY r.workspace_id, r.job_id, r.run_id
),
p90 AS (
  SELECT workspace_id, job_id, percentile(duration_seconds, 0.9) AS p90_seconds
  FROM history
  WHERE state = 'SUCCEEDED'
  GROUP BY workspace_id, job_id
),
jobs AS (
  SELECT workspace_id, job_id, name, tags, run_as_user_name, creator_user_name, delete_time
  FROM system.lakeflow.jobs
  WHERE change_time <= :now
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
),
billed_as AS (
  SELECT u.workspace_id, u.usage_metadata.job_id AS job_id,
    max_by(u.identity_metadata.run_as, u.usage_end_time) AS run_as
  FROM system.billing.usage AS u
  JOIN (SELECT DISTINCT workspace_id, job_id FROM open_runs) AS o
    ON o.workspace_id = u.workspace_id AND o.job_id = u.usage_metadata.job_id
  WHERE u.usage_date >= date_sub(to_date(:now), 30)
    AND u.usage_date <= to_date(:now)
    AND u.usage_end_time <= :now
    AND u.identity_metadata.run_as IS NOT NULL
  GROUP BY u.workspace_id, u.usage_metadata.job_id
)
SELECT
  o.workspace_id,
  o.job_id,
  j.name,
  o.run_id,
  o.start_time,
  timestampdiff(SECOND, o.start_time, :now) AS elapsed_seconds,
  p.p90_seconds,
  coalesce(timestampdiff(SECOND, o.start_time, :now) > p.p90_seconds, false) AS over_p90,
  coalesce(j.tags['owner'], j.run_as_user_name, j.creator_user_name, b.run_as) AS owner
FROM open_runs AS o
LEFT JOIN p90 AS p ON p.workspace_id = o.workspace_id AND p.job_id = o.job_id
LEFT JOIN jobs AS j ON j.workspace_id = o.workspace_id AND j.job_id = o.job_id
LEFT JOIN billed_as AS b ON b.workspace_id = o.workspace_id AND b.job_id = o.job_id
WHERE j.delete_time IS NULL OR j.delete_time > :now
ORDER BY o.start_time, o.workspace_id, o.job_id, o.run_id
