-- cost_total: Total cost in [:since, :until) vs the previous window [:prev_since, :since).
-- List price valid for each usage window; all record types summed so retractions net out.
-- last_usage_end_time says how far billing has caught up (recent hours are often missing).
-- Params:
--   :since TIMESTAMP  window start (UTC)
--   :until TIMESTAMP  window end, exclusive
--   :prev_since TIMESTAMP  previous window start (it ends at :since)
-- Columns:
--   cost DECIMAL
--   prev_cost DECIMAL
--   change_pct DOUBLE  NULL when prev_cost is 0
--   dbus DECIMAL
--   currency_code STRING
--   last_usage_end_time TIMESTAMP
WITH priced AS (
  SELECT
    u.usage_start_time >= :since AS current_window,
    u.usage_end_time,
    u.usage_quantity,
    -- Narrow the scales first: DECIMAL(38,18) x DECIMAL(38,18) overflows in DuckDB, and
    -- Databricks rounds the product to 6 decimals anyway.
    CAST(u.usage_quantity AS DECIMAL(38, 10)) * CAST(p.pricing.effective_list.default AS DECIMAL(38, 8)) AS cost,
    p.currency_code
  FROM system.billing.usage AS u
  JOIN system.billing.list_prices AS p
    ON u.cloud = p.cloud
    AND u.sku_name = p.sku_name
    AND u.usage_start_time >= p.price_start_time
    AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
  WHERE u.usage_date >= to_date(:prev_since)
    AND u.usage_date <= to_date(:until)
    AND u.usage_start_time >= :prev_since
    AND u.usage_start_time < :until
)
SELECT
  coalesce(sum(cost) FILTER (WHERE current_window), 0) AS cost,
  coalesce(sum(cost) FILTER (WHERE NOT current_window), 0) AS prev_cost,
  try_divide(
    CAST(
      coalesce(sum(cost) FILTER (WHERE current_window), 0)
      - coalesce(sum(cost) FILTER (WHERE NOT current_window), 0) AS DOUBLE
    ),
    CAST(coalesce(sum(cost) FILTER (WHERE NOT current_window), 0) AS DOUBLE)
  ) * 100 AS change_pct,
  coalesce(sum(usage_quantity) FILTER (WHERE current_window), 0) AS dbus,
  coalesce(min(currency_code), 'USD') AS currency_code,
  max(usage_end_time) AS last_usage_end_time
FROM priced
