"""Cost queries against hand-built billing rows whose answers were worked out by hand.

Prices (AWS): JOBS 0.15 until Mar 1 12:00, then 0.20 (the hour 11-12 uses the old price, the
hour 12-13 the new one); ALL_PURPOSE 0.55. Window = Mar 1 09:00 .. Mar 2 09:00, previous
window = Feb 28 09:00 .. Mar 1 09:00.

  ws1 job 100 (owner tag ana, team finance)
    Feb 10 00-01  10 DBU x 0.15 = 1.50   (30-day only)
    Feb 28 10-11   5 DBU x 0.15 = 0.75   (previous window)
    Mar 1 01-02   10 DBU x 0.15 = 1.50   (previous window)
    Mar 1 11-12    4 DBU x 0.15 = 0.60
    Mar 1 12-13    4 DBU x 0.20 = 0.80
    Mar 2 00-01    8 - 8 + 6 DBU x 0.20 = 1.20  (ORIGINAL, RETRACTION, RESTATEMENT)
  ws2 job 100 (same id, team ops, run_as svc2): Mar 2 04-05  5 DBU x 0.20 = 1.00
  ws1 all-purpose cluster ap-1, no job id, run_as bob: Mar 1 10-11  2 DBU x 0.55 = 1.10
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.models import CostGroup, JobKey
from bot.warehouse import queries
from tests.warehouse import worlds
from tests.warehouse.wh_world import World, utc

JOBS = "PREMIUM_JOBS_COMPUTE"
AP = "PREMIUM_ALL_PURPOSE_COMPUTE"
NOW = utc("2026-03-02 09:00")
SINCE = utc("2026-03-01 09:00")
PREV = utc("2026-02-28 09:00")
D = Decimal


@pytest.fixture
def billing(world: World) -> World:
    return worlds.billing(world)


@pytest.mark.covers("cost_total")
def test_cost_total_price_windows_and_retractions(billing: World) -> None:
    total = queries.cost_total(billing.wh, since=SINCE, until=NOW, prev_since=PREV)
    assert total.cost == D("4.70")
    assert total.prev_cost == D("2.25")
    assert total.change_pct == pytest.approx((4.70 - 2.25) / 2.25 * 100)
    assert total.dbus == D("21")  # 4 + 4 + 6 + 5 + 2
    assert total.currency_code == "USD"
    assert total.last_usage_end_time == utc("2026-03-02 05:00")


@pytest.mark.covers("cost_by")
def test_cost_by_job_keeps_workspaces_apart(billing: World) -> None:
    rows = queries.cost_by(billing.wh, since=SINCE, until=NOW, prev_since=PREV)
    got = [(r.workspace_id, r.job_id, r.label, r.cost, r.prev_cost) for r in rows]
    assert got == [
        ("1", "100", "nightly_sales", D("2.60"), D("2.25")),
        (None, None, "(no job id: all-purpose and other compute)", D("1.10"), D("0")),
        ("2", "100", "other_job", D("1.00"), D("0")),
    ]
    assert rows[0].change_pct == pytest.approx((2.60 - 2.25) / 2.25 * 100)
    assert rows[2].change_pct is None  # nothing to compare with
    assert len(queries.cost_by(billing.wh, since=SINCE, until=NOW, prev_since=PREV, limit=1)) == 1


@pytest.mark.covers("cost_by")
@pytest.mark.parametrize(
    ("group", "tag_key", "expected"),
    [
        ("workspace", None, [("prod", D("3.70")), ("staging", D("1.00"))]),
        ("sku", None, [(JOBS, D("3.60")), (AP, D("1.10"))]),
        (
            "owner",
            None,
            [("ana@x.com", D("2.60")), ("bob@x.com", D("1.10")), ("svc2@x.com", D("1.00"))],
        ),  # fmt: skip
        ("tag", "team", [("finance", D("2.60")), ("(untagged)", D("1.10")), ("ops", D("1.00"))]),
    ],
)
def test_cost_by_other_groupings(
    billing: World, group: str, tag_key: str | None, expected: list[tuple[str, Decimal]]
) -> None:
    rows = queries.cost_by(
        billing.wh, since=SINCE, until=NOW, prev_since=PREV, group_by=CostGroup(group),
        tag_key=tag_key,
    )  # fmt: skip
    assert [(r.label, r.cost) for r in rows] == expected


@pytest.mark.covers("cost_daily")
def test_cost_daily_all_and_one_job(billing: World) -> None:
    since, until = utc("2026-02-28 00:00"), utc("2026-03-03 00:00")
    every = queries.cost_daily(billing.wh, since=since, until=until)
    assert [(str(r.day), r.cost) for r in every] == [
        ("2026-02-28", D("0.75")),
        ("2026-03-01", D("4.00")),
        ("2026-03-02", D("2.20")),
    ]
    one = queries.cost_daily(billing.wh, since=since, until=until, workspace_id="1", job_id="100")
    assert [r.cost for r in one] == [D("0.75"), D("2.90"), D("1.20")]


@pytest.mark.covers("run_cost")
def test_run_cost_and_not_yet_billed(billing: World) -> None:
    r3 = queries.run_cost(billing.wh, workspace_id="1", job_run_id="r3")
    assert (r3.billed, r3.cost, r3.dbus, r3.usage_rows) == (True, D("1.20"), D("6"), 3)
    ws2 = queries.run_cost(billing.wh, workspace_id="2", job_run_id="r3")
    assert ws2.cost == D("1.00")  # the same run id in another workspace is another run
    pending = queries.run_cost(billing.wh, workspace_id="1", job_run_id="r4")
    assert (pending.billed, pending.cost) == (False, D("0"))


@pytest.mark.covers("job_cost")
def test_job_cost_7d_30d(billing: World) -> None:
    c = queries.job_cost(billing.wh, JobKey("1", "100"), now=NOW)
    assert (c.cost_7d, c.cost_30d) == (D("4.85"), D("6.35"))
    assert c.runs_billed_30d == 5
    assert queries.job_cost(billing.wh, JobKey("2", "100"), now=NOW).cost_30d == D("1.00")


@pytest.mark.covers("digest_summary")
def test_digest_summary_for_a_day(billing: World) -> None:
    w = billing
    worlds.digest_runs(w)
    d = queries.digest_summary(w.wh, day=date(2026, 3, 1))
    assert (d.runs, d.successes, d.failures, d.failed_jobs) == (3, 1, 2, 2)
    assert d.success_rate == pytest.approx(1 / 3)
    assert d.cost == D("4.00")
    assert float(d.avg_cost_7d) == pytest.approx(0.75 / 7)
    assert d.change_pct == pytest.approx((4.00 - 0.75 / 7) / (0.75 / 7) * 100)
