-- failing_jobs: Jobs whose latest decisive run in the window [:since, :now] failed, worst first.
-- A run's final state is its terminal timeline row with the greatest period_end_time (a
-- repaired run has several terminal rows; the last one wins). Failure = ERROR, FAILED or
-- TIMED_OUT; success = SUCCEEDED. Other final states (CANCELLED, SKIPPED, BLOCKED, …) are
-- neutral: they neither end a failure streak nor count as a run that decided anything, so
-- "the latest run" here is the latest decisive one. The streak counts consecutive failed
-- runs back from the latest one, over the 90 days up to :now (a bounded scan behind a chat
-- command; a longer streak shows as 90 days' worth). Only JOB_RUN rows count (NULL run_type
-- is read as JOB_RUN): SUBMIT_RUN rows are one-off runs/submit calls with no saved job behind
-- them, and WORKFLOW_RUN rows are notebook-workflow children of a run already counted. Jobs
-- deleted by :now are left out. Workspace names come from a separate, optional lookup. The
-- owner falls back to the run_as of the job's latest billing row in 30 days: the jobs table's
-- run_as_user_name and creator_user_name are empty in rows written before December 2025.
-- The latest run's failed tasks come from job_task_run_timeline (what its Rerun button's
-- confirm names): a task failed when its terminal row with the greatest period_end_time did (a
-- tie with a success is not a failure), so a retried task is judged by its last attempt and a
-- repaired run by its last repair (a task a repair did not rerun keeps its earlier state). Only
-- the listed runs' task rows are grouped, from the same 90 days up to :now (a run older than
-- the 60 days the Jobs API keeps cannot be repaired anyway).
-- Params:
--   :now TIMESTAMP  the injected clock (UTC); rows after it are ignored, so --at replays
--   :since TIMESTAMP  window start (UTC)
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING  latest name as of :now (NULL if the job row is missing)
--   streak INT  consecutive failed runs up to the latest (neutral runs skipped), 90 days
--   failures_in_window INT  failed runs that ended in the window
--   runs_in_window INT  decisive (succeeded or failed) runs that ended in the window
--   last_run_id STRING  the latest (failed) run
--   last_failure_time TIMESTAMP  when that run ended
--   result_state STRING  ERROR, FAILED or TIMED_OUT
--   termination_code STRING  e.g. RUN_EXECUTION_ERROR
--   owner STRING  tags['owner'], run_as_user_name, creator_user_name, else billing's run_as
--   failed_tasks STRING  that run's failed task keys, sorted, comma-separated; empty if unknown
WITH candidates AS (
  -- Jobs whose last terminal row in the window is not a success: every failing job is one
  -- (its latest decisive run ended in the window in a failure, and a success row after it
  -- would be a later decisive run). This pass reads no run_id, so it is cheap; the run_id
  -- pass below then groups only these jobs' rows. ok_in_window is NULL when the window holds
  -- no success: only then does the streak reach back before the window.
  SELECT
    workspace_id,
    job_id,
    max(period_end_time) FILTER (WHERE result_state = 'SUCCEEDED') AS ok_in_window
  FROM system.lakeflow.job_run_timeline
  WHERE result_state IS NOT NULL
    AND period_end_time >= :since
    AND period_end_time <= :now
    AND period_end_time > :now - INTERVAL 90 DAYS
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
  GROUP BY workspace_id, job_id
  HAVING max_by(result_state, period_end_time) <> 'SUCCEEDED'
),
runs AS (
  -- The candidates' runs: from the window on, or over the 90 days when the window holds no
  -- success. A run's final state is its last terminal row, so grouping a suffix of its rows
  -- gives the same end, state and code as grouping all of them.
  SELECT
    r.workspace_id,
    r.job_id,
    r.run_id,
    max(c.ok_in_window) AS ok_in_window,
    max(r.period_end_time) AS end_time,
    max_by(r.result_state, r.period_end_time) AS result_state,
    max_by(r.termination_code, r.period_end_time) AS termination_code,
    max(r.period_end_time) FILTER (WHERE r.result_state = 'SUCCEEDED') AS ok_time
  FROM system.lakeflow.job_run_timeline AS r
  JOIN candidates AS c ON c.workspace_id = r.workspace_id AND c.job_id = r.job_id
  WHERE r.result_state IS NOT NULL
    AND r.period_end_time <= :now
    AND r.period_end_time > :now - INTERVAL 90 DAYS
    AND (r.run_type = 'JOB_RUN' OR r.run_type IS NULL)
    AND (r.period_end_time >= :since OR c.ok_in_window IS NULL)
  GROUP BY r.workspace_id, r.job_id, r.run_id
),
ok AS (
  -- Each candidate's last success (SUCCEEDED rows, 90 days).
  SELECT
    workspace_id,
    job_id,
    coalesce(max(ok_in_window), max(ok_time)) AS last_ok_time
  FROM runs
  GROUP BY workspace_id, job_id
),
decisive AS (
  -- Decisive runs (succeeded or failed; CANCELLED, SKIPPED, … are neutral) that ended after
  -- the last success or in the window: the only runs a streak or a window count involves.
  SELECT d.*, o.last_ok_time
  FROM runs AS d
  JOIN ok AS o ON o.workspace_id = d.workspace_id AND o.job_id = d.job_id
  WHERE (d.result_state = 'SUCCEEDED' OR d.result_state IN ('ERROR', 'FAILED', 'TIMED_OUT'))
    AND (o.last_ok_time IS NULL OR d.end_time >= o.last_ok_time OR d.end_time >= :since)
),
per_job AS (
  SELECT
    workspace_id,
    job_id,
    max(end_time) AS last_end_time,
    max(last_ok_time) AS last_ok_time,
    count_if(result_state <> 'SUCCEEDED' AND end_time >= :since) AS failures_in_window,
    count_if(end_time >= :since) AS runs_in_window
  FROM decisive
  GROUP BY workspace_id, job_id
),
failing AS (
  -- The latest decisive run ended in the window and did not succeed.
  SELECT *
  FROM per_job
  WHERE last_end_time >= :since
    AND (last_ok_time IS NULL OR last_ok_time < last_end_time)
),
streaks AS (
  SELECT
    f.workspace_id,
    f.job_id,
    count(*) AS streak,
    f.failures_in_window,
    f.runs_in_window,
    f.last_end_time
  FROM failing AS f
  JOIN decisive AS d
    ON d.workspace_id = f.workspace_id AND d.job_id = f.job_id
    AND (f.last_ok_time IS NULL OR d.end_time > f.last_ok_time)
  GROUP BY f.workspace_id, f.job_id, f.failures_in_window, f.runs_in_window, f.last_end_time
),
latest AS (
  -- The run that ended last (ties: the greater run_id), with its final state.
  SELECT d.*
  FROM decisive AS d
  JOIN failing AS f
    ON d.workspace_id = f.workspace_id AND d.job_id = f.job_id AND d.end_time = f.last_end_time
  QUALIFY row_number() OVER (PARTITION BY d.workspace_id, d.job_id ORDER BY d.run_id DESC) = 1
),
jobs AS (
  SELECT workspace_id, job_id, name, tags, run_as_user_name, creator_user_name, delete_time
  FROM system.lakeflow.jobs
  WHERE change_time <= :now
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
),
named AS (
  SELECT
    l.workspace_id,
    l.job_id,
    j.name,
    s.streak,
    s.failures_in_window,
    s.runs_in_window,
    l.run_id,
    l.end_time,
    l.result_state,
    l.termination_code,
    coalesce(j.tags['owner'], j.run_as_user_name, j.creator_user_name) AS job_owner
  FROM latest AS l
  JOIN streaks AS s ON s.workspace_id = l.workspace_id AND s.job_id = l.job_id
  LEFT JOIN jobs AS j ON j.workspace_id = l.workspace_id AND j.job_id = l.job_id
  WHERE j.delete_time IS NULL OR j.delete_time > :now
),
billed_as AS (
  -- Billing is read only for jobs the jobs table names no owner for.
  SELECT u.workspace_id, u.usage_metadata.job_id AS job_id,
    max_by(u.identity_metadata.run_as, u.usage_end_time) AS run_as
  FROM system.billing.usage AS u
  JOIN named AS n ON n.workspace_id = u.workspace_id AND n.job_id = u.usage_metadata.job_id
  WHERE n.job_owner IS NULL
    AND u.usage_date >= date_sub(to_date(:now), 30)
    AND u.usage_date <= to_date(:now)
    AND u.usage_end_time <= :now
    AND u.identity_metadata.run_as IS NOT NULL
  GROUP BY u.workspace_id, u.usage_metadata.job_id
),
task_final AS (
  -- Each task of the listed runs: when its last failed row and its last other terminal row
  -- ended. One pass, grouped by task, over only those runs' terminal rows.
  SELECT
    t.workspace_id,
    t.job_run_id,
    t.task_key,
    max(t.period_end_time) FILTER (WHERE t.result_state IN ('ERROR', 'FAILED', 'TIMED_OUT'))
      AS failed_at,
    max(t.period_end_time) FILTER (WHERE t.result_state NOT IN ('ERROR', 'FAILED', 'TIMED_OUT'))
      AS other_at
  FROM system.lakeflow.job_task_run_timeline AS t
  JOIN named AS n
    ON n.workspace_id = t.workspace_id AND n.job_id = t.job_id AND n.run_id = t.job_run_id
  WHERE t.result_state IS NOT NULL
    AND t.period_end_time <= :now
    AND t.period_end_time > :now - INTERVAL 90 DAYS
  GROUP BY t.workspace_id, t.job_run_id, t.task_key
),
failed_tasks AS (
  -- A task failed when its final row did: its last failure ended after any other final row.
  SELECT workspace_id, job_run_id, concat_ws(', ', array_sort(collect_set(task_key))) AS keys
  FROM task_final
  WHERE failed_at IS NOT NULL AND (other_at IS NULL OR failed_at > other_at)
  GROUP BY workspace_id, job_run_id
)
SELECT
  n.workspace_id,
  n.job_id,
  n.name,
  n.streak,
  n.failures_in_window,
  n.runs_in_window,
  n.run_id AS last_run_id,
  n.end_time AS last_failure_time,
  n.result_state,
  n.termination_code,
  coalesce(n.job_owner, b.run_as) AS owner,
  coalesce(t.keys, '') AS failed_tasks
FROM named AS n
LEFT JOIN billed_as AS b ON b.workspace_id = n.workspace_id AND b.job_id = n.job_id
LEFT JOIN failed_tasks AS t ON t.workspace_id = n.workspace_id AND t.job_run_id = n.run_id
ORDER BY n.streak DESC, n.failures_in_window DESC, n.end_time DESC, n.workspace_id, n.job_id
