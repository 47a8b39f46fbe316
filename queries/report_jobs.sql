-- report_jobs: Per job, runs and cost in [:since, :until) against the window [:prev_since, :since).
-- The daily digest asks for yesterday against the 7 days before it, the weekly report for last
-- week against the week before. A run counts in the window it ended in (its final state is the
-- last terminal row there); cost is by usage_start_time at the list price valid for each usage
-- window, all record types summed so retractions net out. baseline_cost is the previous
-- window's cost scaled to this window's length (7 days before one day: their daily average).
-- The ranks let a caller take a top N without sorting: by cost, by growth (cost above the
-- baseline, biggest rise first) and by movement (|cost - baseline|, up or down). Jobs with
-- neither a run nor cost in the two windows are absent, and so is usage without a job id.
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :since TIMESTAMP  window start (UTC)
--   :until TIMESTAMP  window end, exclusive
--   :prev_since TIMESTAMP  previous window start (it ends at :since)
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING  the job's latest name; NULL when the jobs table does not know it
--   tags_json STRING  the job's tags as a JSON object (for routing); NULL for an unknown job
--   runs INT  runs that ended in the window
--   successes INT
--   failures INT  ended in ERROR, FAILED or TIMED_OUT
--   last_failed_run_id STRING  the latest failed run in the window
--   cost DECIMAL  this window
--   prev_cost DECIMAL  previous window
--   baseline_cost DOUBLE  prev_cost scaled to this window's length
--   change_pct DOUBLE  (cost - baseline_cost) / baseline_cost * 100; NULL when the baseline is 0
--   cost_rank INT  1 = the most expensive this window
--   growth_rank INT  1 = the biggest rise over the baseline
--   mover_rank INT  1 = the biggest move either way
WITH jobs AS (
  SELECT workspace_id, job_id, name, tags
  FROM system.lakeflow.jobs
  WHERE change_time < :until
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
),
finals AS (
  SELECT workspace_id, job_id, run_id, result_state, period_end_time
  FROM system.lakeflow.job_run_timeline
  WHERE result_state IS NOT NULL
    AND period_end_time >= :since
    AND period_end_time < :until
  QUALIFY row_number() OVER (
    PARTITION BY workspace_id, job_id, run_id ORDER BY period_end_time DESC
  ) = 1
),
run_stats AS (
  SELECT
    workspace_id,
    job_id,
    count(*) AS runs,
    count_if(result_state = 'SUCCEEDED') AS successes,
    count_if(result_state IN ('ERROR', 'FAILED', 'TIMED_OUT')) AS failures,
    max_by(run_id, CASE WHEN result_state IN ('ERROR', 'FAILED', 'TIMED_OUT') THEN period_end_time END)
      AS last_failed_run_id
  FROM finals
  GROUP BY workspace_id, job_id
),
priced AS (
  SELECT
    u.workspace_id,
    u.usage_metadata.job_id AS job_id,
    u.usage_start_time >= :since AS current_window,
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
  WHERE u.usage_date >= to_date(:prev_since)
    AND u.usage_date <= to_date(:until)
    AND u.usage_start_time >= :prev_since
    AND u.usage_start_time < :until
    AND u.usage_metadata.job_id IS NOT NULL
),
cost_stats AS (
  SELECT
    workspace_id,
    job_id,
    coalesce(sum(cost) FILTER (WHERE current_window), 0) AS cost,
    coalesce(sum(cost) FILTER (WHERE NOT current_window), 0) AS prev_cost
  FROM priced
  GROUP BY workspace_id, job_id
),
keys AS (
  SELECT workspace_id, job_id FROM run_stats
  UNION
  SELECT workspace_id, job_id FROM cost_stats
),
joined AS (
  SELECT
    k.workspace_id,
    k.job_id,
    j.name,
    j.tags,
    coalesce(r.runs, 0) AS runs,
    coalesce(r.successes, 0) AS successes,
    coalesce(r.failures, 0) AS failures,
    r.last_failed_run_id,
    coalesce(c.cost, 0) AS cost,
    coalesce(c.prev_cost, 0) AS prev_cost,
    CAST(coalesce(c.prev_cost, 0) AS DOUBLE)
      * timestampdiff(SECOND, :since, :until) / timestampdiff(SECOND, :prev_since, :since)
      AS baseline_cost
  FROM keys AS k
  LEFT JOIN run_stats AS r ON r.workspace_id = k.workspace_id AND r.job_id = k.job_id
  LEFT JOIN cost_stats AS c ON c.workspace_id = k.workspace_id AND c.job_id = k.job_id
  LEFT JOIN jobs AS j ON j.workspace_id = k.workspace_id AND j.job_id = k.job_id
)
SELECT
  workspace_id,
  job_id,
  name,
  to_json(tags) AS tags_json,
  runs,
  successes,
  failures,
  last_failed_run_id,
  cost,
  prev_cost,
  baseline_cost,
  try_divide(CAST(cost AS DOUBLE) - baseline_cost, baseline_cost) * 100 AS change_pct,
  row_number() OVER (ORDER BY cost DESC, workspace_id, job_id) AS cost_rank,
  row_number() OVER (ORDER BY CAST(cost AS DOUBLE) - baseline_cost DESC, workspace_id, job_id)
    AS growth_rank,
  row_number() OVER (ORDER BY abs(CAST(cost AS DOUBLE) - baseline_cost) DESC, workspace_id, job_id)
    AS mover_rank
FROM joined
ORDER BY cost_rank
