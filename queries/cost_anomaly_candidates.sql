-- cost_anomaly_candidates: Jobs whose cost on :day is above their own robust baseline.
-- Daily cost per job (usage_date, list price, retractions net out) vs the previous 14 days,
-- zero-filled (a day without usage costs 0). Same-weekday aware: expected_cost is the larger
-- of the 14-day median and the median of the same weekday in the previous 4 weeks, so a
-- weekly job is compared with its own weekday rather than with six empty days. MAD is the
-- median absolute deviation from the 14-day median; robust_z = (cost - expected_cost) /
-- (1.4826 * MAD), NULL when MAD is 0. Only jobs with cost > expected_cost are returned; the
-- monitor applies sensitivity and minimum amounts. Cause hints compare :day with the
-- baseline: runs (billed job_run_ids), average run duration (timeline slices, by start
-- date), SKUs and node types not seen in the previous 28 days, and repaired/failed runs.
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :day DATE  the UTC day to check
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING
--   owner STRING  tags['owner'], run_as_user_name, creator_user_name, else billing's run_as
--   cost DECIMAL  cost on :day
--   baseline_median DOUBLE  median daily cost, previous 14 days
--   baseline_mad DOUBLE
--   weekday_median DOUBLE  median cost on the same weekday, previous 4 weeks
--   expected_cost DOUBLE  greatest(baseline_median, weekday_median)
--   robust_z DOUBLE
--   baseline_days_with_cost INT  of the previous 14 days (0 = a new job)
--   runs INT  billed runs on :day
--   baseline_runs DOUBLE  median daily billed runs, previous 14 days
--   avg_duration_seconds DOUBLE  runs started on :day
--   baseline_avg_duration_seconds DOUBLE  runs started in the previous 14 days
--   new_skus STRING  comma-separated, empty if none
--   new_node_types STRING  comma-separated, empty if none
--   repaired_runs INT  runs ending on :day with more than one terminal row
--   failed_runs INT  runs ending on :day in ERROR, FAILED or TIMED_OUT
WITH priced AS (
  SELECT
    u.workspace_id,
    u.usage_metadata.job_id AS job_id,
    u.usage_metadata.job_run_id AS job_run_id,
    u.usage_metadata.node_type AS node_type,
    u.sku_name,
    u.usage_date,
    u.usage_end_time,
    u.identity_metadata.run_as AS run_as,
    u.usage_quantity,
    p.pricing.effective_list.default AS unit_price
  FROM system.billing.usage AS u
  JOIN system.billing.list_prices AS p
    ON u.cloud = p.cloud
    AND u.sku_name = p.sku_name
    AND u.usage_unit = p.usage_unit
    AND p.currency_code = 'USD'
    AND u.usage_start_time >= p.price_start_time
    AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
  WHERE u.usage_metadata.job_id IS NOT NULL
    AND u.usage_date >= date_sub(:day, 28)
    AND u.usage_date <= :day
),
daily_price AS (
  -- Sum the quantities per job, day and unit price, then multiply once per price: a per-row
  -- decimal product is what made the cost queries slow (DuckDB narrows a DECIMAL(38,18) in
  -- 128-bit arithmetic). Exact on both engines: DECIMAL(25,10) x DECIMAL(12,8) is
  -- DECIMAL(38,18) on Databricks (wider inputs exceed 38 digits and Spark rounds the product
  -- to 6 decimals) and DECIMAL(37,18) in DuckDB; under ANSI mode a bigger value is an error.
  SELECT
    workspace_id,
    job_id,
    usage_date,
    CAST(sum(usage_quantity) AS DECIMAL(25, 10)) * CAST(unit_price AS DECIMAL(12, 8)) AS cost
  FROM priced
  GROUP BY workspace_id, job_id, usage_date, unit_price
),
daily_runs AS (
  SELECT workspace_id, job_id, usage_date, count(DISTINCT job_run_id) AS runs
  FROM priced
  GROUP BY workspace_id, job_id, usage_date
),
daily AS (
  SELECT c.workspace_id, c.job_id, c.usage_date, c.cost, r.runs
  FROM (
    SELECT workspace_id, job_id, usage_date, sum(cost) AS cost
    FROM daily_price
    GROUP BY workspace_id, job_id, usage_date
  ) AS c
  JOIN daily_runs AS r
    ON r.workspace_id = c.workspace_id AND r.job_id = c.job_id AND r.usage_date = c.usage_date
),
today AS (
  SELECT * FROM daily WHERE usage_date = :day AND cost > 0
),
filled AS (
  SELECT
    t.workspace_id,
    t.job_id,
    o.n,
    coalesce(CAST(d.cost AS DOUBLE), 0.0) AS cost,
    coalesce(d.runs, 0) AS runs
  FROM today AS t
  CROSS JOIN (SELECT explode(sequence(1, 28)) AS n) AS o
  LEFT JOIN daily AS d
    ON d.workspace_id = t.workspace_id
    AND d.job_id = t.job_id
    AND d.usage_date = date_sub(:day, o.n)
),
base AS (
  SELECT
    workspace_id,
    job_id,
    percentile(cost, 0.5) FILTER (WHERE n <= 14) AS baseline_median,
    percentile(cost, 0.5) FILTER (WHERE n % 7 = 0) AS weekday_median,
    percentile(runs, 0.5) FILTER (WHERE n <= 14) AS baseline_runs,
    count_if(n <= 14 AND cost > 0) AS baseline_days_with_cost
  FROM filled
  GROUP BY workspace_id, job_id
),
mad AS (
  SELECT f.workspace_id, f.job_id, percentile(abs(f.cost - b.baseline_median), 0.5) AS baseline_mad
  FROM filled AS f
  JOIN base AS b ON b.workspace_id = f.workspace_id AND b.job_id = f.job_id
  WHERE f.n <= 14
  GROUP BY f.workspace_id, f.job_id
),
first_seen AS (
  -- The first day each SKU and node type was billed to the job in the 28 days (grouped, not
  -- windowed: a window over every priced row was this query's slowest step).
  SELECT
    f.workspace_id,
    f.job_id,
    concat_ws(', ', array_sort(collect_set(
      CASE WHEN f.kind = 'sku' AND f.first_day = :day THEN f.item END
    ))) AS new_skus,
    concat_ws(', ', array_sort(collect_set(
      CASE WHEN f.kind = 'node' AND f.first_day = :day THEN f.item END
    ))) AS new_node_types
  FROM (
    SELECT x.workspace_id, x.job_id, 'sku' AS kind, x.sku_name AS item,
      min(x.usage_date) AS first_day
    FROM priced AS x
    JOIN today AS t ON t.workspace_id = x.workspace_id AND t.job_id = x.job_id
    GROUP BY x.workspace_id, x.job_id, x.sku_name
    UNION ALL
    SELECT x.workspace_id, x.job_id, 'node' AS kind, x.node_type AS item,
      min(x.usage_date) AS first_day
    FROM priced AS x
    JOIN today AS t ON t.workspace_id = x.workspace_id AND t.job_id = x.job_id
    GROUP BY x.workspace_id, x.job_id, x.node_type
  ) AS f
  GROUP BY f.workspace_id, f.job_id
),
runs AS (
  SELECT
    r.workspace_id,
    r.job_id,
    r.run_id,
    min(r.period_start_time) AS start_time,
    max(r.period_end_time) FILTER (WHERE r.result_state IS NOT NULL) AS end_time,
    max_by(r.result_state, r.period_end_time) FILTER (WHERE r.result_state IS NOT NULL) AS state,
    count(r.result_state) AS terminal_rows,
    CAST(sum(r.period_end_time - r.period_start_time) AS LONG) AS duration_seconds
  FROM system.lakeflow.job_run_timeline AS r
  JOIN today AS t ON t.workspace_id = r.workspace_id AND t.job_id = r.job_id
  WHERE r.period_start_time >= date_sub(:day, 15)
    AND r.period_start_time < date_add(:day, 2)
  GROUP BY r.workspace_id, r.job_id, r.run_id
),
run_hints AS (
  SELECT
    workspace_id,
    job_id,
    avg(duration_seconds) FILTER (WHERE to_date(start_time) = :day) AS avg_duration_seconds,
    avg(duration_seconds) FILTER (
      WHERE to_date(start_time) >= date_sub(:day, 14) AND to_date(start_time) < :day
    ) AS baseline_avg_duration_seconds,
    count_if(to_date(end_time) = :day AND terminal_rows > 1) AS repaired_runs,
    count_if(to_date(end_time) = :day AND state IN ('ERROR', 'FAILED', 'TIMED_OUT'))
      AS failed_runs
  FROM runs
  GROUP BY workspace_id, job_id
),
jobs AS (
  SELECT workspace_id, job_id, name, tags, run_as_user_name, creator_user_name
  FROM system.lakeflow.jobs
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
),
billed_as AS (
  -- The owner's last resort: who the job's latest usage ran as (the jobs table's user
  -- columns are empty in rows written before December 2025).
  SELECT x.workspace_id, x.job_id, max_by(x.run_as, x.usage_end_time) AS run_as
  FROM priced AS x
  JOIN today AS t ON t.workspace_id = x.workspace_id AND t.job_id = x.job_id
  WHERE x.run_as IS NOT NULL
  GROUP BY x.workspace_id, x.job_id
)
SELECT
  t.workspace_id,
  t.job_id,
  j.name,
  coalesce(j.tags['owner'], j.run_as_user_name, j.creator_user_name, o.run_as) AS owner,
  t.cost,
  b.baseline_median,
  m.baseline_mad,
  b.weekday_median,
  greatest(b.baseline_median, b.weekday_median) AS expected_cost,
  try_divide(
    CAST(t.cost AS DOUBLE) - greatest(b.baseline_median, b.weekday_median),
    1.4826 * m.baseline_mad
  ) AS robust_z,
  b.baseline_days_with_cost,
  t.runs,
  b.baseline_runs,
  h.avg_duration_seconds,
  h.baseline_avg_duration_seconds,
  coalesce(f.new_skus, '') AS new_skus,
  coalesce(f.new_node_types, '') AS new_node_types,
  coalesce(h.repaired_runs, 0) AS repaired_runs,
  coalesce(h.failed_runs, 0) AS failed_runs
FROM today AS t
JOIN base AS b ON b.workspace_id = t.workspace_id AND b.job_id = t.job_id
JOIN mad AS m ON m.workspace_id = t.workspace_id AND m.job_id = t.job_id
LEFT JOIN first_seen AS f ON f.workspace_id = t.workspace_id AND f.job_id = t.job_id
LEFT JOIN run_hints AS h ON h.workspace_id = t.workspace_id AND h.job_id = t.job_id
LEFT JOIN jobs AS j ON j.workspace_id = t.workspace_id AND j.job_id = t.job_id
LEFT JOIN billed_as AS o ON o.workspace_id = t.workspace_id AND o.job_id = t.job_id
WHERE CAST(t.cost AS DOUBLE) > greatest(b.baseline_median, b.weekday_median)
ORDER BY CAST(t.cost AS DOUBLE) - greatest(b.baseline_median, b.weekday_median) DESC,
  t.workspace_id, t.job_id
