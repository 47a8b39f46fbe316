-- job_cost: What one job cost over the last 7 and 30 days (list price).
-- Usage rows with this job's id (job compute and serverless jobs; jobs on all-purpose
-- clusters carry no job_id in billing and are not counted here), priced with the list price
-- valid for the usage window, summing every record type so retractions net out.
-- all_purpose_hours_30d says how much of the job cost cannot be here: its task hours on
-- all-purpose clusters (cluster_source UI or API), which billing charges to the cluster.
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :workspace_id STRING
--   :job_id STRING
--   :now TIMESTAMP  the injected clock (UTC)
-- Columns:
--   cost_7d DECIMAL  usage that started in the last 7 days
--   cost_30d DECIMAL
--   dbus_30d DECIMAL  DBUs only (usage_unit DBU; e.g. serverless networking is not)
--   runs_billed_30d INT  distinct job_run_ids in billing
--   currency_code STRING
--   last_usage_end_time TIMESTAMP  how far billing has caught up for this job
--   all_purpose_hours_30d DOUBLE  task hours on all-purpose clusters, last 30 days (0 = none)
WITH priced AS (
  SELECT
    u.usage_start_time,
    u.usage_end_time,
    u.usage_quantity,
    u.usage_unit,
    u.usage_metadata.job_run_id AS job_run_id,
    -- Exact on both engines: DECIMAL(20,10) x DECIMAL(12,8) is DECIMAL(33,18) on Databricks
    -- (wider inputs push the product past 38 digits, and Spark then rounds it to 6 decimals) and
    -- DECIMAL(32,18) in DuckDB. Ten integer digits of usage and four of unit price are plenty;
    -- under ANSI mode a bigger value is an error, never a wrong sum.
    CAST(u.usage_quantity AS DECIMAL(20, 10)) * CAST(p.pricing.effective_list.default AS DECIMAL(12, 8)) AS cost,
    p.currency_code
  FROM system.billing.usage AS u
  JOIN system.billing.list_prices AS p
    ON u.cloud = p.cloud
    AND u.sku_name = p.sku_name
    AND u.usage_unit = p.usage_unit
    AND p.currency_code = 'USD'
    AND u.usage_start_time >= p.price_start_time
    AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
  WHERE u.workspace_id = :workspace_id
    AND u.usage_metadata.job_id = :job_id
    AND u.usage_date >= date_sub(to_date(:now), 31)
    AND u.usage_start_time >= :now - INTERVAL 30 DAYS
    AND u.usage_start_time < :now
),
all_purpose AS (
  -- A cluster's source is fixed when it is created, so any of its rows tells.
  SELECT DISTINCT cluster_id
  FROM system.compute.clusters
  WHERE workspace_id = :workspace_id
    AND cluster_source IN ('UI', 'API')
    AND change_time < :now
),
on_all_purpose AS (
  SELECT coalesce(sum(t.seconds), 0) / 3600.0 AS hours
  FROM (
    SELECT
      CAST(period_end_time - period_start_time AS LONG) AS seconds,
      explode(compute_ids) AS cluster_id
    FROM system.lakeflow.job_task_run_timeline
    WHERE workspace_id = :workspace_id
      AND job_id = :job_id
      AND period_start_time >= :now - INTERVAL 30 DAYS
      AND period_start_time < :now
  ) AS t
  JOIN all_purpose AS a ON a.cluster_id = t.cluster_id
),
billed AS (
  SELECT
    coalesce(sum(cost) FILTER (WHERE usage_start_time >= :now - INTERVAL 7 DAYS), 0) AS cost_7d,
    coalesce(sum(cost), 0) AS cost_30d,
    coalesce(sum(usage_quantity) FILTER (WHERE usage_unit = 'DBU'), 0) AS dbus_30d,
    count(DISTINCT job_run_id) AS runs_billed_30d,
    coalesce(min(currency_code), 'USD') AS currency_code,
    max(usage_end_time) AS last_usage_end_time
  FROM priced
)
SELECT
  b.cost_7d,
  b.cost_30d,
  b.dbus_30d,
  b.runs_billed_30d,
  b.currency_code,
  b.last_usage_end_time,
  CAST(o.hours AS DOUBLE) AS all_purpose_hours_30d
FROM billed AS b
CROSS JOIN on_all_purpose AS o
