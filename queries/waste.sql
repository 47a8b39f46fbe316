-- waste: Money spent on failures, retries, jobs on all-purpose compute and idle clusters.
-- Window [:since, :until) on usage_start_time / slice start. One row per item, kind says which:
--   failed_runs: cost of runs (by job_run_id) whose final state is ERROR/FAILED/TIMED_OUT.
--   retried_attempts: for repaired runs that finally did not fail, the cost of the usage
--     hours that started before the previous attempt's terminal row (the attempts redone).
--   all_purpose_job: jobs whose tasks ran on all-purpose clusters (cluster_source UI/API).
--     Billing has no job ids for them, so each cluster's cost in the window is apportioned:
--     cost x least(1, the job's task-run seconds on it / the cluster's billed seconds), rounded
--     to 6 decimals.
--   idle_cluster: clusters whose nodes averaged under :idle_cpu_percent CPU (user + system)
--     in node_timeline, with the cluster's whole cost in the window.
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :since TIMESTAMP  window start (UTC)
--   :until TIMESTAMP  window end, exclusive
--   :idle_cpu_percent DOUBLE  a cluster averaging under this CPU % is idle (config cost.idle_cpu_percent)
-- Columns:
--   kind STRING  failed_runs, retried_attempts, all_purpose_job or idle_cluster
--   workspace_id STRING
--   job_id STRING  NULL for idle_cluster
--   cluster_id STRING  NULL for run kinds; the cluster for all_purpose_job / idle_cluster
--   label STRING  job name or cluster name
--   cost DECIMAL
--   runs INT  failed or repaired runs; NULL for cluster kinds
--   hours DOUBLE  task hours (all_purpose_job) or node hours (idle_cluster)
--   avg_cpu_percent DOUBLE  idle_cluster only
WITH priced AS (
  -- No cost per row here: the quantities are summed per item and unit price first, and
  -- multiplied once per price (a per-row decimal product is what made this query slow:
  -- DuckDB narrows a DECIMAL(38,18) in 128-bit arithmetic).
  SELECT
    u.workspace_id,
    u.usage_metadata.job_id AS job_id,
    u.usage_metadata.job_run_id AS job_run_id,
    u.usage_metadata.cluster_id AS cluster_id,
    u.usage_start_time,
    u.usage_end_time,
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
  WHERE u.usage_date >= to_date(:since)
    AND u.usage_date <= to_date(:until)
    AND u.usage_start_time >= :since
    AND u.usage_start_time < :until
),
terminal AS (
  SELECT workspace_id, job_id, run_id, period_end_time, result_state
  FROM system.lakeflow.job_run_timeline
  WHERE result_state IS NOT NULL
    AND period_end_time >= :since
    AND period_end_time < :until + INTERVAL 7 DAYS
),
outcomes AS (
  -- Only the runs that waste something: failed in the end, or repaired (more than one
  -- terminal row). Grouped, not windowed: a window over every terminal row was slow.
  SELECT
    workspace_id,
    job_id,
    run_id,
    max_by(result_state, period_end_time) IN ('ERROR', 'FAILED', 'TIMED_OUT') AS failed,
    count(*) AS terminal_rows,
    max(period_end_time) AS last_end_time
  FROM terminal
  GROUP BY workspace_id, job_id, run_id
  HAVING max_by(result_state, period_end_time) IN ('ERROR', 'FAILED', 'TIMED_OUT')
    OR count(*) > 1
),
redo AS (
  -- A repaired run redid what ran before its previous attempt's terminal row.
  SELECT t.workspace_id, t.job_id, t.run_id, max(t.period_end_time) AS redo_cutoff_time
  FROM terminal AS t
  JOIN outcomes AS o
    ON o.workspace_id = t.workspace_id AND o.job_id = t.job_id AND o.run_id = t.run_id
  WHERE o.terminal_rows > 1 AND t.period_end_time < o.last_end_time
  GROUP BY t.workspace_id, t.job_id, t.run_id
),
run_cost AS (
  -- Exact on both engines: DECIMAL(25,10) x DECIMAL(12,8) is DECIMAL(38,18) on Databricks
  -- (wider inputs exceed 38 digits and Spark rounds the product to 6 decimals) and
  -- DECIMAL(37,18) in DuckDB; under ANSI mode a bigger value is an error, never a wrong sum.
  SELECT
    pr.workspace_id,
    pr.job_id,
    pr.job_run_id,
    o.failed,
    coalesce(pr.usage_start_time < r.redo_cutoff_time, false) AS redone,
    CAST(sum(pr.usage_quantity) AS DECIMAL(25, 10)) * CAST(pr.unit_price AS DECIMAL(12, 8)) AS cost
  FROM priced AS pr
  JOIN outcomes AS o
    ON o.workspace_id = pr.workspace_id AND o.job_id = pr.job_id AND o.run_id = pr.job_run_id
  LEFT JOIN redo AS r
    ON r.workspace_id = pr.workspace_id AND r.job_id = pr.job_id AND r.run_id = pr.job_run_id
  GROUP BY pr.workspace_id, pr.job_id, pr.job_run_id, o.failed,
    coalesce(pr.usage_start_time < r.redo_cutoff_time, false), pr.unit_price
),
runs_part AS (
  SELECT
    'failed_runs' AS kind, workspace_id, job_id, CAST(NULL AS STRING) AS cluster_id,
    sum(cost) AS cost, count(DISTINCT job_run_id) AS runs,
    CAST(NULL AS DOUBLE) AS hours, CAST(NULL AS DOUBLE) AS avg_cpu_percent
  FROM run_cost
  WHERE failed
  GROUP BY workspace_id, job_id
  UNION ALL
  SELECT
    'retried_attempts', workspace_id, job_id, CAST(NULL AS STRING),
    sum(cost), count(DISTINCT job_run_id), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE)
  FROM run_cost
  WHERE NOT failed AND redone
  GROUP BY workspace_id, job_id
),
nodes AS (
  SELECT workspace_id, cluster_id,
    avg(coalesce(cpu_user_percent, 0) + coalesce(cpu_system_percent, 0)) AS avg_cpu_percent,
    CAST(sum(end_time - start_time) AS LONG) AS node_seconds
  FROM system.compute.node_timeline
  WHERE start_time >= :since AND start_time < :until
  GROUP BY workspace_id, cluster_id
),
idle AS (
  SELECT * FROM nodes WHERE avg_cpu_percent < :idle_cpu_percent
),
cluster_rows AS (
  -- The rows of the clusters this answer names: the all-purpose ones, and the idle ones of
  -- any kind. Filtered before the latest-row window, which over the whole table (a job
  -- cluster per run makes it large) was this query's slowest step; a cluster's source is
  -- fixed when it is created, so filtering on it first picks the same latest rows.
  SELECT workspace_id, cluster_id, cluster_name, cluster_source, change_time
  FROM system.compute.clusters
  WHERE change_time < :until AND cluster_source IN ('UI', 'API')
  UNION
  SELECT c.workspace_id, c.cluster_id, c.cluster_name, c.cluster_source, c.change_time
  FROM system.compute.clusters AS c
  JOIN idle AS i ON i.workspace_id = c.workspace_id AND i.cluster_id = c.cluster_id
  WHERE c.change_time < :until
),
clusters AS (
  SELECT workspace_id, cluster_id, cluster_name, cluster_source
  FROM cluster_rows
  QUALIFY row_number() OVER (PARTITION BY workspace_id, cluster_id ORDER BY change_time DESC) = 1
),
all_purpose AS (
  SELECT workspace_id, cluster_id FROM clusters WHERE cluster_source IN ('UI', 'API')
),
task_use AS (
  -- Task seconds per job on each all-purpose cluster; the exploded compute ids are narrowed to
  -- those clusters before grouping (nearly every other id is the job cluster of one run).
  SELECT t.workspace_id, t.job_id, t.cluster_id,
    CAST(sum(t.period_end_time - t.period_start_time) AS LONG) AS task_seconds
  FROM (
    SELECT workspace_id, job_id, period_start_time, period_end_time,
      explode(compute_ids) AS cluster_id
    FROM system.lakeflow.job_task_run_timeline
    WHERE period_start_time >= :since AND period_start_time < :until
  ) AS t
  JOIN all_purpose AS a ON a.workspace_id = t.workspace_id AND a.cluster_id = t.cluster_id
  GROUP BY t.workspace_id, t.job_id, t.cluster_id
),
costed_clusters AS (
  SELECT workspace_id, cluster_id FROM all_purpose
  UNION
  SELECT workspace_id, cluster_id FROM idle
),
cluster_cost AS (
  SELECT workspace_id, cluster_id, sum(cost) AS cost
  FROM (
    SELECT
      pr.workspace_id,
      pr.cluster_id,
      CAST(sum(pr.usage_quantity) AS DECIMAL(25, 10)) * CAST(pr.unit_price AS DECIMAL(12, 8))
        AS cost
    FROM priced AS pr
    JOIN costed_clusters AS k ON k.workspace_id = pr.workspace_id AND k.cluster_id = pr.cluster_id
    GROUP BY pr.workspace_id, pr.cluster_id, pr.unit_price
  )
  GROUP BY workspace_id, cluster_id
),
cluster_billed AS (
  SELECT workspace_id, cluster_id,
    CAST(sum(usage_end_time - usage_start_time) AS LONG) AS billed_seconds
  FROM (
    SELECT DISTINCT pr.workspace_id, pr.cluster_id, pr.usage_start_time, pr.usage_end_time
    FROM priced AS pr
    JOIN all_purpose AS a ON a.workspace_id = pr.workspace_id AND a.cluster_id = pr.cluster_id
    WHERE pr.job_id IS NULL
  )
  GROUP BY workspace_id, cluster_id
),
all_purpose_part AS (
  SELECT
    'all_purpose_job' AS kind, t.workspace_id, t.job_id, t.cluster_id,
    -- An apportioned estimate, rounded to 6 decimals and made a DECIMAL again: the share is a
    -- DOUBLE ratio, and a DOUBLE cost would turn the whole cost column (a UNION) into DOUBLE.
    CAST(
      round(CAST(coalesce(cc.cost, 0) AS DOUBLE)
        * least(1.0, try_divide(t.task_seconds, cb.billed_seconds)), 6)
      AS DECIMAL(38, 6)
    ) AS cost,
    CAST(NULL AS BIGINT) AS runs,
    t.task_seconds / 3600.0 AS hours,
    CAST(NULL AS DOUBLE) AS avg_cpu_percent
  FROM task_use AS t
  LEFT JOIN cluster_cost AS cc
    ON cc.workspace_id = t.workspace_id AND cc.cluster_id = t.cluster_id
  LEFT JOIN cluster_billed AS cb
    ON cb.workspace_id = t.workspace_id AND cb.cluster_id = t.cluster_id
),
idle_part AS (
  SELECT
    'idle_cluster' AS kind, n.workspace_id, CAST(NULL AS STRING) AS job_id, n.cluster_id,
    coalesce(cc.cost, 0) AS cost,
    CAST(NULL AS BIGINT) AS runs,
    n.node_seconds / 3600.0 AS hours,
    n.avg_cpu_percent
  FROM idle AS n
  LEFT JOIN cluster_cost AS cc
    ON cc.workspace_id = n.workspace_id AND cc.cluster_id = n.cluster_id
),
items AS (
  SELECT * FROM runs_part
  UNION ALL
  SELECT * FROM all_purpose_part
  UNION ALL
  SELECT * FROM idle_part
),
jobs AS (
  SELECT j.workspace_id, j.job_id, j.name
  FROM system.lakeflow.jobs AS j
  WHERE j.change_time < :until
  QUALIFY row_number() OVER (PARTITION BY j.workspace_id, j.job_id ORDER BY j.change_time DESC) = 1
)
SELECT
  i.kind,
  i.workspace_id,
  i.job_id,
  i.cluster_id,
  coalesce(j.name, c.cluster_name, i.job_id, i.cluster_id) AS label,
  i.cost,
  i.runs,
  i.hours,
  i.avg_cpu_percent
FROM items AS i
LEFT JOIN jobs AS j ON j.workspace_id = i.workspace_id AND j.job_id = i.job_id
LEFT JOIN clusters AS c ON c.workspace_id = i.workspace_id AND c.cluster_id = i.cluster_id
ORDER BY i.kind, i.cost DESC, i.workspace_id, i.job_id, i.cluster_id
