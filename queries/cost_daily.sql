-- cost_daily: Daily cost series (by usage_date, UTC) for [:since, :until).
-- Optionally narrowed to one workspace and/or one job (NULL = all). Days without usage are
-- absent. List price valid for each usage window; retractions net out.
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :since TIMESTAMP  window start (UTC)
--   :until TIMESTAMP  window end, exclusive
--   :workspace_id STRING?  only this workspace
--   :job_id STRING?  only this job (usage_metadata.job_id)
-- Columns:
--   day DATE
--   cost DECIMAL
--   dbus DECIMAL  DBUs only (usage_unit DBU; other units are priced, not counted)
WITH priced AS (
  SELECT
    u.usage_date,
    u.usage_quantity,
    u.usage_unit,
    -- Exact on both engines: DECIMAL(20,10) x DECIMAL(12,8) is DECIMAL(33,18) on Databricks
    -- (wider inputs push the product past 38 digits, and Spark then rounds it to 6 decimals) and
    -- DECIMAL(32,18) in DuckDB. Ten integer digits of usage and four of unit price are plenty;
    -- under ANSI mode a bigger value is an error, never a wrong sum.
    CAST(u.usage_quantity AS DECIMAL(20, 10)) * CAST(p.pricing.effective_list.default AS DECIMAL(12, 8)) AS cost
  FROM system.billing.usage AS u
  JOIN system.billing.list_prices AS p
    ON u.cloud = p.cloud
    AND u.sku_name = p.sku_name
    AND u.usage_unit = p.usage_unit
    AND p.currency_code = 'USD'
    AND u.usage_start_time >= p.price_start_time
    AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
  WHERE u.usage_date >= to_date(:since)
    AND u.usage_date <= to_date(:until)
    AND u.usage_start_time >= :since
    AND u.usage_start_time < :until
    AND (:workspace_id IS NULL OR u.workspace_id = :workspace_id)
    AND (:job_id IS NULL OR u.usage_metadata.job_id = :job_id)
)
SELECT usage_date AS day, sum(cost) AS cost, coalesce(sum(usage_quantity) FILTER (WHERE usage_unit = 'DBU'), 0) AS dbus
FROM priced
GROUP BY usage_date
ORDER BY day
