-- cost_total: Total cost in [:since, :until) vs the previous window [:prev_since, :since).
-- List price valid for each usage window; all record types summed so retractions net out.
-- last_usage_end_time says how far billing has caught up (recent hours are often missing).
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :since TIMESTAMP  window start (UTC)
--   :until TIMESTAMP  window end, exclusive
--   :prev_since TIMESTAMP  previous window start (it ends at :since)
-- Columns:
--   cost DECIMAL
--   prev_cost DECIMAL
--   change_pct DOUBLE  NULL when prev_cost is 0
--   dbus DECIMAL  DBUs only (usage_unit DBU; other units are priced, not counted)
--   currency_code STRING
--   last_usage_end_time TIMESTAMP
WITH usage_priced AS (
  SELECT
    u.usage_start_time >= :since AS current_window,
    u.usage_end_time,
    u.usage_quantity,
    u.usage_unit,
    p.pricing.effective_list.default AS unit_price,
    p.currency_code
  FROM system.billing.usage AS u
  JOIN system.billing.list_prices AS p
    ON u.cloud = p.cloud
    AND u.sku_name = p.sku_name
    AND u.usage_unit = p.usage_unit
    AND p.currency_code = 'USD'
    AND u.usage_start_time >= p.price_start_time
    AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
  WHERE u.usage_date >= to_date(:prev_since)
    AND u.usage_date <= to_date(:until)
    AND u.usage_start_time >= :prev_since
    AND u.usage_start_time < :until
),
priced AS (
  -- Sum the quantities per unit price first and multiply once per price: a per-row decimal
  -- product is what made the cost queries slow (DuckDB narrows a DECIMAL(38,18) in 128-bit
  -- arithmetic). Exact on both engines: DECIMAL(25,10) x DECIMAL(12,8) is DECIMAL(38,18) on
  -- Databricks (wider inputs exceed 38 digits and Spark rounds the product to 6 decimals) and
  -- DECIMAL(37,18) in DuckDB; 15 integer digits of summed usage and 4 of unit price are plenty,
  -- and under ANSI mode a bigger value is an error, never a wrong sum.
  SELECT
    current_window,
    usage_unit,
    currency_code,
    sum(usage_quantity) AS usage_quantity,
    CAST(sum(usage_quantity) AS DECIMAL(25, 10)) * CAST(unit_price AS DECIMAL(12, 8)) AS cost,
    max(usage_end_time) AS usage_end_time
  FROM usage_priced
  GROUP BY current_window, usage_unit, currency_code, unit_price
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
  coalesce(sum(usage_quantity) FILTER (WHERE current_window AND usage_unit = 'DBU'), 0) AS dbus,
  coalesce(min(currency_code), 'USD') AS currency_code,
  max(usage_end_time) AS last_usage_end_time
FROM priced
