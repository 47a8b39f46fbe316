-- cost_scope_anomaly_candidates: Workspaces or SKUs whose spend on :day is above their own robust baseline.
-- The job scope's rules (cost_anomaly_candidates.sql) one level up. :scope = 'workspace': a
-- workspace's whole priced spend (every usage row, job or not: all-purpose clusters, SQL
-- warehouses and storage count, as in /jobs cost by workspace); :scope = 'sku': a SKU's spend
-- across the account. Daily cost on the UTC usage_date (so far, for today), list price,
-- retractions net out, vs the previous 14 days zero-filled (a day without usage costs 0).
-- Same-weekday aware: expected_cost is the larger of the 14-day median and the median of the
-- same weekday 7, 14, 21 and 28 days back. MAD is the median absolute deviation from the
-- 14-day median. The score is the one the bot alerts on (bot.monitors.cost.robust_z):
--   robust_z = (cost - expected_cost) / (1.4826 * greatest(MAD, 0.10 * expected_cost, 0.01))
-- Only subjects with cost > expected_cost (and robust_z >= :min_z when given) are returned;
-- the monitor applies sensitivity, feedback and the minimum amount. Hints for the chosen ones:
-- distinct billed jobs and job runs on :day vs their 14-day medians, SKUs first billed in the
-- previous 28 days on :day (for a workspace: new to it; for a SKU: the SKU itself when new to
-- the account), and workspaces billing the SKU for the first time (SKU scope only).
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :day DATE  the UTC day to check
--   :scope STRING  workspace or sku (anything else returns no rows)
--   :min_z DOUBLE?  only subjects scoring at least this (the lowest alert threshold); NULL = all
-- Columns:
--   scope STRING  :scope
--   subject STRING  the workspace_id, or the sku_name
--   cost DECIMAL  cost on :day
--   baseline_median DOUBLE  median daily cost, previous 14 days
--   baseline_mad DOUBLE
--   weekday_median DOUBLE  median cost on the same weekday, previous 4 weeks
--   expected_cost DOUBLE  greatest(baseline_median, weekday_median)
--   robust_z DOUBLE  the alert score (see above)
--   baseline_days_with_cost INT  of the previous 14 days (0 = new)
--   jobs INT  distinct jobs billed on :day
--   baseline_jobs DOUBLE  median daily distinct jobs billed, previous 14 days
--   runs INT  distinct job runs billed on :day
--   baseline_runs DOUBLE  median daily distinct job runs billed, previous 14 days
--   new_skus STRING  comma-separated, empty if none
--   new_workspaces STRING  comma-separated (SKU scope), empty if none
WITH priced AS (
  SELECT
    CASE :scope WHEN 'workspace' THEN u.workspace_id WHEN 'sku' THEN u.sku_name END AS subject,
    u.workspace_id,
    u.sku_name,
    u.usage_metadata.job_id AS job_id,
    u.usage_metadata.job_run_id AS job_run_id,
    u.usage_date,
    p.pricing.effective_list.default AS unit_price,
    u.usage_quantity
  FROM system.billing.usage AS u
  JOIN system.billing.list_prices AS p
    ON u.cloud = p.cloud
    AND u.sku_name = p.sku_name
    AND u.usage_unit = p.usage_unit
    AND p.currency_code = 'USD'
    AND u.usage_start_time >= p.price_start_time
    AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
  WHERE u.usage_date >= date_sub(:day, 28)
    AND u.usage_date <= :day
    AND :scope IN ('workspace', 'sku')
),
usage_daily AS (
  SELECT subject, usage_date, unit_price, sum(usage_quantity) AS usage_quantity
  FROM priced
  WHERE subject IS NOT NULL
  GROUP BY subject, usage_date, unit_price
),
today AS (
  -- Exact, summed per unit price and multiplied once per price (see cost_anomaly_candidates).
  SELECT
    subject,
    sum(CAST(usage_quantity AS DECIMAL(25, 10)) * CAST(unit_price AS DECIMAL(12, 8))) AS cost
  FROM usage_daily
  WHERE usage_date = :day
  GROUP BY subject
  HAVING sum(CAST(usage_quantity AS DECIMAL(25, 10)) * CAST(unit_price AS DECIMAL(12, 8))) > 0
),
daily AS (
  SELECT
    subject,
    datediff(:day, usage_date) AS n,
    sum(CAST(usage_quantity AS DOUBLE) * CAST(unit_price AS DOUBLE)) AS cost
  FROM usage_daily
  WHERE usage_date < :day
  GROUP BY subject, usage_date
),
filled AS (
  SELECT t.subject, o.n, coalesce(d.cost, 0.0) AS cost
  FROM today AS t
  CROSS JOIN (SELECT explode(array(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 21, 28)) AS n) AS o
  LEFT JOIN daily AS d ON d.subject = t.subject AND d.n = o.n
),
base AS (
  SELECT
    subject,
    percentile(cost, 0.5) FILTER (WHERE n <= 14) AS baseline_median,
    percentile(cost, 0.5) FILTER (WHERE n % 7 = 0) AS weekday_median,
    count_if(n <= 14 AND cost > 0) AS baseline_days_with_cost
  FROM filled
  GROUP BY subject
),
scored AS (
  SELECT
    t.subject,
    t.cost,
    b.baseline_median,
    m.baseline_mad,
    b.weekday_median,
    greatest(b.baseline_median, b.weekday_median) AS expected_cost,
    b.baseline_days_with_cost
  FROM today AS t
  JOIN base AS b ON b.subject = t.subject
  JOIN (
    SELECT f.subject, percentile(abs(f.cost - b.baseline_median), 0.5) AS baseline_mad
    FROM filled AS f
    JOIN base AS b ON b.subject = f.subject
    WHERE f.n <= 14
    GROUP BY f.subject
  ) AS m ON m.subject = t.subject
),
candidates AS (
  SELECT
    s.*,
    (CAST(s.cost AS DOUBLE) - s.expected_cost)
      / (1.4826 * greatest(s.baseline_mad, 0.1 * greatest(s.expected_cost, 0.0), 0.01)) AS robust_z
  FROM scored AS s
  WHERE CAST(s.cost AS DOUBLE) > s.expected_cost + 0.000001
),
chosen AS (
  SELECT * FROM candidates WHERE :min_z IS NULL OR robust_z >= :min_z
),
chosen_usage AS (
  SELECT pr.subject, pr.workspace_id, pr.sku_name, pr.job_id, pr.job_run_id, pr.usage_date
  FROM priced AS pr
  JOIN chosen AS c ON c.subject = pr.subject
),
counts AS (
  SELECT
    subject,
    datediff(:day, usage_date) AS n,
    count(DISTINCT CASE WHEN job_id IS NOT NULL THEN concat(workspace_id, '/', job_id) END)
      AS jobs,
    count(DISTINCT CASE WHEN job_run_id IS NOT NULL THEN concat(workspace_id, '/', job_run_id) END)
      AS runs
  FROM chosen_usage
  WHERE usage_date >= date_sub(:day, 14)
  GROUP BY subject, usage_date
),
count_base AS (
  SELECT
    c.subject,
    coalesce(max(k.jobs) FILTER (WHERE o.n = 0), 0) AS jobs,
    percentile(coalesce(k.jobs, 0), 0.5) FILTER (WHERE o.n > 0) AS baseline_jobs,
    coalesce(max(k.runs) FILTER (WHERE o.n = 0), 0) AS runs,
    percentile(coalesce(k.runs, 0), 0.5) FILTER (WHERE o.n > 0) AS baseline_runs
  FROM chosen AS c
  CROSS JOIN (SELECT explode(sequence(0, 14)) AS n) AS o
  LEFT JOIN counts AS k ON k.subject = c.subject AND k.n = o.n
  GROUP BY c.subject
),
firsts AS (
  -- The first day in the 28 days each SKU and each workspace was billed, per subject.
  SELECT subject, 'sku' AS kind, sku_name AS item, min(usage_date) AS first_day
  FROM chosen_usage
  GROUP BY subject, sku_name
  UNION ALL
  SELECT subject, 'workspace' AS kind, workspace_id AS item, min(usage_date) AS first_day
  FROM chosen_usage
  GROUP BY subject, workspace_id
),
first_seen AS (
  SELECT
    subject,
    concat_ws(', ', array_sort(collect_set(
      CASE WHEN kind = 'sku' AND first_day = :day THEN item END
    ))) AS new_skus,
    concat_ws(', ', array_sort(collect_set(
      CASE WHEN kind = 'workspace' AND first_day = :day AND :scope = 'sku' THEN item END
    ))) AS new_workspaces
  FROM firsts
  GROUP BY subject
)
SELECT
  CAST(:scope AS STRING) AS scope,
  c.subject,
  c.cost,
  c.baseline_median,
  c.baseline_mad,
  c.weekday_median,
  c.expected_cost,
  c.robust_z,
  c.baseline_days_with_cost,
  k.jobs,
  k.baseline_jobs,
  k.runs,
  k.baseline_runs,
  coalesce(f.new_skus, '') AS new_skus,
  coalesce(f.new_workspaces, '') AS new_workspaces
FROM chosen AS c
JOIN count_base AS k ON k.subject = c.subject
LEFT JOIN first_seen AS f ON f.subject = c.subject
ORDER BY CAST(c.cost AS DOUBLE) - c.expected_cost DESC, c.subject
