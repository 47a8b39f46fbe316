"""Cost anomaly candidates and waste, on hand-built rows with hand-computed answers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bot.models import WasteKind
from bot.monitors import cost as monitor
from bot.warehouse import queries
from tests.support import worlds
from tests.support.wh_world import World, utc

JOBS = "PREMIUM_JOBS_COMPUTE"
SERVERLESS = "PREMIUM_JOBS_SERVERLESS_COMPUTE_US_EAST"
AP = "PREMIUM_ALL_PURPOSE_COMPUTE"
DAY = date(2026, 3, 1)  # a Sunday
D = Decimal


def _at(day: date, hour: int) -> str:
    return f"{day.isoformat()} {hour:02d}:00"


@pytest.mark.covers("cost_anomaly_candidates")
def test_anomaly_baseline_weekday_and_hints(world: World) -> None:
    w = worlds.anomaly(world)
    rows = queries.cost_anomaly_candidates(w.wh, day=worlds.ANOMALY_DAY)
    # 800 costs what it costs every Sunday (weekday median 3.00) and 900 is flat.
    assert [r.job_id for r in rows] == ["700"]
    (a,) = rows
    assert a.cost == D("5.00")
    assert (a.baseline_median, a.baseline_mad) == (1.0, 0.0)
    assert a.weekday_median == pytest.approx(0.5)  # Feb 22, 15 = 1.00; Feb 8, 1 = 0
    assert a.expected_cost == 1.0
    # MAD 0: the spread is floored at a tenth of the expected cost, as the monitor floors it.
    assert a.robust_z == pytest.approx(4.0 / (1.4826 * 0.1))
    assert a.baseline_days_with_cost == 14
    assert (a.runs, a.baseline_runs) == (2, 1.0)
    assert a.avg_duration_seconds == pytest.approx(3600)
    assert a.baseline_avg_duration_seconds == pytest.approx(1800)
    assert a.new_skus == (SERVERLESS,)
    assert a.new_node_types == ("m5.4xlarge",)
    assert (a.repaired_runs, a.failed_runs) == (1, 0)
    assert a.owner == "ana@x.com"


@pytest.mark.covers("waste")
def test_waste_failed_retried_all_purpose_idle(world: World) -> None:
    w = worlds.waste_world(world)
    items = queries.waste(w.wh, since=utc("2026-03-01 00:00"), until=utc("2026-03-02 00:00"))
    got = {(i.kind, i.job_id, i.cluster_id): i for i in items}
    assert set(got) == {
        (WasteKind.FAILED_RUNS, "10", None),
        (WasteKind.RETRIED_ATTEMPTS, "11", None),
        (WasteKind.ALL_PURPOSE_JOB, "12", "ap-1"),
        (WasteKind.IDLE_CLUSTER, None, "ap-1"),
    }
    failed = got[(WasteKind.FAILED_RUNS, "10", None)]
    assert (failed.cost, failed.runs, failed.label) == (D("2.00"), 1, "fails")
    assert got[(WasteKind.RETRIED_ATTEMPTS, "11", None)].cost == D("1.00")
    ap = got[(WasteKind.ALL_PURPOSE_JOB, "12", "ap-1")]
    assert float(ap.cost) == pytest.approx(1.65 * 5400 / 10800)
    assert ap.hours == pytest.approx(1.5)
    idle = got[(WasteKind.IDLE_CLUSTER, None, "ap-1")]
    assert (idle.cost, idle.label) == (D("1.65"), "shared-analytics")
    assert idle.avg_cpu_percent == pytest.approx(3.0)
    assert idle.hours == pytest.approx(3 / 60)


@pytest.mark.covers("cost_anomaly_candidates")
def test_the_query_scores_as_the_monitor_scores(world: World) -> None:
    # Issue 12 §3: Slack said robust z 35.8 where `jobs-bot query` said 68.24: the query
    # divided by the raw MAD, the monitor by the floored one. One score now, in three
    # regimes: the MAD counts (710), a tenth of the expected cost (720), the 0.01 minimum (730).
    w = worlds.anomaly_scores(world)
    rows = queries.cost_anomaly_candidates(w.wh, day=worlds.ANOMALY_DAY)
    assert [r.job_id for r in rows] == ["710", "720", "730"]
    for r in rows:
        assert r.robust_z == pytest.approx(
            monitor.robust_z(float(r.cost), r.expected_cost, r.baseline_mad), rel=1e-12
        )
    z = {r.job_id: r.robust_z for r in rows}
    assert z["710"] == pytest.approx(8.5 / (1.4826 * 0.5))
    assert z["720"] == pytest.approx(4.0 / (1.4826 * 0.1))
    assert z["730"] == pytest.approx(0.03 / (1.4826 * 0.01))
    # With min_z the query leaves out what cannot alert, and gives the others unchanged.
    chosen = queries.cost_anomaly_candidates(w.wh, day=worlds.ANOMALY_DAY, min_z=3.5)
    assert chosen == rows[:2]


@pytest.mark.covers("waste")
def test_idle_is_the_configured_cpu_threshold(world: World) -> None:
    # waste.sql counted a cluster under 10% CPU as idle while the config says 5%.
    w = worlds.waste_world(world)
    for m in range(3):
        w.node_minute("1", "warm-1", f"2026-03-01 10:0{m}", 6.0, 1.0)  # 7% CPU
    window: dict[str, Any] = {"since": utc("2026-03-01 00:00"), "until": utc("2026-03-02 00:00")}

    def idle(threshold: float) -> set[str | None]:
        items = queries.waste(w.wh, **window, idle_cpu_percent=threshold)
        return {i.cluster_id for i in items if i.kind is WasteKind.IDLE_CLUSTER}

    assert idle(5) == {"ap-1"}  # 3%; warm-1's 7% is work
    assert idle(10) == {"ap-1", "warm-1"}
    assert idle(2) == set()
    assert queries.waste(w.wh, **window) == queries.waste(w.wh, **window, idle_cpu_percent=5)
