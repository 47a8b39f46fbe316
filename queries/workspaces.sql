-- workspaces: Every workspace's name and URL, from system.access.workspaces_latest.
-- Optional by design: the answers that show workspace names (failing_jobs, job_lookup,
-- runs_in_progress, cost_by) do not join this table, and bot/warehouse/queries.py adds the
-- names from this lookup when it runs, or leaves them out when it fails (the grant on
-- system.access is missing), so those answers work with only the lakeflow and billing grants.
-- Columns:
--   workspace_id STRING
--   workspace_name STRING
--   workspace_url STRING  with the scheme, e.g. https://acme.cloud.databricks.com
SELECT workspace_id, workspace_name, workspace_url
FROM system.access.workspaces_latest
ORDER BY workspace_id
