-- digest_summary: One UTC day in numbers: runs, success rate, failures, cost vs 7-day average.
-- Runs are counted on the day they ended (final state from the last terminal row that day).
-- The success rate is over decisive runs (SUCCEEDED or failed): CANCELLED, SKIPPED and
-- BLOCKED runs count in runs but are neither successes nor failures.
-- Only JOB_RUN rows count (NULL run_type read as JOB_RUN): SUBMIT_RUN rows are one-off
-- runs/submit calls with no saved job, WORKFLOW_RUN rows notebook-workflow children of a
-- run already counted.
-- Cost is by usage_date at list price (retractions net out); the average covers the 7 days
-- before :day. Billing lags, so a day just ended may look cheap.
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :day DATE  the UTC day
-- Columns:
--   runs INT  runs that finished on :day
--   successes INT
--   failures INT  ERROR, FAILED or TIMED_OUT
--   success_rate DOUBLE  successes / (successes + failures), 0..1; NULL without either
--   failed_jobs INT  distinct jobs with a failed run
--   cost DECIMAL  cost on :day
--   avg_cost_7d DOUBLE  average daily cost of the 7 days before (a mean, not a billed amount)
--   change_pct DOUBLE  cost vs avg_cost_7d; NULL when the average is 0
WITH finals AS (
  SELECT workspace_id, job_id, run_id, result_state
  FROM system.lakeflow.job_run_timeline
  WHERE result_state IS NOT NULL
    AND period_end_time >= to_timestamp(:day)
    AND period_end_time < to_timestamp(date_add(:day, 1))
    AND (run_type = 'JOB_RUN' OR run_type IS NULL)
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
    CAST(coalesce(sum(cost) FILTER (WHERE u_date < :day), 0) AS DOUBLE) / 7 AS avg_cost_7d
  FROM (
    SELECT
      u.usage_date AS u_date,
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
    WHERE u.usage_date >= date_sub(:day, 7) AND u.usage_date <= :day
  )
)
SELECT
  r.runs,
  r.successes,
  r.failures,
  try_divide(r.successes, r.successes + r.failures) AS success_rate,
  r.failed_jobs,
  c.cost,
  c.avg_cost_7d,
  try_divide(CAST(c.cost AS DOUBLE) - c.avg_cost_7d, c.avg_cost_7d) * 100
    AS change_pct
FROM run_stats AS r
CROSS JOIN cost_stats AS c
