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

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.models import CostGroup, JobKey
from bot.warehouse import queries
from tests.support import worlds
from tests.support.wh_world import World, utc

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
    # Not cut: the previous window ends where this one starts; billing reaches back before it.
    assert (total.billed_until, total.prev_until) == (utc("2026-03-02 05:00"), SINCE)
    assert total.data_from == utc("2026-02-28 10:00")


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


@pytest.mark.covers("cost_total", "cost_by")
def test_today_is_compared_with_the_same_billed_hours_of_yesterday(world: World) -> None:
    # Issue 12 §3: at 05:30 `/jobs cost today` compared 00-05 h today with 19-24 h of the day
    # before, so the nightly job was "new". Billing has today up to 04:00: yesterday counts to
    # 04:00 too, whatever ran after (the evening and the 04-05 jobs) stays out of it.
    w = worlds.cost_today(world)
    today: dict[str, Any] = {"since": utc("2026-03-02 00:00"), "until": worlds.TODAY_AT}
    yesterday = utc("2026-03-01 00:00")
    total = queries.cost_total_like_for_like(w.wh, **today, prev_since=yesterday)
    assert (total.cost, total.prev_cost) == (D("3.20"), D("3.00"))
    assert total.billed_until == utc("2026-03-02 04:00")
    assert total.prev_until == utc("2026-03-01 04:00")
    assert total.change_pct == pytest.approx((3.20 - 3.00) / 3.00 * 100)
    rows = queries.cost_by(w.wh, **today, prev_since=yesterday, prev_until=total.prev_until)
    assert [(r.label, r.cost, r.prev_cost) for r in rows] == [
        ("always_on", D("2.00"), D("2.00")),
        ("nightly", D("1.20"), D("1.00")),
    ]
    # Without the cut the previous window is the whole of yesterday (the default for the
    # reports, whose previous windows are longer than the current one).
    whole = queries.cost_total(w.wh, **today, prev_since=yesterday)
    assert (whole.prev_cost, whole.prev_until) == (D("18.00"), today["since"])


@pytest.mark.covers("cost_total")
@pytest.mark.parametrize(
    ("days", "prev_cost", "data_from"),
    [
        (3, D("3.00"), "2026-02-24 01:00"),  # billing from before the previous window
        (7, D("4.00"), "2026-02-20 01:00"),  # from inside it: partly covered
        (30, D("0"), "2026-02-20 01:00"),  # from after it: no data at all
    ],
)
def test_cost_total_says_where_billing_starts(
    world: World, days: int, prev_cost: Decimal, data_from: str
) -> None:
    # Issue 12 §3: on 30 days of data `/jobs cost 30d` said "+10,402%". data_from is the first
    # usage from a day before the previous window on: later than its start = not covered.
    w = worlds.cost_coverage(world)
    span = timedelta(days=days)
    total = queries.cost_total_like_for_like(
        w.wh, since=NOW - span, until=NOW, prev_since=NOW - 2 * span
    )
    assert total.prev_cost == prev_cost
    assert total.data_from == utc(data_from)
    assert total.billed_until == utc("2026-03-02 02:00")
    assert total.prev_until == NOW - 2 * span + (utc("2026-03-02 02:00") - (NOW - span))


@pytest.mark.covers("cost_tag_keys", "cost_by")
def test_tag_keys_name_what_can_be_grouped_by(world: World) -> None:
    w = worlds.cost_tags(world)
    day: dict[str, Any] = {"since": utc("2026-03-01 00:00"), "until": utc("2026-03-02 00:00")}
    keys = queries.cost_tag_keys(w.wh, **day)
    # Job 4's team tag is not counted: it was not billed. ap-9's is a cluster's, not a job's.
    assert [(k.tag_key, k.jobs) for k in keys] == [("team", 2), ("Colour", 1), ("env", 1)]
    assert [k.tag_key for k in queries.cost_tag_keys(w.wh, **day, limit=1)] == ["team"]
    # Tags are case-sensitive: `colour` groups everything as untagged.
    rows = queries.cost_by(w.wh, **day, group_by=CostGroup.TAG, tag_key="colour")
    assert [(r.group_key, r.label) for r in rows] == [(None, "(untagged)")]


@pytest.mark.covers("job_cost")
def test_job_cost_counts_the_hours_billing_gives_the_cluster(world: World) -> None:
    # Jobs on all-purpose clusters have no usage with their job id: $0.00 is not what they
    # cost, and the hours they ran there say so.
    w = worlds.waste_world(world)
    on_ap = queries.job_cost(w.wh, JobKey("1", "12"), now=NOW)
    assert on_ap.cost_30d == D("0")
    assert on_ap.all_purpose_hours_30d == pytest.approx(1.5)
    on_job_cluster = queries.job_cost(w.wh, JobKey("1", "13"), now=NOW)
    assert on_job_cluster.all_purpose_hours_30d == 0.0
