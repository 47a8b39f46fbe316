-- job_lookup: Find jobs by id, exact name (case-insensitive), a former name, or fuzzy name,
-- best match first. Each job is judged by its latest SCD2 row (name, owner, deleted, paused);
-- its older rows only say what it used to be called. match_kind ranks id > exact > renamed
-- (the needle is exactly a name the job had before, not its name now) > substring > fuzzy;
-- fuzzy means a Levenshtein distance of at most max(2, len/4) from the whole name. Deleted
-- jobs (delete_time on the latest row) only when :include_deleted. At most 25 rows.
-- Workspace names come from the optional workspaces lookup (bot/warehouse/queries.py).
-- Speed: a first pass over every row keeps only the jobs some row of which could match
-- (levenshtein runs only for names of a close length: the distance is at least the length
-- difference), so the window sees a handful of jobs instead of the whole table.
-- Params:
--   :needle STRING  what the user typed (a job id or a name)
--   :include_deleted BOOLEAN  also match deleted jobs
-- Columns:
--   workspace_id STRING
--   job_id STRING
--   name STRING  the job's name now (latest row)
--   match_kind STRING  id, exact, renamed, substring or fuzzy
--   score DOUBLE  0..1, higher is better (1 for id and exact)
--   deleted BOOLEAN
--   owner STRING
--   renamed_at TIMESTAMP  renamed only: when the job stopped carrying the name typed
--   delete_time TIMESTAMP  when the job was deleted; NULL while it exists
--   paused BOOLEAN  the latest row says paused (NULL, on rows before Dec 2025, reads false)
WITH versions AS (
  SELECT
    workspace_id,
    job_id,
    name,
    change_time,
    delete_time,
    paused,
    coalesce(tags['owner'], run_as_user_name, creator_user_name) AS owner,
    lower(coalesce(name, '')) AS lname,
    lead(change_time) OVER (PARTITION BY workspace_id, job_id ORDER BY change_time)
      AS next_change
  FROM system.lakeflow.jobs
  WHERE (workspace_id, job_id) IN (
    SELECT workspace_id, job_id
    FROM (
      SELECT
        workspace_id,
        job_id,
        lower(coalesce(name, '')) AS lname,
        lower(trim(:needle)) AS needle
      FROM system.lakeflow.jobs
    ) AS candidate
    WHERE job_id = trim(:needle)
      OR lname = needle
      OR (needle <> '' AND instr(lname, needle) > 0)
      OR CASE
        WHEN abs(length(lname) - length(needle)) <= greatest(2, floor(length(needle) / 4))
          THEN levenshtein(lname, needle) <= greatest(2, floor(length(needle) / 4))
        ELSE false
      END
  )
),
marked AS (
  -- The latest row has no next change. A row carrying the typed name with a next change is
  -- a name the job had before; the next change after the last such row is the rename.
  SELECT
    *,
    lower(trim(:needle)) AS needle,
    max(CASE WHEN lname = lower(trim(:needle)) THEN next_change END)
      OVER (PARTITION BY workspace_id, job_id) AS renamed_at
  FROM versions
),
matched AS (
  SELECT
    *,
    levenshtein(lname, needle) AS distance,
    CASE
      WHEN job_id = trim(:needle) THEN 'id'
      WHEN lname = needle THEN 'exact'
      WHEN renamed_at IS NOT NULL THEN 'renamed'
      WHEN needle <> '' AND instr(lname, needle) > 0 THEN 'substring'
      WHEN levenshtein(lname, needle) <= greatest(2, floor(length(needle) / 4)) THEN 'fuzzy'
    END AS match_kind
  FROM marked
  WHERE next_change IS NULL AND (:include_deleted OR delete_time IS NULL)
)
SELECT
  workspace_id,
  job_id,
  name,
  match_kind,
  CASE match_kind
    WHEN 'id' THEN 1.0
    WHEN 'exact' THEN 1.0
    WHEN 'renamed' THEN 0.95
    WHEN 'substring' THEN 0.5 + 0.4 * length(needle) / greatest(length(lname), 1)
    ELSE 0.5 * (1.0 - distance / greatest(length(lname), length(needle), 1))
  END AS score,
  delete_time IS NOT NULL AS deleted,
  owner,
  CASE WHEN match_kind = 'renamed' THEN renamed_at END AS renamed_at,
  delete_time,
  coalesce(paused, false) AS paused
FROM matched
WHERE match_kind IS NOT NULL
ORDER BY
  CASE match_kind
    WHEN 'id' THEN 0 WHEN 'exact' THEN 1 WHEN 'renamed' THEN 2 WHEN 'substring' THEN 3 ELSE 4
  END,
  score DESC,
  deleted,
  name,
  workspace_id,
  job_id
LIMIT 25
