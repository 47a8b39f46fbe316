-- job_lookup: Find jobs by id, exact name (case-insensitive) or fuzzy name, best match first.
-- Matches the latest SCD2 row of each job. match_kind ranks id > exact > substring > fuzzy;
-- fuzzy means a Levenshtein distance of at most max(2, len/4) from the whole name. Deleted
-- jobs only when :include_deleted. At most 25 rows. Workspace names come from the optional
-- workspaces lookup (bot/warehouse/queries.py).
-- Params:
--   :needle STRING  what the user typed (a job id or a name)
--   :include_deleted BOOLEAN  also match deleted jobs
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING
--   match_kind STRING  id, exact, substring or fuzzy
--   score DOUBLE  0..1, higher is better (1 for id and exact)
--   deleted BOOLEAN
--   owner STRING
WITH jobs AS (
  SELECT workspace_id, job_id, name, tags, run_as_user_name, creator_user_name, delete_time
  FROM system.lakeflow.jobs
  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
),
scored AS (
  SELECT
    *,
    lower(trim(:needle)) AS needle,
    lower(coalesce(name, '')) AS lname,
    levenshtein(lower(coalesce(name, '')), lower(trim(:needle))) AS distance
  FROM jobs
  WHERE :include_deleted OR delete_time IS NULL
),
matched AS (
  SELECT
    *,
    CASE
      WHEN job_id = trim(:needle) THEN 'id'
      WHEN lname = needle THEN 'exact'
      WHEN needle <> '' AND instr(lname, needle) > 0 THEN 'substring'
      WHEN distance <= greatest(2, floor(length(needle) / 4)) THEN 'fuzzy'
    END AS match_kind
  FROM scored
)
SELECT
  m.workspace_id,
  m.job_id,
  m.name,
  m.match_kind,
  CASE m.match_kind
    WHEN 'id' THEN 1.0
    WHEN 'exact' THEN 1.0
    WHEN 'substring' THEN 0.5 + 0.4 * length(m.needle) / greatest(length(m.lname), 1)
    ELSE 0.5 * (1.0 - m.distance / greatest(length(m.lname), length(m.needle), 1))
  END AS score,
  m.delete_time IS NOT NULL AS deleted,
  coalesce(m.tags['owner'], m.run_as_user_name, m.creator_user_name) AS owner
FROM matched AS m
WHERE m.match_kind IS NOT NULL
ORDER BY
  CASE m.match_kind WHEN 'id' THEN 0 WHEN 'exact' THEN 1 WHEN 'substring' THEN 2 ELSE 3 END,
  score DESC,
  deleted,
  m.name,
  m.workspace_id,
  m.job_id
LIMIT 25
