-- job_durations: Each job's usual run length: p50 and p90 of its successful runs that ended in
-- the 30 days before :now, one row per job. A run's length is the sum of its hourly slices,
-- read from 32 days back so a run that started before the 30 days counts whole. This is the
-- same definition (and the same numbers) as job_run_stats' p50/p90 for one job, so
-- `/jobs running` and `/jobs status` compare a live run with the same p90.
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
WITH runs AS (
  SELECT
    workspace_id,
    job_id,
    run_id,
    CAST(sum(period_end_time - period_start_time) AS LONG) AS duration_seconds
  FROM system.lakeflow.job_run_timeline
  WHERE period_end_time <= :now
    AND period_end_time > :now - INTERVAL 32 DAYS
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
  GROUP BY workspace_id, job_id, run_id
  -- Successful: its last final row says SUCCEEDED (a repaired run's failed first attempt does
  -- not count against it), and that row ended in the 30 days. Two max() of a timestamp are
  -- cheaper than max_by of the state string over every run.
  HAVING max(period_end_time) FILTER (WHERE result_state = 'SUCCEEDED')
      = max(period_end_time) FILTER (WHERE result_state IS NOT NULL)
    AND max(period_end_time) FILTER (WHERE result_state = 'SUCCEEDED') > :now - INTERVAL 30 DAYS
)
SELECT
  workspace_id,
  job_id,
  count(*) AS runs,
  percentile(duration_seconds, 0.5) AS p50_seconds,
  percentile(duration_seconds, 0.9) AS p90_seconds
FROM runs
GROUP BY workspace_id, job_id
ORDER BY workspace_id, job_id
