"""The pure part of workspace / SKU anomalies (bot.monitors.cost.scope_causes) and the job
scope's retries cause against its own baseline, numbers worked out by hand."""

from __future__ import annotations

import math
from datetime import date

import pytest

from bot.monitors import cost as monitor
from bot.service import cost_candidates
from bot.warehouse import open_warehouse, queries
from tests.support import worlds
from tests.support.wh_world import World

DAY = date(2026, 3, 4)
K = monitor.CauseKind


def _ws(**over) -> monitor.CostCandidate:
    fields = dict(key="workspace:1001", day=DAY, cost=520.0, median=300.0, mad=0.0,
                  scope="workspace")  # fmt: skip
    fields.update(over)
    return monitor.CostCandidate(**fields)  # type: ignore[arg-type]


def test_a_workspace_names_its_jobs_and_skus_that_rose_biggest_first() -> None:
    movers = (
        monitor.Mover("job", "1001/12", 180.0, 100.0, "ingest_b"),
        monitor.Mover("job", "1001/11", 200.0, 100.0, "ingest_a"),
        monitor.Mover("sku", "PREMIUM_JOBS_COMPUTE", 520.0, 300.0),
    )
    d = monitor.decide(_ws(movers=movers, mover_counts=(("job", 3), ("sku", 1))))
    # z = 220 / (1.4826 * 30) = 4.95
    assert d.is_anomaly and d.z == pytest.approx(220 / 44.478)
    # Ranked by how much of the rise each kind explains: the SKU all of it (+220), the two
    # jobs listed +180 of it.
    skus, jobs = d.causes
    assert jobs.kind is K.TOP_JOBS and [m.key for m in jobs.movers] == ["1001/11", "1001/12"]
    assert jobs.value == 180.0 and jobs.more == 1  # three rose, two are listed
    assert jobs.share == pytest.approx(math.log(480 / 300))
    assert skus.kind is K.SKUS_MOVED and skus.value == 220.0
    assert skus.share == pytest.approx(math.log(520 / 300))


def test_a_scope_ignores_movers_explaining_under_a_tenth_and_adds_runs_and_new_skus() -> None:
    movers = (monitor.Mover("job", "1001/11", 120.0, 100.0),)  # +20 on 300: log(1.067) < 10%
    c = _ws(movers=movers, runs=40, baseline_runs=20, new_skus=("SERVERLESS",))
    kinds = [x.kind for x in monitor.likely_causes(c)]
    assert kinds == [K.MORE_RUNS, K.NEW_SKUS]  # log 2 first, then the 10% a new SKU is worth


def test_a_new_sku_has_no_baseline_and_its_movers_explain_it_all() -> None:
    c = monitor.CostCandidate(
        key="sku:SERVERLESS", day=DAY, cost=80.0, median=0.0, mad=0.0, scope="sku",
        new_skus=("SERVERLESS",), new_workspaces=("1001",),
        movers=(monitor.Mover("workspace", "1001", 80.0, 0.0),),
    )  # fmt: skip
    d = monitor.decide(c)
    assert d.is_anomaly and d.ratio is None
    assert [x.kind for x in d.causes] == [K.WORKSPACES_MOVED, K.NEW_SKUS, K.NEW_WORKSPACES]


def test_scope_feedback_is_per_subject_like_a_job() -> None:
    c = _ws()
    mark = monitor.Feedback("workspace:1001", date(2026, 3, 1), "not_anomaly")
    other = monitor.Feedback("workspace:2002", date(2026, 3, 1), "not_anomaly")
    assert not monitor.decide(c, feedback=[mark]).is_anomaly  # 4.95 < 5.25
    assert monitor.decide(c, feedback=[other]).is_anomaly


def test_retries_compare_with_the_jobs_own_usual_repairs() -> None:
    # A job repaired once a day, as always: no "retries" cause; twice: one more than usual.
    base = dict(key="job:1/5", day=DAY, cost=300.0, median=100.0, mad=0.0, runs=1,
                baseline_runs=1.0)  # fmt: skip
    usual = monitor.likely_causes(monitor.CostCandidate(**base, repairs=1, baseline_repairs=1))  # type: ignore[arg-type]
    assert K.RETRIES not in [x.kind for x in usual]
    more = monitor.likely_causes(monitor.CostCandidate(**base, repairs=2, baseline_repairs=1))  # type: ignore[arg-type]
    (retries,) = [x for x in more if x.kind is K.RETRIES]
    assert (retries.value, retries.usual) == (2, 1)
    assert retries.share == pytest.approx(math.log(1 + 1 / 1))


def test_the_scan_hands_the_querys_baseline_repairs_to_the_monitor() -> None:
    wh = open_warehouse(None)
    try:
        worlds.cost_scopes(World(wh))  # type: ignore[arg-type]
        rows = {r.job_id: r for r in queries.cost_anomaly_candidates(wh, day=worlds.SCOPE_DAY)}
    finally:
        wh.close()
    c = cost_candidates.job_candidate(rows["500"], worlds.SCOPE_DAY)
    assert (c.repairs, c.baseline_repairs) == (2, 1.0)  # repaired every day of the 14
    (retries,) = [x for x in monitor.likely_causes(c) if x.kind is K.RETRIES]
    assert (retries.value, retries.usual) == (2, 1.0)
