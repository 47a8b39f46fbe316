-- runs_ended: Runs whose terminal timeline row (one per end: a repaired run ends again with a
-- new row) has a period_end_time in [:since, :until), as the system tables show them at :now
-- (rows are written minutes after the fact, so callers slide an overlapping window and rely
-- on the store to count each run end once). For the system-table failure path: workspaces
-- without Jobs API access, and the reconcile that finds failures the API path missed.
-- Params:
--   :now TIMESTAMP  the injected clock (UTC); no row after it is seen
--   :since TIMESTAMP  window start, inclusive (UTC)
--   :until TIMESTAMP  window end, exclusive (UTC)
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   run_id STRING
--   name STRING  latest name as of :now (NULL if the job row is missing)
--   result_state STRING  SUCCEEDED, FAILED, TIMED_OUT, ERROR, CANCELLED, SKIPPED…
--   termination_code STRING
--   start_time TIMESTAMP  the run's first slice start
--   end_time TIMESTAMP  this end
--   trigger_type STRING
--   owner STRING  tags['owner'], else run_as_user_name, else creator_user_name
--   team STRING  tags['team'] (routing)
WITH ends AS (
  SELECT workspace_id, job_id, run_id, result_state, termination_code,
    period_end_time AS end_time, trigger_type
  FROM system.lakeflow.job_run_timeline
  WHERE result_state IS NOT NULL
    AND period_end_time >= :since AND period_end_time < :until AND period_end_time <= :now
),
starts AS (
  SELECT t.workspace_id, t.job_id, t.run_id, min(t.period_start_time) AS start_time
  FROM system.lakeflow.job_run_timeline AS t
  JOIN (SELECT DISTINCT workspace_id, job_id, run_id FROM ends) AS e
    ON e.workspace_id = t.workspace_id AND e.job_id = t.job_id AND e.run_id = t.run_id
  WHERE t.period_end_time <= :now AND t.period_end_time > :since - INTERVAL 7 DAYS
  GROUP BY t.workspace_id, t.job_id, t.run_id
),
jobs AS (
  SELECT workspace_id, job_id, name, tags, run_as_user_name, creator_user_name
  FROM system.lakeflow.jobs
  WHERE change_time <= :now
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
)
SELECT
  e.workspace_id,
  e.job_id,
  e.run_id,
  j.name,
  e.result_state,
  e.termination_code,
  s.start_time,
  e.end_time,
  e.trigger_type,
  coalesce(j.tags['owner'], j.run_as_user_name, j.creator_user_name) AS owner,
  j.tags['team'] AS team
FROM ends AS e
LEFT JOIN starts AS s
  ON s.workspace_id = e.workspace_id AND s.job_id = e.job_id AND s.run_id = e.run_id
LEFT JOIN jobs AS j ON j.workspace_id = e.workspace_id AND j.job_id = e.job_id
ORDER BY e.end_time, e.workspace_id, e.job_id, e.run_id
