-- runs_in_progress: Runs that have timeline slices but no terminal row yet, as of :now.
-- Only runs with a slice ending in the last 6 hours count: a run whose slices stopped long
-- ago without a terminal row is lost data, not a live run. Elapsed is measured from the
-- first slice start to :now and compared with the job's p90 duration (successful runs of the
-- last 30 days). Jobs deleted by :now are left out. Longest-running first.
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
--   workspace_name STRING
WITH recent AS (
  SELECT *
  FROM system.lakeflow.job_run_timeline
  WHERE period_end_time <= :now AND period_end_time > :now - INTERVAL 32 DAYS
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
  coalesce(j.tags['owner'], j.run_as_user_name, j.creator_user_name) AS owner,
  w.workspace_name
FROM open_runs AS o
LEFT JOIN p90 AS p ON p.workspace_id = o.workspace_id AND p.job_id = o.job_id
LEFT JOIN jobs AS j ON j.workspace_id = o.workspace_id AND j.job_id = o.job_id
LEFT JOIN system.access.workspaces_latest AS w ON w.workspace_id = o.workspace_id
WHERE j.delete_time IS NULL OR j.delete_time > :now
ORDER BY o.start_time, o.workspace_id, o.job_id, o.run_id
