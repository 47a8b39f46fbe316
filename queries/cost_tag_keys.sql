-- cost_tag_keys: The tag keys of the jobs billed in [:since, :until), on the most jobs first.
-- For `/jobs cost … by <tag>` when no usage carries the tag asked for: the keys that do
-- exist. Job tags (the jobs table, latest row per job) rather than billing's custom_tags:
-- billing adds cluster and pool tags (ClusterId, Vendor, Creator…) that nobody groups by, and
-- reading its tag maps is slow. A job counts when billing has usage with its id in the window.
-- Params:
--   :since TIMESTAMP  window start (UTC)
--   :until TIMESTAMP  window end, exclusive
--   :limit INT  how many keys
-- Columns:
--   tag_key STRING
--   jobs INT  billed jobs (workspace_id + job_id) carrying the key
WITH billed AS (
  SELECT DISTINCT u.workspace_id, u.usage_metadata.job_id AS job_id
  FROM system.billing.usage AS u
  WHERE u.usage_metadata.job_id IS NOT NULL
    AND u.usage_date >= to_date(:since)
    AND u.usage_date <= to_date(:until)
    AND u.usage_start_time >= :since
    AND u.usage_start_time < :until
),
jobs AS (
  SELECT workspace_id, job_id, tags
  FROM system.lakeflow.jobs
  WHERE change_time < :until
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
),
job_keys AS (
  SELECT explode(map_keys(j.tags)) AS tag_key
  FROM jobs AS j
  JOIN billed AS b ON b.workspace_id = j.workspace_id AND b.job_id = j.job_id
)
SELECT tag_key, count(*) AS jobs
FROM job_keys
GROUP BY tag_key
ORDER BY jobs DESC, tag_key
LIMIT :limit
