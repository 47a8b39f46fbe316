"""queries/scheduled_jobs.sql against hand-built rows: the newest SCD2 row decides, deleted and
unscheduled jobs (and rows from before the trigger column existed) are left out, paused jobs
come back flagged, and last_run_start is the start of a run's first slice — never a later
slice of a run that started before :since, never a slice written after :now."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.warehouse import queries
from tests.support.wh_world import Rows, World, utc

NOW = utc("2026-03-02 09:00")
SINCE = NOW - timedelta(hours=24)


@pytest.mark.covers("scheduled_jobs")
def test_scheduled_jobs(world: World) -> None:
    w = Rows(world.wh)  # type: ignore[arg-type]
    w.con = world.con
    w.scheduled_job("1", "10", "old_name", "2026-01-01 00:00", "0 0 1 * * ?")
    w.scheduled_job("1", "10", "nightly", "2026-02-01 00:00", "0 0 2 * * ?", "Europe/Amsterdam",
                    tags={"team": "finance", "owner": "ana@x.com"})  # fmt: skip
    w.scheduled_job("1", "11", "paused_one", "2026-02-01 00:00", "0 0 3 * * ?", paused=True)
    w.scheduled_job("1", "12", "deleted_one", "2026-02-01 00:00", "0 0 3 * * ?",
                    deleted="2026-03-01 00:00")  # fmt: skip
    w.scheduled_job("1", "13", "later_change", "2026-03-02 10:00", "0 0 3 * * ?")  # after :now
    w.job("1", "14", "legacy_row", "2026-02-01 00:00")  # trigger NULL: cannot tell
    w.scheduled_job("2", "10", "other_ws", "2026-02-01 00:00", "0 */30 * * * ?")
    # Job 10: a long run from before :since (slices after it), then a fresh start.
    w.slice("1", "10", "r1", "2026-02-28 23:00", "2026-03-01 23:00")
    w.slice("1", "10", "r1", "2026-03-01 23:00", "2026-03-02 00:00", "SUCCEEDED")
    w.slice("1", "10", "r2", "2026-03-02 01:05", "2026-03-02 02:00")
    w.slice("1", "10", "r3", "2026-03-02 08:30", "2026-03-02 09:30")  # ends after :now: unseen
    # Job 11: only a run that started before :since, still writing slices after it.
    w.slice("1", "11", "r5", "2026-03-01 05:00", "2026-03-01 10:00")
    w.slice("1", "11", "r5", "2026-03-01 10:00", "2026-03-01 11:00")
    # Workspace 2 reuses job id 10: its runs are its own.
    w.slice("2", "10", "r9", "2026-03-02 08:00", "2026-03-02 08:20", "SUCCEEDED")

    rows = {
        (r.workspace_id, r.job_id): r for r in queries.scheduled_jobs(w.wh, now=NOW, since=SINCE)
    }
    assert sorted(rows) == [("1", "10"), ("1", "11"), ("2", "10")]
    job = rows[("1", "10")]
    assert (job.name, job.quartz_cron, job.timezone_id) == (
        "nightly",
        "0 0 2 * * ?",
        "Europe/Amsterdam",
    )
    assert json.loads(job.tags_json) == {"team": "finance", "owner": "ana@x.com"}
    assert job.owner == "ana@x.com" and job.paused is False
    assert job.change_time == utc("2026-02-01 00:00")
    assert job.last_run_start == utc("2026-03-02 01:05")  # not r1's later slice, not r3
    assert rows[("1", "11")].paused is True and rows[("1", "11")].last_run_start is None
    assert rows[("2", "10")].last_run_start == utc("2026-03-02 08:00")
