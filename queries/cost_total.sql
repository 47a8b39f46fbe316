-- cost_total: Total cost in [:since, :until) vs a previous window from :prev_since.
-- The previous window ends at :since, or, with :cut_previous, like with like: billing lands
-- hours late, so the current window is only billed up to billed_until (its latest usage end,
-- at most :until), and the previous window is cut at the same distance from its start:
-- [:prev_since, :prev_since + (billed_until - :since)), never past :since. For `today`
-- (:prev_since = yesterday's midnight) that is yesterday from 00:00 to the time of day
-- billing has reached today.
-- data_from says whether billing reaches back that far: the earliest usage start from a day
-- before :prev_since on (later than :prev_since: the previous window is only partly covered).
-- List price valid for each usage window; all record types summed so retractions net out.
-- last_usage_end_time says how far billing has caught up (recent hours are often missing).
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :since TIMESTAMP  window start (UTC)
--   :until TIMESTAMP  window end, exclusive
--   :prev_since TIMESTAMP  previous window start (before :since)
--   :cut_previous BOOLEAN?  cut the previous window as billing cuts the current (NULL = false)
-- Columns:
--   cost DECIMAL
--   prev_cost DECIMAL  [:prev_since, prev_until)
--   change_pct DOUBLE  NULL when prev_cost is 0
--   dbus DECIMAL  DBUs only (usage_unit DBU; other units are priced, not counted)
--   currency_code STRING
--   last_usage_end_time TIMESTAMP
--   billed_until TIMESTAMP  the current window's latest usage end, at most :until; NULL = none
--   prev_until TIMESTAMP  where the previous window ends; NULL when cut and nothing is billed
--   data_from TIMESTAMP  earliest usage start from a day before :prev_since; NULL = none
WITH usage_hours AS (
  -- Billing rows are hourly: summed per start hour, unit and price, the rest of the query
  -- reads a few thousand rows however long the window.
  SELECT
    u.usage_start_time,
    u.usage_unit,
    p.pricing.effective_list.default AS unit_price,
    p.currency_code,
    sum(u.usage_quantity) AS usage_quantity,
    max(u.usage_end_time) AS usage_end_time
  FROM system.billing.usage AS u
  JOIN system.billing.list_prices AS p
    ON u.cloud = p.cloud
    AND u.sku_name = p.sku_name
    AND u.usage_unit = p.usage_unit
    AND p.currency_code = 'USD'
    AND u.usage_start_time >= p.price_start_time
    AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
  WHERE u.usage_date >= date_sub(to_date(:prev_since), 1)
    AND u.usage_date <= to_date(:until)
    AND u.usage_start_time >= :prev_since - INTERVAL 1 DAY
    AND u.usage_start_time < :until
  GROUP BY u.usage_start_time, u.usage_unit, p.pricing.effective_list.default, p.currency_code
),
bounds AS (
  SELECT
    least(max(usage_end_time) FILTER (WHERE usage_start_time >= :since), :until)
      AS billed_until,
    min(usage_start_time) AS data_from,
    max(usage_end_time) FILTER (WHERE usage_start_time >= :prev_since) AS last_usage_end_time
  FROM usage_hours
),
cut AS (
  SELECT billed_until, data_from, last_usage_end_time,
    CASE
      WHEN coalesce(:cut_previous, false)
        THEN least(:prev_since + (billed_until - :since), :since)
      ELSE :since
    END AS prev_until
  FROM bounds
),
priced AS (
  -- Sum the quantities per unit price first and multiply once per price: a per-row decimal
  -- product is what made the cost queries slow (DuckDB narrows a DECIMAL(38,18) in 128-bit
  -- arithmetic). Exact on both engines: DECIMAL(25,10) x DECIMAL(12,8) is DECIMAL(38,18) on
  -- Databricks (wider inputs exceed 38 digits and Spark rounds the product to 6 decimals) and
  -- DECIMAL(37,18) in DuckDB; 15 integer digits of summed usage and 4 of unit price are plenty,
  -- and under ANSI mode a bigger value is an error, never a wrong sum.
  SELECT
    h.usage_start_time >= :since AS current_window,
    h.usage_unit,
    h.currency_code,
    sum(h.usage_quantity) AS usage_quantity,
    CAST(sum(h.usage_quantity) AS DECIMAL(25, 10)) * CAST(h.unit_price AS DECIMAL(12, 8)) AS cost
  FROM usage_hours AS h
  CROSS JOIN cut AS c
  WHERE h.usage_start_time >= :since
    OR (h.usage_start_time >= :prev_since AND h.usage_start_time < c.prev_until)
  GROUP BY h.usage_start_time >= :since, h.usage_unit, h.currency_code, h.unit_price
),
totals AS (
  SELECT
    coalesce(sum(cost) FILTER (WHERE current_window), 0) AS cost,
    coalesce(sum(cost) FILTER (WHERE NOT current_window), 0) AS prev_cost,
    coalesce(sum(usage_quantity) FILTER (WHERE current_window AND usage_unit = 'DBU'), 0)
      AS dbus,
    coalesce(min(currency_code), 'USD') AS currency_code
  FROM priced
)
SELECT
  t.cost,
  t.prev_cost,
  try_divide(CAST(t.cost - t.prev_cost AS DOUBLE), CAST(t.prev_cost AS DOUBLE)) * 100
    AS change_pct,
  t.dbus,
  t.currency_code,
  c.last_usage_end_time,
  c.billed_until,
  c.prev_until,
  c.data_from
FROM totals AS t
CROSS JOIN cut AS c
