-- sla_inputs: Per job per UTC day, the first successful finish and the latest start.
-- Covers the last :days UTC days up to :now (today included). A run counts for the day it
-- ended (first_success_end_time) and for the day it started (latest_start_time); a run
-- spanning midnight therefore lands on two days. Deleted jobs are left out.
-- Only JOB_RUN rows count (NULL run_type read as JOB_RUN): SUBMIT_RUN rows are one-off
-- runs/submit calls with no saved job, WORKFLOW_RUN rows notebook-workflow children of a
-- run already counted.
-- Params:
--   :now TIMESTAMP  the injected clock (UTC)
--   :days INT  how many UTC days, today included
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING
--   day DATE  UTC date
--   first_success_end_time TIMESTAMP  end of the first run that succeeded that day
--   latest_start_time TIMESTAMP  start of the last run that started that day
--   runs_started INT
--   runs_finished INT
--   failures INT  runs that ended that day in ERROR, FAILED or TIMED_OUT
WITH runs AS (
  SELECT
    workspace_id,
    job_id,
    run_id,
    min(period_start_time) AS start_time,
    max(period_end_time) FILTER (WHERE result_state IS NOT NULL) AS end_time,
    max_by(result_state, period_end_time) FILTER (WHERE result_state IS NOT NULL) AS state
  FROM system.lakeflow.job_run_timeline
  WHERE period_end_time <= :now
    AND period_end_time >= timestampadd(DAY, -(:days + 2), :now)
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
  GROUP BY workspace_id, job_id, run_id
),
ended AS (
  SELECT
    workspace_id,
    job_id,
    to_date(end_time) AS day,
    min(end_time) FILTER (WHERE state = 'SUCCEEDED') AS first_success_end_time,
    count(*) AS runs_finished,
    count_if(state IN ('ERROR', 'FAILED', 'TIMED_OUT')) AS failures
  FROM runs
  WHERE end_time IS NOT NULL
  GROUP BY workspace_id, job_id, to_date(end_time)
),
started AS (
  SELECT
    workspace_id,
    job_id,
    to_date(start_time) AS day,
    max(start_time) AS latest_start_time,
    count(*) AS runs_started
  FROM runs
  GROUP BY workspace_id, job_id, to_date(start_time)
),
days AS (
  SELECT
    coalesce(e.workspace_id, s.workspace_id) AS workspace_id,
    coalesce(e.job_id, s.job_id) AS job_id,
    coalesce(e.day, s.day) AS day,
    e.first_success_end_time,
    s.latest_start_time,
    coalesce(s.runs_started, 0) AS runs_started,
    coalesce(e.runs_finished, 0) AS runs_finished,
    coalesce(e.failures, 0) AS failures
  FROM ended AS e
  FULL OUTER JOIN started AS s
    ON s.workspace_id = e.workspace_id AND s.job_id = e.job_id AND s.day = e.day
),
jobs AS (
  SELECT workspace_id, job_id, name, delete_time
  FROM system.lakeflow.jobs
  WHERE change_time <= :now
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
)
SELECT
  d.workspace_id,
  d.job_id,
  j.name,
  d.day,
  d.first_success_end_time,
  d.latest_start_time,
  d.runs_started,
  d.runs_finished,
  d.failures
FROM days AS d
LEFT JOIN jobs AS j ON j.workspace_id = d.workspace_id AND j.job_id = d.job_id
WHERE d.day > date_sub(to_date(:now), :days)
  AND (j.delete_time IS NULL OR j.delete_time > :now)
ORDER BY d.workspace_id, d.job_id, d.day
