"""Workspace and SKU anomaly candidates, their movers, and the job query's baseline repairs,
on the hand-built `cost_scopes` world (tests/support/worlds.py), answers worked out by hand
there: every usage row counts for a workspace (the all-purpose cluster too), a SKU is counted
across workspaces, a day without usage costs 0."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.monitors import cost as monitor
from bot.warehouse import queries
from tests.support import worlds
from tests.support.wh_world import World

DAY = worlds.SCOPE_DAY
D = Decimal


@pytest.mark.covers("cost_scope_anomaly_candidates")
def test_workspaces_count_every_usage_row_against_the_same_baseline(world: World) -> None:
    w = worlds.cost_scopes(world)
    rows = queries.cost_scope_anomaly_candidates(w.wh, day=DAY, scope="workspace")
    # ws 2: +2.00 on 0.50; ws 1: +3.00 on 5.00 (4.00 / 6.00 alternate, AP included).
    assert [(r.subject, r.cost) for r in rows] == [("1", D("8.00")), ("2", D("2.50"))]
    prod, dev = rows
    assert (prod.baseline_median, prod.baseline_mad, prod.weekday_median) == (5.0, 1.0, 5.0)
    assert prod.expected_cost == 5.0 and prod.baseline_days_with_cost == 14
    assert prod.robust_z == pytest.approx(3.0 / 1.4826)
    # Billed jobs 500 and 510 (the AP cluster is no job); runs: two of 500, one of 510.
    assert (prod.jobs, prod.baseline_jobs, prod.runs, prod.baseline_runs) == (2, 2.0, 3, 2.0)
    assert prod.new_skus == (worlds.SERVERLESS,) and prod.new_workspaces == ()
    assert dev.robust_z == pytest.approx(2.0 / (1.4826 * 0.05))
    assert dev.robust_z == pytest.approx(monitor.robust_z(2.5, 0.5, 0.0))
    # min_z keeps the scores at or above it only.
    chosen = queries.cost_scope_anomaly_candidates(w.wh, day=DAY, scope="workspace", min_z=3.5)
    assert [r.subject for r in chosen] == ["2"]


@pytest.mark.covers("cost_scope_anomaly_candidates")
def test_skus_are_counted_across_workspaces_and_a_new_one_says_so(world: World) -> None:
    w = worlds.cost_scopes(world)
    rows = queries.cost_scope_anomaly_candidates(w.wh, day=DAY, scope="sku")
    # AP costs what it always costs: not above its baseline.
    assert [(r.subject, r.cost) for r in rows] == [
        (worlds.JOBS, D("7.50")),
        (worlds.SERVERLESS, D("1.00")),
    ]
    jobs, new = rows
    assert (jobs.baseline_median, jobs.baseline_mad, jobs.expected_cost) == (3.5, 1.0, 3.5)
    assert jobs.robust_z == pytest.approx(4.0 / 1.4826)
    assert (jobs.jobs, jobs.baseline_jobs, jobs.runs, jobs.baseline_runs) == (3, 3.0, 4, 3.0)
    assert (jobs.new_skus, jobs.new_workspaces) == ((), ())
    assert (new.expected_cost, new.baseline_days_with_cost) == (0.0, 0)
    assert new.robust_z == pytest.approx(1.0 / (1.4826 * 0.01))
    assert (new.new_skus, new.new_workspaces) == ((worlds.SERVERLESS,), ("1",))


def test_an_unknown_scope_is_refused_before_the_warehouse(world: World) -> None:
    with pytest.raises(ValueError, match="cost scope 'job'"):
        queries.cost_scope_anomaly_candidates(world.wh, day=DAY, scope="job")


@pytest.mark.covers("cost_scope_movers")
def test_movers_of_a_workspace_are_its_jobs_and_skus(world: World) -> None:
    w = worlds.cost_scopes(world)
    got = queries.cost_scope_movers(w.wh, day=DAY, scope="workspace", subject="1")
    # 500: 3.00 (2.00 JOBS + 1.00 SERVERLESS) vs 1.00; 510: 3.00 vs a median of 2.00;
    # the AP cluster (no job id) costs its usual 2.00 and does not move.
    assert [(m.kind, m.job_id, m.sku_name, m.name, m.cost, m.expected_cost, m.increase, m.parts)
            for m in got] == [
        ("job", "500", None, "repaired_daily", D("3.00"), 1.0, 2.0, 2),
        ("job", "510", None, "zigzag", D("3.00"), 2.0, 1.0, 2),
        ("sku", None, worlds.JOBS, None, D("5.00"), 3.0, 2.0, 2),
        ("sku", None, worlds.SERVERLESS, None, D("1.00"), 0.0, 1.0, 2),
    ]  # fmt: skip
    top = queries.cost_scope_movers(w.wh, day=DAY, scope="workspace", subject="1", limit=1)
    assert [(m.kind, m.increase, m.parts) for m in top] == [("job", 2.0, 2), ("sku", 2.0, 2)]


@pytest.mark.covers("cost_scope_movers")
def test_movers_of_a_sku_are_its_jobs_and_workspaces(world: World) -> None:
    w = worlds.cost_scopes(world)
    got = queries.cost_scope_movers(w.wh, day=DAY, scope="sku", subject=worlds.JOBS)
    assert [(m.kind, m.workspace_id, m.job_id, m.cost, m.increase) for m in got] == [
        ("job", "2", "600", D("2.50"), 2.0),  # 2.50 vs 0.50
        ("job", "1", "500", D("2.00"), 1.0),  # two runs of 1.00 vs one
        ("job", "1", "510", D("3.00"), 1.0),  # 3.00 vs a median of 2.00
        ("workspace", "1", None, D("5.00"), 2.0),  # 5.00 vs 2.00 / 4.00: median 3.00
        ("workspace", "2", None, D("2.50"), 2.0),
    ]


@pytest.mark.covers("cost_anomaly_candidates")
def test_baseline_repairs_are_the_median_per_day(world: World) -> None:
    w = worlds.cost_scopes(world)
    rows = {r.job_id: r for r in queries.cost_anomaly_candidates(w.wh, day=DAY)}
    # 500 is repaired once every day of the 14; on the day both its runs are.
    assert (rows["500"].repaired_runs, rows["500"].baseline_repaired_runs) == (2, 1.0)
    assert rows["600"].baseline_repaired_runs == 0.0
