-- scheduled_jobs: Every job with a Quartz schedule, as the jobs table says at :now, and the
-- latest run start the run timeline shows since :since (for the missed-run check).
-- SCD2: the newest row per (workspace_id, job_id) by change_time. Deleted jobs and jobs
-- without trigger.schedule are left out; so are rows written before the trigger column was
-- filled (early December 2025), whose NULL trigger cannot say "unscheduled". Paused jobs
-- are returned with paused = true: the caller decides (and says so).
-- A run is seen from its first written slice; its start is the first slice's start. Runs are
-- looked for among slices ending up to 3 days before :since, so a long run that started
-- before :since is not mistaken for a new start (a run longer than that is an edge left).
-- Params:
--   :now TIMESTAMP  the injected clock (UTC); rows changed or slices ending after it are not seen
--   :since TIMESTAMP  only runs that started at or after this count for last_run_start
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING
--   owner STRING  tags['owner'], else run_as_user_name, else creator_user_name
--   tags_json STRING  the tags map as a JSON object ("{}" if none)
--   quartz_cron STRING  trigger.schedule.quartz_cron_expression
--   timezone_id STRING  trigger.schedule.timezone_id (NULL: UTC)
--   paused BOOLEAN  NULL is read as not paused (the column is filled with the trigger)
--   change_time TIMESTAMP  the row's change_time: when the settings last changed
--   last_run_start TIMESTAMP  the latest start of a run since :since; NULL if none
WITH latest AS (
  SELECT
    workspace_id,
    job_id,
    name,
    coalesce(tags['owner'], run_as_user_name, creator_user_name) AS owner,
    coalesce(to_json(tags), '{}') AS tags_json,
    trigger.schedule.quartz_cron_expression AS quartz_cron,
    trigger.schedule.timezone_id AS timezone_id,
    paused,
    change_time,
    delete_time
  FROM system.lakeflow.jobs
  WHERE change_time <= :now
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
),
runs AS (
  SELECT workspace_id, job_id, run_id, min(period_start_time) AS start_time
  FROM system.lakeflow.job_run_timeline
  WHERE period_end_time <= :now
    AND period_end_time >= timestampadd(DAY, -3, :since)
  GROUP BY workspace_id, job_id, run_id
),
starts AS (
  SELECT workspace_id, job_id, max(start_time) AS last_run_start
  FROM runs
  WHERE start_time >= :since
  GROUP BY workspace_id, job_id
)
SELECT
  l.workspace_id,
  l.job_id,
  l.name,
  l.owner,
  l.tags_json,
  l.quartz_cron,
  l.timezone_id,
  coalesce(l.paused, false) AS paused,
  l.change_time,
  s.last_run_start
FROM latest AS l
LEFT JOIN starts AS s ON s.workspace_id = l.workspace_id AND s.job_id = l.job_id
WHERE l.quartz_cron IS NOT NULL
  AND (l.delete_time IS NULL OR l.delete_time > :now)
ORDER BY l.workspace_id, l.job_id
