"""failing_jobs' failed_tasks: the task keys that failed in each listed job's latest run, read
from job_task_run_timeline, worked out by hand on the `failed_tasks` world (the story is told
in tests/support/worlds.py): a retried task counts by its last attempt, a repaired run by its
last repair, and only that run's rows, in that workspace, up to now count."""

from __future__ import annotations

import pytest

from bot.warehouse import queries
from tests.support.wh_world import World, utc
from tests.support.worlds import NOW, SINCE, failed_tasks


@pytest.fixture
def tasks_world(world: World) -> World:
    return failed_tasks(world)


@pytest.mark.covers("failing_jobs")
def test_the_latest_runs_failed_tasks_last_attempt_and_last_repair_win(tasks_world: World) -> None:
    rows = queries.failing_jobs(tasks_world.wh, now=NOW, since=SINCE)
    got = [(r.workspace_id, r.job_id, r.last_run_id, r.failed_tasks) for r in rows]
    assert got == [
        # 2 of 3 tasks failed (FAILED and TIMED_OUT); run 6901's failed extract is another run.
        ("1", "700", "7001", ("load", "publish")),
        # The repair ending at 10:00 lies after now: x is still failed.
        ("1", "730", "7301", ("x",)),
        # Repaired: the repair fixed reconcile; post failed again.
        ("1", "720", "7201", ("post",)),
        # Run id 7001 again, in another workspace: its own task only.
        ("2", "700", "7001", ("eu_load",)),
        # No task rows: nothing to name (the confirm says "its failed tasks").
        ("1", "740", "7401", ()),
        # ingest failed, then succeeded on its retry: only report is listed.
        ("1", "710", "7101", ("report",)),
    ]


@pytest.mark.covers("failing_jobs")
def test_before_the_repair_both_failed_tasks_are_listed(tasks_world: World) -> None:
    rows = queries.failing_jobs(tasks_world.wh, now=utc("2026-03-02 05:00"), since=SINCE)
    by_job = {(r.workspace_id, r.job_id): r.failed_tasks for r in rows}
    assert by_job == {
        ("1", "700"): ("load", "publish"),
        ("1", "710"): ("report",),
        ("1", "720"): ("post", "reconcile"),
        ("1", "740"): (),
    }
