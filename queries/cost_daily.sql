-- cost_daily: Daily cost series (by usage_date, UTC) for [:since, :until).
-- Optionally narrowed to one workspace and/or one job (NULL = all). Days without usage are
-- absent. List price valid for each usage window; retractions net out.
-- Params:
--   :since TIMESTAMP  window start (UTC)
--   :until TIMESTAMP  window end, exclusive
--   :workspace_id STRING?  only this workspace
--   :job_id STRING?  only this job (usage_metadata.job_id)
-- Columns:
--   day DATE
--   cost DECIMAL
--   dbus DECIMAL
WITH priced AS (
  SELECT
    u.usage_date,
    u.usage_quantity,
    -- Narrow the scales first: DECIMAL(38,18) x DECIMAL(38,18) overflows in DuckDB, and
    -- Databricks rounds the product to 6 decimals anyway.
    CAST(u.usage_quantity AS DECIMAL(38, 10)) * CAST(p.pricing.effective_list.default AS DECIMAL(38, 8)) AS cost
  FROM system.billing.usage AS u
  JOIN system.billing.list_prices AS p
    ON u.cloud = p.cloud
    AND u.sku_name = p.sku_name
    AND u.usage_start_time >= p.price_start_time
    AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
  WHERE u.usage_date >= to_date(:since)
    AND u.usage_date <= to_date(:until)
    AND u.usage_start_time >= :since
    AND u.usage_start_time < :until
    AND (:workspace_id IS NULL OR u.workspace_id = :workspace_id)
    AND (:job_id IS NULL OR u.usage_metadata.job_id = :job_id)
)
SELECT usage_date AS day, sum(cost) AS cost, sum(usage_quantity) AS dbus
FROM priced
GROUP BY usage_date
ORDER BY day
