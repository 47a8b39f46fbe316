"""Cost anomaly candidates and waste, on hand-built rows with hand-computed answers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.models import WasteKind
from bot.warehouse import queries
from tests.warehouse import worlds
from tests.warehouse.wh_world import World, utc

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
    assert a.robust_z is None  # MAD 0: no scale to divide by
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
