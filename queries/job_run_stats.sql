-- job_run_stats: One job's success rate over 7 and 30 days and its duration percentiles.
-- Counts finished runs (final state known) that ended in the window. Durations are sums of
-- slice lengths of SUCCEEDED runs in the last 30 days (failed runs often stop early and
-- would drag the percentiles down); job_durations computes the same p50/p90 for every job, so
-- `/jobs status` and `/jobs running` judge a run in flight against one p90. percentile()
-- interpolates. Success rates are over decisive runs (SUCCEEDED or failed): a CANCELLED,
-- SKIPPED or BLOCKED run is counted in runs_* but is neither a success nor a failure, and
-- stays out of the rate's denominator.
-- Only JOB_RUN rows count (NULL run_type read as JOB_RUN): SUBMIT_RUN rows are one-off
-- runs/submit calls with no saved job, WORKFLOW_RUN rows notebook-workflow children of a
-- run already counted.
-- Params:
--   :workspace_id STRING
--   :job_id STRING
--   :now TIMESTAMP  the injected clock (UTC)
-- Columns:
--   runs_7d INT  finished runs that ended in the last 7 days
--   successes_7d INT
--   failures_7d INT  ERROR, FAILED or TIMED_OUT
--   success_rate_7d DOUBLE  successes / (successes + failures), 0..1; NULL without either
--   runs_30d INT
--   successes_30d INT
--   failures_30d INT
--   success_rate_30d DOUBLE
--   p50_seconds DOUBLE  median duration of successful runs, 30 days
--   p90_seconds DOUBLE
--   avg_seconds DOUBLE
--   last_success_time TIMESTAMP  end of the latest successful run in 30 days
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
    AND period_end_time > :now - INTERVAL 32 DAYS
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
  GROUP BY run_id
),
finished AS (
  SELECT
    *,
    state = 'SUCCEEDED' AS ok,
    state IN ('ERROR', 'FAILED', 'TIMED_OUT') AS failed,
    end_time > :now - INTERVAL 7 DAYS AS in_7d
  FROM runs
  WHERE end_time IS NOT NULL AND end_time > :now - INTERVAL 30 DAYS
)
SELECT
  count_if(in_7d) AS runs_7d,
  count_if(in_7d AND ok) AS successes_7d,
  count_if(in_7d AND failed) AS failures_7d,
  try_divide(count_if(in_7d AND ok), count_if(in_7d AND (ok OR failed))) AS success_rate_7d,
  count(*) AS runs_30d,
  count_if(ok) AS successes_30d,
  count_if(failed) AS failures_30d,
  try_divide(count_if(ok), count_if(ok OR failed)) AS success_rate_30d,
  percentile(duration_seconds, 0.5) FILTER (WHERE ok) AS p50_seconds,
  percentile(duration_seconds, 0.9) FILTER (WHERE ok) AS p90_seconds,
  avg(duration_seconds) FILTER (WHERE ok) AS avg_seconds,
  max(end_time) FILTER (WHERE ok) AS last_success_time
FROM finished
