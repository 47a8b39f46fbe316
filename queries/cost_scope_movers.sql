-- cost_scope_movers: What moved a workspace's or a SKU's cost on :day: its jobs, and its SKUs or workspaces.
-- For one subject of cost_scope_anomaly_candidates (:scope = 'workspace' and :subject its
-- workspace_id, or :scope = 'sku' and :subject its sku_name), the parts that cost more on
-- :day than usual, by the same baseline as the subject's (daily cost on the UTC usage_date,
-- list price, zero-filled over the previous 14 days; expected = greatest(14-day median,
-- median of the same weekday 7/14/21/28 days back)). Two kinds of part:
--   job        a job (workspace_id, job_id); usage without a job id (all-purpose clusters,
--              SQL warehouses, storage) forms one group per workspace, job_id NULL
--   sku        (workspace scope) a SKU billed in the workspace
--   workspace  (SKU scope) a workspace billing the SKU
-- Only parts with increase > 0.005 (half a cent); at most :limit per kind, biggest increase
-- first; `parts` counts every such part of the kind, so a message can say "and 3 more".
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window.
-- Params:
--   :day DATE  the UTC day
--   :scope STRING  workspace or sku
--   :subject STRING  the workspace_id or sku_name
--   :limit INT  how many parts of each kind
-- Columns:
--   kind STRING  job, sku or workspace
--   workspace_id STRING  job and workspace parts
--   job_id STRING  job parts; NULL for the workspace's usage without a job id
--   sku_name STRING  sku parts
--   name STRING  the job's name (latest jobs row), when known
--   cost DECIMAL  cost on :day
--   expected_cost DOUBLE  the part's usual daily cost
--   increase DOUBLE  cost - expected_cost
--   parts INT  how many parts of this kind rose
WITH priced AS (
  SELECT
    u.workspace_id,
    u.sku_name,
    u.usage_metadata.job_id AS job_id,
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
    AND (
      (:scope = 'workspace' AND u.workspace_id = :subject)
      OR (:scope = 'sku' AND u.sku_name = :subject)
    )
),
keyed AS (
  -- Each usage row twice: as part of its job, and as part of its SKU (workspace scope) or
  -- its workspace (SKU scope). `part` is the join key (no NULLs in it).
  SELECT
    'job' AS kind,
    workspace_id,
    job_id,
    CAST(NULL AS STRING) AS sku_name,
    concat('job/', workspace_id, '/', coalesce(job_id, '-')) AS part,
    usage_date,
    unit_price,
    usage_quantity
  FROM priced
  UNION ALL
  SELECT
    CASE WHEN :scope = 'workspace' THEN 'sku' ELSE 'workspace' END AS kind,
    CASE WHEN :scope = 'sku' THEN workspace_id END AS workspace_id,
    CAST(NULL AS STRING) AS job_id,
    CASE WHEN :scope = 'workspace' THEN sku_name END AS sku_name,
    CASE WHEN :scope = 'workspace' THEN concat('sku/', sku_name) ELSE concat('ws/', workspace_id) END
      AS part,
    usage_date,
    unit_price,
    usage_quantity
  FROM priced
),
usage_daily AS (
  SELECT
    part,
    kind,
    workspace_id,
    job_id,
    sku_name,
    usage_date,
    unit_price,
    sum(usage_quantity) AS usage_quantity
  FROM keyed
  GROUP BY part, kind, workspace_id, job_id, sku_name, usage_date, unit_price
),
today AS (
  SELECT
    part,
    kind,
    workspace_id,
    job_id,
    sku_name,
    sum(CAST(usage_quantity AS DECIMAL(25, 10)) * CAST(unit_price AS DECIMAL(12, 8))) AS cost
  FROM usage_daily
  WHERE usage_date = :day
  GROUP BY part, kind, workspace_id, job_id, sku_name
  HAVING sum(CAST(usage_quantity AS DECIMAL(25, 10)) * CAST(unit_price AS DECIMAL(12, 8))) > 0
),
daily AS (
  SELECT
    part,
    datediff(:day, usage_date) AS n,
    sum(CAST(usage_quantity AS DOUBLE) * CAST(unit_price AS DOUBLE)) AS cost
  FROM usage_daily
  WHERE usage_date < :day
  GROUP BY part, usage_date
),
filled AS (
  SELECT t.part, o.n, coalesce(d.cost, 0.0) AS cost
  FROM today AS t
  CROSS JOIN (SELECT explode(array(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 21, 28)) AS n) AS o
  LEFT JOIN daily AS d ON d.part = t.part AND d.n = o.n
),
base AS (
  SELECT
    part,
    greatest(
      percentile(cost, 0.5) FILTER (WHERE n <= 14),
      percentile(cost, 0.5) FILTER (WHERE n % 7 = 0)
    ) AS expected_cost
  FROM filled
  GROUP BY part
),
rose AS (
  SELECT
    t.kind,
    t.workspace_id,
    t.job_id,
    t.sku_name,
    t.cost,
    b.expected_cost,
    CAST(t.cost AS DOUBLE) - b.expected_cost AS increase,
    row_number() OVER (
      PARTITION BY t.kind ORDER BY CAST(t.cost AS DOUBLE) - b.expected_cost DESC, t.part
    ) AS pos,
    count(*) OVER (PARTITION BY t.kind) AS parts
  FROM today AS t
  JOIN base AS b ON b.part = t.part
  WHERE CAST(t.cost AS DOUBLE) - b.expected_cost > 0.005
),
jobs AS (
  SELECT j.workspace_id, j.job_id, j.name
  FROM system.lakeflow.jobs AS j
  JOIN rose AS r ON r.kind = 'job' AND r.workspace_id = j.workspace_id AND r.job_id = j.job_id
  WHERE r.pos <= :limit
  QUALIFY row_number() OVER (PARTITION BY j.workspace_id, j.job_id ORDER BY j.change_time DESC) = 1
)
SELECT
  r.kind,
  r.workspace_id,
  r.job_id,
  r.sku_name,
  j.name,
  r.cost,
  r.expected_cost,
  r.increase,
  r.parts
FROM rose AS r
LEFT JOIN jobs AS j ON j.workspace_id = r.workspace_id AND j.job_id = r.job_id
WHERE r.pos <= :limit
ORDER BY r.kind, r.pos
