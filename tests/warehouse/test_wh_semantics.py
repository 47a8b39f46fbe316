"""Real-Databricks semantics (the A-items of the checked reference), each on a hand-built
world whose answer the old SQL got wrong:

A1 one price per usage row (currency and usage unit join keys), A2 DBUs are DBU rows only,
A8 workspace names are optional (no grant on system.access), A9 only JOB_RUN rows are runs
of a job, A11 CANCELLED/SKIPPED runs are neutral, A15 the streak scan is bounded, A16 the
owner falls back to billing's identity_metadata.run_as. The worlds live in tests/support/worlds.py
so the Spark conformance suite runs the same cases."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from bot.models import CostGroup, JobKey
from bot.warehouse import queries, sql
from tests.support import worlds
from tests.support.wh_world import World, utc

D = Decimal
NOW = worlds.NOW
DAY = {"since": utc("2026-03-01 00:00"), "until": utc("2026-03-02 00:00")}


@pytest.fixture
def prices(world: World) -> World:
    return worlds.prices(world)


@pytest.fixture
def semantics(world: World) -> World:
    return worlds.semantics(world)


@pytest.mark.covers("cost_total", "run_cost", "cost_daily", "job_cost")
def test_a1_a2_one_price_per_usage_row_and_dbus_only_from_dbu_rows(prices: World) -> None:
    # 1.123456789 DBU x 0.15 (not also x the EUR price and the GB price) + 50 GB x 0.0001.
    total = queries.cost_total(prices.wh, **DAY, prev_since=utc("2026-02-28 00:00"))
    assert total.cost == D("0.17351851835")
    assert total.dbus == D("1.123456789")  # the 50 GB of storage are not DBUs
    run = queries.run_cost(prices.wh, workspace_id="1", job_run_id="r1")
    assert (run.cost, run.dbus, run.usage_rows) == (D("0.17351851835"), D("1.123456789"), 2)
    (day,) = queries.cost_daily(prices.wh, **DAY)
    assert (day.cost, day.dbus) == (D("0.17351851835"), D("1.123456789"))
    job = queries.job_cost(prices.wh, JobKey("1", "100"), now=NOW)
    assert (job.cost_30d, job.dbus_30d) == (D("0.17351851835"), D("1.123456789"))


@pytest.mark.covers("failing_jobs")
def test_a11_a9_a15_a16_failing_jobs(semantics: World) -> None:
    rows = queries.failing_jobs(semantics.wh, now=NOW, since=utc("2026-03-01 00:00"))
    got = [(r.job_id, r.streak, r.failures_in_window, r.runs_in_window, r.last_run_id, r.owner)
           for r in rows]  # fmt: skip
    assert got == [
        # A11: the SKIPPED r5 after r4 does not make 300 healthy, and the CANCELLED r3 between
        # r2 and r4 does not end the streak. A16: no owner in the jobs row -> billing's run_as
        # of the latest usage. A9: 310's failed WORKFLOW_RUN child and 320's SUBMIT_RUN are no
        # failing jobs. A15: 330's failure of 2025-11-01 lies beyond the 90-day streak scan.
        ("300", 2, 2, 3, "r4", "sp-etl@x.com"),
        ("330", 1, 1, 1, "o2", "cre@x.com"),
    ]
    assert rows[0].result_state == "FAILED" and rows[0].last_failure_time == utc("2026-03-01 07:10")


@pytest.mark.covers("job_run_stats")
def test_a11_a9_success_rates_leave_neutral_runs_and_workflow_children_out(
    semantics: World,
) -> None:
    s = queries.job_run_stats(semantics.wh, JobKey("1", "300"), now=NOW)
    assert (s.runs_30d, s.successes_30d, s.failures_30d) == (5, 1, 2)  # r1..r5 finished
    assert s.success_rate_30d == pytest.approx(1 / 3)  # 1 of the 3 decisive runs
    parent = queries.job_run_stats(semantics.wh, JobKey("1", "310"), now=NOW)
    assert (parent.runs_30d, parent.success_rate_30d, parent.p50_seconds) == (1, 1.0, 1800)


@pytest.mark.covers("digest_summary")
def test_a11_digest_rate_over_decisive_runs(semantics: World) -> None:
    d = queries.digest_summary(semantics.wh, day=date(2026, 3, 1))
    assert (d.runs, d.successes, d.failures, d.failed_jobs) == (4, 1, 2, 1)
    assert d.success_rate == pytest.approx(1 / 3)
    assert d.cost == D("0.2")


@pytest.mark.covers("runs_in_progress", "job_durations", "job_recent_runs")
def test_a9_a16_running_and_durations(semantics: World) -> None:
    running = queries.runs_in_progress(semantics.wh, now=NOW)
    # w3, a running WORKFLOW_RUN child of job 310, is not a run of its own.
    assert [(r.job_id, r.run_id, r.owner) for r in running] == [("300", "r6", "sp-etl@x.com")]
    usual = {r.job_id: r for r in queries.job_durations(semantics.wh, now=NOW)}
    assert (usual["310"].runs, usual["310"].p50_seconds) == (1, 1800)  # w2 (10 min) is not
    recent = queries.job_recent_runs(semantics.wh, JobKey("1", "310"), now=NOW)
    assert [r.run_id for r in recent] == ["r10"]


@pytest.mark.covers("failing_jobs", "job_lookup", "runs_in_progress", "cost_by", "workspaces")
def test_a8_answers_work_without_a_grant_on_system_access(world: World) -> None:
    w = worlds.billing(worlds.runs_account(world))
    named = queries.failing_jobs(w.wh, now=NOW, since=worlds.SINCE)
    assert named[0].workspace_name == "prod"  # the optional lookup, when readable
    assert named[0].workspace_url == "https://prod.cloud.databricks.com"
    by_ws = queries.cost_by(w.wh, since=worlds.SINCE, until=NOW, group_by=CostGroup.WORKSPACE)
    assert [r.label for r in by_ws] == ["prod", "staging"]
    # No grant on system.access: the table cannot be read at all.
    w.con.execute("DROP TABLE access.workspaces_latest")
    rows = queries.failing_jobs(w.wh, now=NOW, since=worlds.SINCE)
    assert [(r.job_id, r.workspace_name, r.workspace_url) for r in rows] == [
        ("100", None, None),
        ("100", None, None),
    ]
    assert queries.job_lookup(w.wh, "nightly_sales")[0].workspace_name is None
    assert queries.runs_in_progress(w.wh, now=NOW)[0].workspace_name is None
    by_ws = queries.cost_by(w.wh, since=worlds.SINCE, until=NOW, group_by=CostGroup.WORKSPACE)
    assert [r.label for r in by_ws] == ["1", "2"]  # ids instead of names
    assert queries.workspace_names(w.wh) == {}


def test_a8_only_the_optional_lookup_reads_system_access() -> None:
    readers = {n for n in sql.query_names() if "system.access." in sql.load(n).text}
    assert readers <= {"workspaces", "probe_access_workspaces_latest"}, readers


_API_SPELLINGS = re.compile(r"'(TIMEDOUT|CANCELED|SUCCESS|INTERNAL_ERROR)'")


def test_system_table_state_spellings_only() -> None:
    """The system tables spell states TIMED_OUT, CANCELLED, SUCCEEDED (the Jobs API says
    TIMEDOUT, CANCELED, SUCCESS); a query comparing with an API spelling never matches."""
    wrong = {n: _API_SPELLINGS.findall(sql.load(n).text) for n in sql.query_names()}
    assert {n: found for n, found in wrong.items() if found} == {}
