-- cost_anomaly_candidates: Jobs whose cost on :day is above their own robust baseline.
-- Daily cost per job (usage_date, list price, retractions net out) vs the previous 14 days,
-- zero-filled (a day without usage costs 0). Same-weekday aware: expected_cost is the larger
-- of the 14-day median and the median of the same weekday in the previous 4 weeks, so a
-- weekly job is compared with its own weekday rather than with six empty days. MAD is the
-- median absolute deviation from the 14-day median. The score is the one the bot alerts on
-- (bot.monitors.cost.robust_z, with its default floors):
--   robust_z = (cost - expected_cost) / (1.4826 * greatest(MAD, 0.10 * expected_cost, 0.01))
-- the floors keep a job that costs the same every day (MAD 0) from scoring infinity.
-- Only jobs with cost > expected_cost (and robust_z >= :min_z when given) are returned; the
-- monitor applies sensitivity, feedback and minimum amounts. Cause hints compare :day with
-- the baseline: runs (billed job_run_ids), average run duration (timeline slices, by start
-- date), SKUs and node types not seen in the previous 28 days, and repaired/failed runs
-- (repairs also as the median per day of the previous 14 days, zero-filled, like runs).
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :day DATE  the UTC day to check
--   :min_z DOUBLE?  only jobs scoring at least this (the lowest alert threshold); NULL = all
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
--   robust_z DOUBLE  the alert score (see above)
--   baseline_days_with_cost INT  of the previous 14 days (0 = a new job)
--   runs INT  billed runs on :day
--   baseline_runs DOUBLE  median daily billed runs, previous 14 days
--   avg_duration_seconds DOUBLE  runs started on :day
--   baseline_avg_duration_seconds DOUBLE  runs started in the previous 14 days
--   new_skus STRING  comma-separated, empty if none
--   new_node_types STRING  comma-separated, empty if none
--   repaired_runs INT  runs ending on :day with more than one terminal row
--   failed_runs INT  runs ending on :day in ERROR, FAILED or TIMED_OUT
--   baseline_repaired_runs DOUBLE  median daily repaired runs (by end day), previous 14 days
WITH usage_daily AS (
  -- Every job's usage per day and unit price, over the 28 days and :day.
  SELECT
    u.workspace_id,
    u.usage_metadata.job_id AS job_id,
    u.usage_date,
    p.pricing.effective_list.default AS unit_price,
    sum(u.usage_quantity) AS usage_quantity
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
  GROUP BY u.workspace_id, u.usage_metadata.job_id, u.usage_date, p.pricing.effective_list.default
),
today AS (
  -- The day's cost, exact: quantities summed per unit price and multiplied once per price (a
  -- per-row decimal product is what made the cost queries slow: DuckDB narrows a
  -- DECIMAL(38,18) in 128-bit arithmetic). DECIMAL(25,10) x DECIMAL(12,8) is DECIMAL(38,18)
  -- on Databricks (wider inputs exceed 38 digits and Spark rounds the product to 6 decimals)
  -- and DECIMAL(37,18) in DuckDB; under ANSI mode a bigger value is an error.
  SELECT
    workspace_id,
    job_id,
    sum(CAST(usage_quantity AS DECIMAL(25, 10)) * CAST(unit_price AS DECIMAL(12, 8))) AS cost
  FROM usage_daily
  WHERE usage_date = :day
  GROUP BY workspace_id, job_id
  HAVING sum(CAST(usage_quantity AS DECIMAL(25, 10)) * CAST(unit_price AS DECIMAL(12, 8))) > 0
),
daily AS (
  -- The baseline is a statistic: its daily costs are DOUBLEs (an exact DECIMAL product per
  -- job and day is the slowest step this query could have).
  SELECT
    workspace_id,
    job_id,
    datediff(:day, usage_date) AS n,
    sum(CAST(usage_quantity AS DOUBLE) * CAST(unit_price AS DOUBLE)) AS cost
  FROM usage_daily
  WHERE usage_date < :day
  GROUP BY workspace_id, job_id, usage_date
),
filled AS (
  -- The days the baselines read (1-14 back, and 21 and 28 back for the weekday median) for
  -- each job with cost today; a day without usage costs 0.
  SELECT t.workspace_id, t.job_id, o.n, coalesce(d.cost, 0.0) AS cost
  FROM today AS t
  CROSS JOIN (SELECT explode(array(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 21, 28)) AS n) AS o
  LEFT JOIN daily AS d
    ON d.workspace_id = t.workspace_id AND d.job_id = t.job_id AND d.n = o.n
),
base AS (
  SELECT
    workspace_id,
    job_id,
    percentile(cost, 0.5) FILTER (WHERE n <= 14) AS baseline_median,
    percentile(cost, 0.5) FILTER (WHERE n % 7 = 0) AS weekday_median,
    count_if(n <= 14 AND cost > 0) AS baseline_days_with_cost
  FROM filled
  GROUP BY workspace_id, job_id
),
scored AS (
  SELECT
    t.workspace_id,
    t.job_id,
    t.cost,
    b.baseline_median,
    m.baseline_mad,
    b.weekday_median,
    greatest(b.baseline_median, b.weekday_median) AS expected_cost,
    b.baseline_days_with_cost
  FROM today AS t
  JOIN base AS b ON b.workspace_id = t.workspace_id AND b.job_id = t.job_id
  JOIN (
    SELECT f.workspace_id, f.job_id, percentile(abs(f.cost - b.baseline_median), 0.5) AS baseline_mad
    FROM filled AS f
    JOIN base AS b ON b.workspace_id = f.workspace_id AND b.job_id = f.job_id
    WHERE f.n <= 14
    GROUP BY f.workspace_id, f.job_id
  ) AS m ON m.workspace_id = t.workspace_id AND m.job_id = t.job_id
),
candidates AS (
  -- robust_z exactly as bot.monitors.cost.robust_z computes it from cost, expected_cost and
  -- baseline_mad (tests/warehouse/test_wh_anomaly_waste.py holds the two to one number).
  SELECT
    s.*,
    (CAST(s.cost AS DOUBLE) - s.expected_cost)
      / (1.4826 * greatest(s.baseline_mad, 0.1 * greatest(s.expected_cost, 0.0), 0.01)) AS robust_z
  FROM scored AS s
  -- Above by more than a millionth: the baseline's DOUBLE sums may differ from the exact cost
  -- in the last bit, and a job costing what it always costs is not above its baseline.
  WHERE CAST(s.cost AS DOUBLE) > s.expected_cost + 0.000001
),
chosen AS (
  -- Everything below is a cause hint or a label, worked out for the chosen jobs only (most
  -- jobs are a little above their median on any day; few score anywhere near an alert).
  SELECT * FROM candidates WHERE :min_z IS NULL OR robust_z >= :min_z
),
chosen_usage AS (
  -- The chosen jobs' priced usage rows again, with what the hints need: a second scan of the
  -- chosen jobs is cheaper than carrying every job's run ids, SKUs and node types above.
  SELECT
    u.workspace_id,
    u.usage_metadata.job_id AS job_id,
    u.usage_metadata.job_run_id AS job_run_id,
    u.usage_metadata.node_type AS node_type,
    u.sku_name,
    u.usage_date,
    u.usage_end_time,
    u.identity_metadata.run_as AS run_as
  FROM system.billing.usage AS u
  JOIN chosen AS c ON c.workspace_id = u.workspace_id AND c.job_id = u.usage_metadata.job_id
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
run_counts AS (
  SELECT workspace_id, job_id, datediff(:day, usage_date) AS n, count(DISTINCT job_run_id) AS runs
  FROM chosen_usage
  WHERE usage_date >= date_sub(:day, 14)
  GROUP BY workspace_id, job_id, usage_date
),
run_base AS (
  SELECT
    c.workspace_id,
    c.job_id,
    max(r.runs) FILTER (WHERE o.n = 0) AS runs,
    percentile(coalesce(r.runs, 0), 0.5) FILTER (WHERE o.n > 0) AS baseline_runs
  FROM chosen AS c
  CROSS JOIN (SELECT explode(sequence(0, 14)) AS n) AS o
  LEFT JOIN run_counts AS r
    ON r.workspace_id = c.workspace_id AND r.job_id = c.job_id AND r.n = o.n
  GROUP BY c.workspace_id, c.job_id
),
items AS (
  -- Per job, SKU and node type: the first day billed in the 28 days, and who the latest
  -- usage ran as (grouped, not windowed: a window over every priced row was slow).
  SELECT
    x.workspace_id,
    x.job_id,
    x.sku_name,
    x.node_type,
    min(x.usage_date) AS first_day,
    max(x.usage_end_time) FILTER (WHERE x.run_as IS NOT NULL) AS run_as_end_time,
    max_by(x.run_as, x.usage_end_time) FILTER (WHERE x.run_as IS NOT NULL) AS run_as
  FROM chosen_usage AS x
  GROUP BY x.workspace_id, x.job_id, x.sku_name, x.node_type
),
first_seen AS (
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
    SELECT workspace_id, job_id, 'sku' AS kind, sku_name AS item, min(first_day) AS first_day
    FROM items
    GROUP BY workspace_id, job_id, sku_name
    UNION ALL
    SELECT workspace_id, job_id, 'node' AS kind, node_type AS item, min(first_day) AS first_day
    FROM items
    GROUP BY workspace_id, job_id, node_type
  ) AS f
  GROUP BY f.workspace_id, f.job_id
),
billed_as AS (
  -- The owner's last resort: who the job's latest usage ran as (the jobs table's user
  -- columns are empty in rows written before December 2025).
  SELECT workspace_id, job_id, max_by(run_as, run_as_end_time) AS run_as
  FROM items
  WHERE run_as IS NOT NULL
  GROUP BY workspace_id, job_id
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
  JOIN chosen AS c ON c.workspace_id = r.workspace_id AND c.job_id = r.job_id
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
repair_days AS (
  SELECT workspace_id, job_id, datediff(:day, to_date(end_time)) AS n, count(*) AS repairs
  FROM runs
  WHERE terminal_rows > 1
    AND to_date(end_time) >= date_sub(:day, 14)
    AND to_date(end_time) < :day
  GROUP BY workspace_id, job_id, to_date(end_time)
),
repair_base AS (
  SELECT
    c.workspace_id,
    c.job_id,
    percentile(coalesce(r.repairs, 0), 0.5) AS baseline_repaired_runs
  FROM chosen AS c
  CROSS JOIN (SELECT explode(sequence(1, 14)) AS n) AS o
  LEFT JOIN repair_days AS r
    ON r.workspace_id = c.workspace_id AND r.job_id = c.job_id AND r.n = o.n
  GROUP BY c.workspace_id, c.job_id
),
jobs AS (
  SELECT j.workspace_id, j.job_id, j.name, j.tags, j.run_as_user_name, j.creator_user_name
  FROM system.lakeflow.jobs AS j
  JOIN chosen AS c ON c.workspace_id = j.workspace_id AND c.job_id = j.job_id
  QUALIFY row_number() OVER (PARTITION BY j.workspace_id, j.job_id ORDER BY j.change_time DESC) = 1
)
SELECT
  c.workspace_id,
  c.job_id,
  j.name,
  coalesce(j.tags['owner'], j.run_as_user_name, j.creator_user_name, o.run_as) AS owner,
  c.cost,
  c.baseline_median,
  c.baseline_mad,
  c.weekday_median,
  c.expected_cost,
  c.robust_z,
  c.baseline_days_with_cost,
  r.runs,
  r.baseline_runs,
  h.avg_duration_seconds,
  h.baseline_avg_duration_seconds,
  coalesce(f.new_skus, '') AS new_skus,
  coalesce(f.new_node_types, '') AS new_node_types,
  coalesce(h.repaired_runs, 0) AS repaired_runs,
  coalesce(h.failed_runs, 0) AS failed_runs,
  p.baseline_repaired_runs
FROM chosen AS c
JOIN run_base AS r ON r.workspace_id = c.workspace_id AND r.job_id = c.job_id
JOIN repair_base AS p ON p.workspace_id = c.workspace_id AND p.job_id = c.job_id
LEFT JOIN first_seen AS f ON f.workspace_id = c.workspace_id AND f.job_id = c.job_id
LEFT JOIN run_hints AS h ON h.workspace_id = c.workspace_id AND h.job_id = c.job_id
LEFT JOIN jobs AS j ON j.workspace_id = c.workspace_id AND j.job_id = c.job_id
LEFT JOIN billed_as AS o ON o.workspace_id = c.workspace_id AND o.job_id = c.job_id
ORDER BY CAST(c.cost AS DOUBLE) - c.expected_cost DESC, c.workspace_id, c.job_id
