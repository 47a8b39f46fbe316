-- replay_moments: When something that the scheduled work reacts to happened in [:since, :until):
-- every instant a run ended (a terminal timeline row: a repaired run ends again with a new
-- row). The replay polls the system tables only at the first poll tick after each of them,
-- since a poll with no new run end changes nothing.
-- Params:
--   :since TIMESTAMP  inclusive (UTC)
--   :until TIMESTAMP  exclusive (UTC)
-- Columns:
--   at TIMESTAMP  a run end
SELECT DISTINCT period_end_time AS at
FROM system.lakeflow.job_run_timeline
WHERE result_state IS NOT NULL
  AND period_end_time >= :since
  AND period_end_time < :until
ORDER BY at
