-- failing_jobs: Jobs whose latest finished run in the window [:since, :now] failed, worst first.
-- A run's final state is its terminal timeline row with the greatest period_end_time (a
-- repaired run has several terminal rows; the last one wins). Failure = ERROR, FAILED or
-- TIMED_OUT. The streak counts consecutive failed final runs back from the latest one, over
-- all history up to :now. Jobs deleted by :now are left out.
-- Params:
--   :now TIMESTAMP  the injected clock (UTC); rows after it are ignored, so --at replays
--   :since TIMESTAMP  window start (UTC)
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING  latest name as of :now (NULL if the job row is missing)
--   streak INT  consecutive failed final runs up to the latest
--   failures_in_window INT  failed final runs that ended in the window
--   runs_in_window INT  finished runs that ended in the window
--   last_run_id STRING  the latest (failed) run
--   last_failure_time TIMESTAMP  when that run ended
--   result_state STRING  ERROR, FAILED or TIMED_OUT
--   termination_code STRING  e.g. RUN_EXECUTION_ERROR
--   owner STRING  tags['owner'], else run_as_user_name, else creator_user_name
--   workspace_name STRING
--   workspace_url STRING
WITH final_runs AS (
  SELECT
    workspace_id,
    job_id,
    run_id,
    period_end_time AS end_time,
    result_state,
    termination_code,
    result_state IN ('ERROR', 'FAILED', 'TIMED_OUT') AS failed
  FROM system.lakeflow.job_run_timeline
  WHERE result_state IS NOT NULL AND period_end_time <= :now
  QUALIFY row_number() OVER (
    PARTITION BY workspace_id, job_id, run_id ORDER BY period_end_time DESC
  ) = 1
),
latest_in_window AS (
  SELECT *
  FROM final_runs
  WHERE end_time >= :since
  QUALIFY row_number() OVER (
    PARTITION BY workspace_id, job_id ORDER BY end_time DESC, run_id DESC
  ) = 1
),
failing AS (
  SELECT * FROM latest_in_window WHERE failed
),
history AS (
  SELECT
    f.workspace_id,
    f.job_id,
    max(r.end_time) FILTER (WHERE NOT r.failed) AS last_ok_time,
    count_if(r.failed AND r.end_time >= :since) AS failures_in_window,
    count_if(r.end_time >= :since) AS runs_in_window
  FROM failing AS f
  JOIN final_runs AS r
    ON r.workspace_id = f.workspace_id AND r.job_id = f.job_id
  GROUP BY f.workspace_id, f.job_id
),
streaks AS (
  SELECT h.workspace_id, h.job_id, h.failures_in_window, h.runs_in_window, count(*) AS streak
  FROM history AS h
  JOIN final_runs AS r
    ON r.workspace_id = h.workspace_id AND r.job_id = h.job_id
  WHERE r.failed AND (h.last_ok_time IS NULL OR r.end_time > h.last_ok_time)
  GROUP BY h.workspace_id, h.job_id, h.failures_in_window, h.runs_in_window
),
jobs AS (
  SELECT workspace_id, job_id, name, tags, run_as_user_name, creator_user_name, delete_time
  FROM system.lakeflow.jobs
  WHERE change_time <= :now
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
)
SELECT
  f.workspace_id,
  f.job_id,
  j.name,
  s.streak,
  s.failures_in_window,
  s.runs_in_window,
  f.run_id AS last_run_id,
  f.end_time AS last_failure_time,
  f.result_state,
  f.termination_code,
  coalesce(j.tags['owner'], j.run_as_user_name, j.creator_user_name) AS owner,
  w.workspace_name,
  w.workspace_url
FROM failing AS f
JOIN streaks AS s ON s.workspace_id = f.workspace_id AND s.job_id = f.job_id
LEFT JOIN jobs AS j ON j.workspace_id = f.workspace_id AND j.job_id = f.job_id
LEFT JOIN system.access.workspaces_latest AS w ON w.workspace_id = f.workspace_id
WHERE j.delete_time IS NULL OR j.delete_time > :now
ORDER BY s.streak DESC, s.failures_in_window DESC, f.end_time DESC, f.workspace_id, f.job_id
