-- job_recent_runs: The latest runs of one job (newest first), including runs in progress.
-- Built from the hourly timeline slices: start = first slice start, end = last slice end,
-- duration = sum of slice lengths (gaps such as the wait before a repair are not counted).
-- The state comes from the last terminal row only; no terminal row = still running. Looks
-- back 90 days. Only JOB_RUN rows (NULL run_type read as JOB_RUN): WORKFLOW_RUN rows are
-- notebook-workflow children of a run listed already, SUBMIT_RUN rows have no saved job.
-- Params:
--   :workspace_id STRING
--   :job_id STRING
--   :now TIMESTAMP  the injected clock (UTC)
--   :limit INT  how many runs
-- Columns:
--   run_id STRING
--   start_time TIMESTAMP
--   end_time TIMESTAMP  end of the last slice so far
--   duration_seconds BIGINT  sum of slice lengths
--   result_state STRING  final state; NULL while in progress
--   termination_code STRING
--   in_progress BOOLEAN  no terminal row yet
--   repairs INT  terminal rows - 1
--   trigger_type STRING
--   run_type STRING
WITH runs AS (
  SELECT
    run_id,
    min(period_start_time) AS start_time,
    max(period_end_time) AS end_time,
    CAST(sum(period_end_time - period_start_time) AS LONG) AS duration_seconds,
    max_by(result_state, period_end_time) FILTER (WHERE result_state IS NOT NULL)
      AS result_state,
    max_by(termination_code, period_end_time) FILTER (
      WHERE result_state IS NOT NULL
    ) AS termination_code,
    count(result_state) = 0 AS in_progress,
    greatest(count(result_state) - 1, 0) AS repairs,
    max_by(trigger_type, period_start_time) AS trigger_type,
    max_by(run_type, period_start_time) AS run_type
  FROM system.lakeflow.job_run_timeline
  WHERE workspace_id = :workspace_id
    AND job_id = :job_id
    AND period_end_time <= :now
    AND period_start_time >= :now - INTERVAL 90 DAYS
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
  GROUP BY run_id
)
-- The row_number filter runs over the grouped rows of a CTE: Databricks does not allow an
-- aggregate inside QUALIFY's window in a grouped query. (LIMIT :limit would work too; a
-- window keeps the limit an ordinary expression.)
SELECT *
FROM runs
QUALIFY row_number() OVER (ORDER BY start_time DESC, run_id DESC) <= :limit
ORDER BY start_time DESC, run_id DESC
