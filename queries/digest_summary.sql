-- digest_summary: One UTC day in numbers: runs, success rate, failures, cost vs 7-day average.
-- Runs are counted on the day they ended (final state from the last terminal row that day).
-- Cost is by usage_date at list price (retractions net out); the average covers the 7 days
-- before :day. Billing lags, so a day just ended may look cheap.
-- Params:
--   :day DATE  the UTC day
-- Columns:
--   runs INT  runs that finished on :day
--   successes INT
--   failures INT  ERROR, FAILED or TIMED_OUT
--   success_rate DOUBLE  0..1; NULL without runs
--   failed_jobs INT  distinct jobs with a failed run
--   cost DECIMAL  cost on :day
--   avg_cost_7d DECIMAL  average daily cost of the 7 days before
--   change_pct DOUBLE  cost vs avg_cost_7d; NULL when the average is 0
WITH finals AS (
  SELECT workspace_id, job_id, run_id, result_state
  FROM system.lakeflow.job_run_timeline
  WHERE result_state IS NOT NULL
    AND period_end_time >= to_timestamp(:day)
    AND period_end_time < to_timestamp(date_add(:day, 1))
  QUALIFY row_number() OVER (
    PARTITION BY workspace_id, job_id, run_id ORDER BY period_end_time DESC
  ) = 1
),
run_stats AS (
  SELECT
    count(*) AS runs,
    count_if(result_state = 'SUCCEEDED') AS successes,
    count_if(result_state IN ('ERROR', 'FAILED', 'TIMED_OUT')) AS failures,
    count(DISTINCT CASE
      WHEN result_state IN ('ERROR', 'FAILED', 'TIMED_OUT') THEN concat(workspace_id, '/', job_id)
    END) AS failed_jobs
  FROM finals
),
cost_stats AS (
  SELECT
    coalesce(sum(cost) FILTER (WHERE u_date = :day), 0) AS cost,
    coalesce(sum(cost) FILTER (WHERE u_date < :day), 0) / 7 AS avg_cost_7d
  FROM (
    SELECT
      u.usage_date AS u_date,
      -- Narrow the scales first: DECIMAL(38,18) x DECIMAL(38,18) overflows in DuckDB, and
      -- Databricks rounds the product to 6 decimals anyway.
      CAST(u.usage_quantity AS DECIMAL(38, 10)) * CAST(p.pricing.effective_list.default AS DECIMAL(38, 8)) AS cost
    FROM system.billing.usage AS u
    JOIN system.billing.list_prices AS p
      ON u.cloud = p.cloud
      AND u.sku_name = p.sku_name
      AND u.usage_start_time >= p.price_start_time
      AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)
    WHERE u.usage_date >= date_sub(:day, 7) AND u.usage_date <= :day
  )
)
SELECT
  r.runs,
  r.successes,
  r.failures,
  try_divide(r.successes, r.runs) AS success_rate,
  r.failed_jobs,
  c.cost,
  c.avg_cost_7d,
  try_divide(CAST(c.cost - c.avg_cost_7d AS DOUBLE), CAST(c.avg_cost_7d AS DOUBLE)) * 100
    AS change_pct
FROM run_stats AS r
CROSS JOIN cost_stats AS c
