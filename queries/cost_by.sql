-- cost_by: Cost in [:since, :until) vs [:prev_since, :prev_until), grouped, biggest first.
-- The previous window ends at :prev_until when given (cost_total's prev_until: cut where
-- billing has reached in the current window, so like is compared with like), else at :since.
-- Groups: job (workspace_id + job_id; usage without a job id, e.g. jobs on all-purpose
-- clusters, forms one NULL group), workspace, sku, owner (the job's owner, else the usage's
-- custom_tags['owner'], else identity_metadata.run_as) or tag (custom_tags[:tag_key]).
-- List price valid for each usage window; all record types summed so retractions net out.
-- Prices: the USD list price of the same cloud, SKU and usage unit, valid for the usage window
-- (fewer join keys would count a usage row once per currency or unit that list_prices holds).
-- Params:
--   :since TIMESTAMP  window start (UTC)
--   :until TIMESTAMP  window end, exclusive
--   :prev_since TIMESTAMP  previous window start
--   :prev_until TIMESTAMP?  previous window end, exclusive (NULL: :since)
--   :group_by STRING  job, workspace, sku, owner or tag
--   :tag_key STRING?  the custom tag to group by when :group_by = tag
--   :limit INT  how many groups
-- Columns:
--   group_key STRING  NULL for the "no job / no owner / untagged" group
--   label STRING  job name, workspace id (queries.py swaps in its name), SKU, owner or tag
--   workspace_id STRING  set when grouping by job
--   job_id STRING  set when grouping by job
--   cost DECIMAL  this window
--   prev_cost DECIMAL  previous window, [:prev_since, :prev_until)
--   change_pct DOUBLE  (cost - prev_cost) / prev_cost * 100; NULL when prev_cost is 0
--   dbus DECIMAL  this window's DBUs (usage_unit DBU; other units are priced, not counted)
--   currency_code STRING
WITH jobs AS (
  SELECT workspace_id, job_id, name, tags, run_as_user_name, creator_user_name
  FROM system.lakeflow.jobs
  WHERE change_time < :until
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
),
priced AS (
  SELECT
    u.workspace_id,
    u.usage_metadata.job_id AS job_id,
    u.sku_name,
    u.custom_tags,
    u.identity_metadata.run_as AS run_as,
    u.usage_start_time >= :since AS current_window,
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
    AND (u.usage_start_time >= :since OR u.usage_start_time < coalesce(:prev_until, :since))
),
keyed AS (
  SELECT
    pr.*,
    CASE :group_by
      WHEN 'job' THEN
        CASE WHEN pr.job_id IS NOT NULL THEN concat(pr.workspace_id, '/', pr.job_id) END
      WHEN 'workspace' THEN pr.workspace_id
      WHEN 'sku' THEN pr.sku_name
      WHEN 'owner' THEN coalesce(
        j.tags['owner'], j.run_as_user_name, j.creator_user_name,
        pr.custom_tags['owner'], pr.run_as
      )
      WHEN 'tag' THEN pr.custom_tags[:tag_key]
    END AS group_key,
    j.name AS job_name
  FROM priced AS pr
  LEFT JOIN jobs AS j ON j.workspace_id = pr.workspace_id AND j.job_id = pr.job_id
),
keyed_cost AS (
  -- Sum the quantities per group and unit price first and multiply once per price: a per-row
  -- decimal product is what made the cost queries slow (DuckDB narrows a DECIMAL(38,18) in
  -- 128-bit arithmetic). Exact on both engines: DECIMAL(25,10) x DECIMAL(12,8) is
  -- DECIMAL(38,18) on Databricks (wider inputs exceed 38 digits and Spark rounds the product
  -- to 6 decimals) and DECIMAL(37,18) in DuckDB; 15 integer digits of summed usage and 4 of
  -- unit price are plenty, and under ANSI mode a bigger value is an error, not a wrong sum.
  SELECT
    group_key,
    current_window,
    usage_unit,
    currency_code,
    max(job_name) AS job_name,
    max(workspace_id) AS workspace_id,
    max(job_id) AS job_id,
    sum(usage_quantity) AS usage_quantity,
    CAST(sum(usage_quantity) AS DECIMAL(25, 10)) * CAST(unit_price AS DECIMAL(12, 8)) AS cost
  FROM keyed
  GROUP BY group_key, current_window, usage_unit, currency_code, unit_price
),
grouped AS (
  SELECT
    group_key,
    CASE
      WHEN group_key IS NULL AND :group_by = 'job' THEN '(no job id: all-purpose and other compute)'
      WHEN group_key IS NULL AND :group_by = 'tag' THEN '(untagged)'
      WHEN group_key IS NULL THEN '(unknown)'
      WHEN :group_by = 'job' THEN coalesce(max(job_name), max(job_id))
      ELSE group_key
    END AS label,
    CASE WHEN :group_by = 'job' AND group_key IS NOT NULL THEN max(workspace_id) END
      AS workspace_id,
    CASE WHEN :group_by = 'job' THEN max(job_id) END AS job_id,
    coalesce(sum(cost) FILTER (WHERE current_window), 0) AS cost,
    coalesce(sum(cost) FILTER (WHERE NOT current_window), 0) AS prev_cost,
    try_divide(
      CAST(
        coalesce(sum(cost) FILTER (WHERE current_window), 0)
        - coalesce(sum(cost) FILTER (WHERE NOT current_window), 0) AS DOUBLE
      ),
      CAST(coalesce(sum(cost) FILTER (WHERE NOT current_window), 0) AS DOUBLE)
    ) * 100 AS change_pct,
    coalesce(sum(usage_quantity) FILTER (WHERE current_window AND usage_unit = 'DBU'), 0)
      AS dbus,
    coalesce(min(currency_code), 'USD') AS currency_code
  FROM keyed_cost
  GROUP BY group_key
)
-- The ranking runs over the grouped rows of a CTE: Databricks does not allow an aggregate
-- inside QUALIFY's window in a grouped query.
SELECT *
FROM grouped
QUALIFY row_number() OVER (ORDER BY cost DESC, prev_cost DESC, group_key) <= :limit
ORDER BY cost DESC, prev_cost DESC, group_key
