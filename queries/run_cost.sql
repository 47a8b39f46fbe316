-- run_cost: What one job run cost, and whether billing has it yet.
-- Usage rows with this job_run_id (job compute and serverless; runs on all-purpose clusters
-- are never billed by run). Billing lags hours behind a run: billed = false means "not yet
-- known", not "free". Retractions net out.
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :workspace_id STRING
--   :job_run_id STRING  the job run id (job_run_timeline.run_id)
-- Columns:
--   billed BOOLEAN  any usage row for this run yet
--   cost DECIMAL
--   dbus DECIMAL  DBUs only (usage_unit DBU)
--   usage_rows INT
--   first_usage_start_time TIMESTAMP
--   last_usage_end_time TIMESTAMP
--   currency_code STRING
SELECT
  count(*) > 0 AS billed,
  -- Exact on both engines: DECIMAL(20,10) x DECIMAL(12,8) is DECIMAL(33,18) on Databricks
  -- (wider inputs push the product past 38 digits, and Spark then rounds it to 6 decimals) and
  -- DECIMAL(32,18) in DuckDB. Ten integer digits of usage and four of unit price are plenty;
  -- under ANSI mode a bigger value is an error, never a wrong sum.
  coalesce(sum(CAST(u.usage_quantity AS DECIMAL(20, 10)) * CAST(p.pricing.effective_list.default AS DECIMAL(12, 8))), 0) AS cost,
  coalesce(sum(u.usage_quantity) FILTER (WHERE u.usage_unit = 'DBU'), 0) AS dbus,
  count(*) AS usage_rows,
  min(u.usage_start_time) AS first_usage_start_time,
  max(u.usage_end_time) AS last_usage_end_time,
  coalesce(min(p.currency_code), 'USD') AS currency_code
FROM system.billing.usage AS u
JOIN system.billing.list_prices AS p
  ON u.cloud = p.cloud
  AND u.sku_name = p.sku_name
  AND u.usage_unit = p.usage_unit
  AND p.currency_code = 'USD'
  AND u.usage_start_time >= p.price_start_time
  AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
WHERE u.workspace_id = :workspace_id
  AND u.usage_metadata.job_run_id = :job_run_id
