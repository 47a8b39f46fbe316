-- job_durations: Each job's usual run length: p50 and p90 of its successful runs of the last
-- 30 days before :now (a run's length is the sum of its hourly slices), one row per job.
-- The real-time `/jobs running` compares live runs from the Jobs API with these; one query
-- for every job, cached, instead of one per run.
-- Only JOB_RUN rows count (NULL run_type read as JOB_RUN): SUBMIT_RUN rows are one-off
-- runs/submit calls with no saved job, WORKFLOW_RUN rows notebook-workflow children of a
-- run already counted.
-- Params:
--   :now TIMESTAMP  the injected clock (UTC)
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   runs BIGINT  successful runs counted
--   p50_seconds DOUBLE
--   p90_seconds DOUBLE
WITH recent AS (
  SELECT workspace_id, job_id, run_id, period_start_time, period_end_time, result_state
  FROM system.lakeflow.job_run_timeline
  WHERE period_end_time <= :now AND period_end_time > :now - INTERVAL 30 DAYS
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
),
runs AS (
  SELECT workspace_id, job_id, run_id,
    max_by(result_state, period_end_time) FILTER (WHERE result_state IS NOT NULL) AS state,
    CAST(sum(period_end_time - period_start_time) AS LONG) AS duration_seconds
  FROM recent
  GROUP BY workspace_id, job_id, run_id
)
SELECT
  workspace_id,
  job_id,
  count(*) AS runs,
  percentile(duration_seconds, 0.5) AS p50_seconds,
  percentile(duration_seconds, 0.9) AS p90_seconds
FROM runs
WHERE state = 'SUCCEEDED'
GROUP BY workspace_id, job_id
ORDER BY workspace_id, job_id
