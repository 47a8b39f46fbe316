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
WITH live AS (
  -- Jobs with a slice without a final state in the last 6 hours: every job with an open run
  -- is one (an open run's last slice is such a slice). A cheap pass without run_id, so the
  -- run grouping below reads only these jobs' rows.
  SELECT DISTINCT workspace_id, job_id
  FROM system.lakeflow.job_run_timeline
  WHERE result_state IS NULL
    AND period_end_time <= :now AND period_end_time > :now - INTERVAL 6 HOURS
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
),
runs AS (
  -- Their runs of the last 32 days: open ones, and the history the p90 comes from.
  SELECT r.workspace_id, r.job_id, r.run_id,
    min(r.period_start_time) AS start_time,
    max(r.period_end_time) AS end_time,
    count(r.result_state) AS terminal_rows,
    max_by(r.result_state, r.period_end_time) FILTER (WHERE r.result_state IS NOT NULL) AS state,
    CAST(sum(r.period_end_time - r.period_start_time) AS LONG) AS duration_seconds
  FROM system.lakeflow.job_run_timeline AS r
  JOIN live AS l ON l.workspace_id = r.workspace_id AND l.job_id = r.job_id
  WHERE r.period_end_time <= :now AND r.period_end_time > :now - INTERVAL 32 DAYS
    AND (r.run_type = 'JOB_RUN' OR r.run_type IS NULL)
  GROUP BY r.workspace_id, r.job_id, r.run_id
),
open_runs AS (
  SELECT workspace_id, job_id, run_id, start_time
  FROM runs
  WHERE terminal_rows = 0 AND end_time > :now - INTERVAL 6 HOURS
),
p90 AS (
  SELECT workspace_id, job_id, percentile(duration_seconds, 0.9) AS p90_seconds
  FROM runs
  WHERE state = 'SUCCEEDED'
  GROUP BY workspace_id, job_id
),
jobs AS (
  SELECT workspace_id, job_id, name, tags, run_as_user_name, creator_user_name, delete_time
  FROM system.lakeflow.jobs
  WHERE change_time <= :now
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
),
named AS (
  SELECT
    o.workspace_id,
    o.job_id,
    j.name,
    o.run_id,
    o.start_time,
    coalesce(j.tags['owner'], j.run_as_user_name, j.creator_user_name) AS job_owner
  FROM open_runs AS o
  LEFT JOIN jobs AS j ON j.workspace_id = o.workspace_id AND j.job_id = o.job_id
  WHERE j.delete_time IS NULL OR j.delete_time > :now
),
billed_as AS (
  -- Billing is read only for jobs the jobs table names no owner for.
  SELECT u.workspace_id, u.usage_metadata.job_id AS job_id,
    max_by(u.identity_metadata.run_as, u.usage_end_time) AS run_as
  FROM system.billing.usage AS u
  JOIN (SELECT DISTINCT workspace_id, job_id FROM named WHERE job_owner IS NULL) AS n
    ON n.workspace_id = u.workspace_id AND n.job_id = u.usage_metadata.job_id
  WHERE u.usage_date >= date_sub(to_date(:now), 30)
    AND u.usage_date <= to_date(:now)
    AND u.usage_end_time <= :now
    AND u.identity_metadata.run_as IS NOT NULL
  GROUP BY u.workspace_id, u.usage_metadata.job_id
)
SELECT
  n.workspace_id,
  n.job_id,
  n.name,
  n.run_id,
  n.start_time,
  timestampdiff(SECOND, n.start_time, :now) AS elapsed_seconds,
  p.p90_seconds,
  coalesce(timestampdiff(SECOND, n.start_time, :now) > p.p90_seconds, false) AS over_p90,
  coalesce(n.job_owner, b.run_as) AS owner
FROM named AS n
LEFT JOIN p90 AS p ON p.workspace_id = n.workspace_id AND p.job_id = n.job_id
LEFT JOIN billed_as AS b ON b.workspace_id = n.workspace_id AND b.job_id = n.job_id
ORDER BY n.start_time, n.workspace_id, n.job_id, n.run_id
