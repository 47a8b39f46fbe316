-- job_duration_trend: One job's daily duration series over the last :days UTC days.
-- One row per UTC day (of the run's end) that has finished runs; days without runs are
-- absent (the caller fills gaps). Durations are sums of slice lengths.
-- Only JOB_RUN rows count (NULL run_type read as JOB_RUN): SUBMIT_RUN rows are one-off
-- runs/submit calls with no saved job, WORKFLOW_RUN rows notebook-workflow children of a
-- run already counted.
-- Params:
--   :workspace_id STRING
--   :job_id STRING
--   :now TIMESTAMP  the injected clock (UTC)
--   :days INT  how many days back, today included
-- Columns:
--   day DATE  UTC date the runs ended
--   runs INT  finished runs
--   failures INT
--   median_seconds DOUBLE  median duration of that day's runs
--   max_seconds BIGINT
WITH runs AS (
  SELECT
    run_id,
    max(period_end_time) FILTER (WHERE result_state IS NOT NULL) AS end_time,
    max_by(result_state, period_end_time) FILTER (WHERE result_state IS NOT NULL) AS state,
    CAST(sum(period_end_time - period_start_time) AS LONG) AS duration_seconds
  FROM system.lakeflow.job_run_timeline
  WHERE workspace_id = :workspace_id
    AND job_id = :job_id
    AND period_end_time <= :now
    AND period_end_time >= timestampadd(DAY, -(:days + 1), :now)
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
  GROUP BY run_id
)
SELECT
  to_date(end_time) AS day,
  count(*) AS runs,
  count_if(state IN ('ERROR', 'FAILED', 'TIMED_OUT')) AS failures,
  percentile(duration_seconds, 0.5) AS median_seconds,
  max(duration_seconds) AS max_seconds
FROM runs
WHERE end_time IS NOT NULL AND to_date(end_time) > date_sub(to_date(:now), :days)
GROUP BY to_date(end_time)
ORDER BY day
