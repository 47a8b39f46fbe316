"""Cost anomaly candidates and waste, on hand-built rows with hand-computed answers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.models import WasteKind
from bot.warehouse import queries
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
    w = world
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    w.price(SERVERLESS, "0.10", "2025-01-01 00:00")
    w.job("1", "700", "spiky", "2026-01-01 00:00", tags={"owner": "ana@x.com"})
    w.job("1", "800", "weekly", "2026-01-01 00:00")
    w.job("1", "900", "steady", "2026-01-01 00:00")
    for back in range(1, 15):  # 700 and 900: 1.00 a day for the 14 days before
        d = DAY - timedelta(days=back)
        w.usage("1", JOBS, _at(d, 1), _at(d, 2), "10", job_id="700", run_id=f"a{back}",
                node_type="m5.xlarge")  # fmt: skip
        w.usage("1", JOBS, _at(d, 1), _at(d, 2), "10", job_id="900", run_id=f"s{back}")
    w.usage("1", JOBS, _at(DAY, 1), _at(DAY, 2), "10", job_id="900", run_id="s0")
    for back in (0, 7, 14, 21, 28):  # 800: 3.00 every Sunday only
        d = DAY - timedelta(days=back)
        w.usage("1", JOBS, _at(d, 3), _at(d, 4), "30", job_id="800", run_id=f"w{back}")
    # 700 on the day: 3.00 on the usual SKU over two runs + 2.00 on a SKU it never used.
    w.usage("1", JOBS, _at(DAY, 1), _at(DAY, 2), "15", job_id="700", run_id="x1",
            node_type="m5.xlarge")  # fmt: skip
    w.usage("1", JOBS, _at(DAY, 5), _at(DAY, 6), "15", job_id="700", run_id="x2",
            node_type="m5.4xlarge")  # fmt: skip
    w.usage("1", SERVERLESS, _at(DAY, 5), _at(DAY, 6), "20", job_id="700", run_id="x2")
    # Timeline: baseline runs of 30 min; on the day two runs of an hour, one repaired.
    for back in (1, 2):
        d = DAY - timedelta(days=back)
        w.slice("1", "700", f"a{back}", _at(d, 1), f"{d.isoformat()} 01:30", "SUCCEEDED")
    w.slice("1", "700", "x1", _at(DAY, 1), _at(DAY, 2), "SUCCEEDED")
    w.slice("1", "700", "x2", "2026-03-01 03:00", "2026-03-01 03:30", "FAILED")
    w.slice("1", "700", "x2", "2026-03-01 04:30", "2026-03-01 05:00", "SUCCEEDED")

    rows = queries.cost_anomaly_candidates(w.wh, day=DAY)
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
    w = world
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    w.price(AP, "0.55", "2025-01-01 00:00")
    w.job("1", "10", "fails", "2026-01-01 00:00")
    w.job("1", "11", "repaired", "2026-01-01 00:00")
    w.job("1", "12", "on_all_purpose", "2026-01-01 00:00")
    w.job("1", "13", "on_job_cluster", "2026-01-01 00:00")
    # Job 10: one failed run, two billed hours of 1.00.
    w.slice("1", "10", "f1", "2026-03-01 03:00", "2026-03-01 05:00", "FAILED")
    w.usage("1", JOBS, "2026-03-01 03:00", "2026-03-01 04:00", "10", job_id="10", run_id="f1")
    w.usage("1", JOBS, "2026-03-01 04:00", "2026-03-01 05:00", "10", job_id="10", run_id="f1")
    # Job 11: failed at 03:00, repaired to success at 06:00; the 02-03 hour was redone.
    w.slice("1", "11", "p1", "2026-03-01 02:00", "2026-03-01 03:00", "FAILED")
    w.slice("1", "11", "p1", "2026-03-01 05:00", "2026-03-01 06:00", "SUCCEEDED")
    w.usage("1", JOBS, "2026-03-01 02:00", "2026-03-01 03:00", "10", job_id="11", run_id="p1")
    w.usage("1", JOBS, "2026-03-01 05:00", "2026-03-01 06:00", "10", job_id="11", run_id="p1")
    # Job 12 ran 1.5 h of tasks on all-purpose cluster ap-1, billed 3 h (1.65) without job id.
    w.cluster("1", "ap-1", "shared-analytics", "UI", "2026-01-01 00:00")
    w.cluster("1", "jc-1", "job-cluster", "JOB", "2026-01-01 00:00")
    w.task_slice("1", "12", "q1", "2026-03-01 10:00", "2026-03-01 11:00", ["ap-1"])
    w.task_slice("1", "12", "q1", "2026-03-01 11:00", "2026-03-01 11:30", ["ap-1"])
    w.task_slice("1", "13", "q2", "2026-03-01 10:00", "2026-03-01 11:00", ["jc-1"])
    for h in (10, 11, 12):
        w.usage("1", AP, f"2026-03-01 {h}:00", f"2026-03-01 {h + 1}:00", "1", cluster_id="ap-1")
    # ap-1's driver idled at 3% CPU; busy-1 worked hard.
    for m in range(3):
        w.node_minute("1", "ap-1", f"2026-03-01 10:0{m}", 2.0, 1.0)
        w.node_minute("1", "busy-1", f"2026-03-01 10:0{m}", 45.0, 5.0)

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
