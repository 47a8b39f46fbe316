"""report_jobs on the hand-built account of tests/support/report_account.py: runs counted on
the local day they ended, cost against the 7 days before scaled to one day, tags for routing,
ranks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.warehouse import queries
from tests.support import report_account
from tests.support.wh_world import World

SINCE = datetime(2026, 3, 1, 23, tzinfo=UTC)  # Mon 2 Mar in Amsterdam
UNTIL = datetime(2026, 3, 2, 23, tzinfo=UTC)
PREV = datetime(2026, 2, 22, 23, tzinfo=UTC)


@pytest.mark.covers("report_jobs")
def test_report_jobs_for_one_local_day(world: World) -> None:
    report_account.build(world)
    rows = queries.report_jobs(world.wh, since=SINCE, until=UNTIL, prev_since=PREV)
    by_job = {r.job_id: r for r in rows}
    assert [r.job_id for r in rows] == ["10", "30", "20"]  # by cost
    sales, etl, ml = by_job["10"], by_job["30"], by_job["20"]
    assert (sales.runs, sales.successes, sales.failures, sales.last_failed_run_id) == (
        2,
        1,
        1,
        "r1",
    )
    # e0 ended 23:30 on Sunday local and e3 00:30 on Tuesday local: neither counts.
    assert (etl.runs, etl.failures, etl.last_failed_run_id) == (2, 2, "e2")
    assert (sales.cost, sales.prev_cost) == (Decimal("15"), Decimal("35"))
    assert sales.baseline_cost == pytest.approx(5.0)
    assert sales.change_pct == pytest.approx(200.0)
    assert etl.baseline_cost == 0 and etl.change_pct is None
    assert ml.change_pct == pytest.approx(0.0)
    assert json.loads(sales.tags_json) == {"team": "finance-data"}
    assert json.loads(etl.tags_json) == {}
    assert (sales.growth_rank, etl.growth_rank, ml.growth_rank) == (1, 2, 3)
    assert (sales.mover_rank, etl.mover_rank, ml.mover_rank) == (1, 2, 3)
    assert "c1" not in {r.job_id for r in rows}  # usage without a job id is not a job


@pytest.mark.covers("report_jobs")
def test_report_jobs_week_baseline_is_not_scaled_and_falls_rank_last(world: World) -> None:
    report_account.build(world)
    # A week against the week before: the baseline is the previous week as it was.
    rows = queries.report_jobs(
        world.wh,
        since=datetime(2026, 3, 1, 23, tzinfo=UTC),
        until=datetime(2026, 3, 8, 23, tzinfo=UTC),
        prev_since=datetime(2026, 2, 22, 23, tzinfo=UTC),
    )
    by_job = {r.job_id: r for r in rows}
    assert by_job["10"].baseline_cost == pytest.approx(35.0)
    assert by_job["20"].baseline_cost == pytest.approx(14.0)
    # Growth: etl_core +6, ml_train 2 - 14 = -12, nightly_sales 15 - 35 = -20.
    assert [r.job_id for r in sorted(rows, key=lambda r: r.growth_rank)] == ["30", "20", "10"]
    assert [r.job_id for r in sorted(rows, key=lambda r: r.mover_rank)] == ["10", "20", "30"]
