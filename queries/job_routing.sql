-- job_routing: What a proactive message needs to route and address one job: its latest name,
-- owner and the tag values routing rules match on, as the jobs table says at :now (SCD2:
-- the newest row by change_time; a deleted job still routes by its last row).
-- Params:
--   :workspace_id STRING
--   :job_id STRING
--   :now TIMESTAMP  the injected clock (UTC); rows changed after it are not seen
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING  NULL when the job has no name
--   owner STRING  tags['owner'], else run_as_user_name, else creator_user_name
--   tags_json STRING  the tags map as a JSON object ("{}" if none)
SELECT
  workspace_id,
  job_id,
  name,
  coalesce(tags['owner'], run_as_user_name, creator_user_name) AS owner,
  coalesce(to_json(tags), '{}') AS tags_json
FROM system.lakeflow.jobs
WHERE workspace_id = :workspace_id
  AND job_id = :job_id
  AND change_time <= :now
QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
