"""Run-history queries against a hand-built account whose answers were worked out by hand.

The story (now = 2026-03-02 09:00 UTC, window = the 24 h before):
- workspace 1, job 100 "nightly_sales" (renamed from "sales_old"): r0 ok Feb 10 (30 min),
  r1 ok Mar 1 01-02, r2 FAILED Mar 1 09:00-09:30, r3 FAILED in three hourly slices across
  midnight (23:00 -> 01:30, state only on the last slice), r4 in progress since 08:00.
- workspace 2 reuses job id 100 ("other_job"): ok Feb 25, TIMED_OUT Feb 28, FAILED Mar 2 05:00.
- workspace 1 job 200: run r30 failed at 03:00, was repaired and succeeded at 04:00.
- workspace 1 job 400 failed at 06:00 and was deleted at 07:00.
- workspace 1 job 500: slices stopped Mar 1 20:00 with no terminal row (lost, not running).
- workspace 1 job 600: ok at 08:00; a failure ending 10:00 lies after now.
"""

from __future__ import annotations

import pytest

from bot.models import JobKey
from bot.warehouse import queries
from tests.support.wh_world import World, utc
from tests.support.worlds import runs_account, status_jobs

NOW = utc("2026-03-02 09:00")
SINCE = utc("2026-03-01 09:00")
JOB_100 = JobKey("1", "100")


@pytest.fixture
def account(world: World) -> World:
    return runs_account(world)


@pytest.mark.covers("failing_jobs")
def test_failing_jobs_streaks_workspaces_and_order(account: World) -> None:
    rows = queries.failing_jobs(account.wh, now=NOW, since=SINCE)
    got = [(r.workspace_id, r.job_id, r.name, r.streak, r.failures_in_window) for r in rows]
    # Same job id in two workspaces stays two jobs; ws1 wins on failures in window.
    # Job 200 (repaired to success), 400 (deleted), 500 and 600 are not failing.
    assert got == [("1", "100", "nightly_sales", 2, 2), ("2", "100", "other_job", 2, 1)]
    first, second = rows
    assert first.last_run_id == "r3"
    assert first.last_failure_time == utc("2026-03-02 01:30")
    assert first.termination_code == "RUN_EXECUTION_ERROR"  # only on the final slice
    assert first.runs_in_window == 2
    assert first.owner == "ana@x.com"  # tag of the latest SCD2 row, not the old one
    assert first.workspace_name == "prod"
    assert second.owner == "svc2@x.com"  # no owner tag -> run_as
    assert second.result_state == "FAILED"


@pytest.mark.covers("failing_jobs")
def test_failing_jobs_replays_the_past_with_at(account: World) -> None:
    # At 06:30 job 400 was not yet deleted, and r3's failure was the latest for job 100.
    rows = queries.failing_jobs(
        account.wh, now=utc("2026-03-02 06:30"), since=utc("2026-03-01 06:30")
    )
    assert {(r.workspace_id, r.job_id) for r in rows} == {("1", "100"), ("2", "100"), ("1", "400")}
    gone = next(r for r in rows if r.job_id == "400")
    assert gone.name == "gone"  # the rename at 07:00 had not happened yet
    # Before r2 ended (09:30 Mar 1) job 100's latest final run was r1, a success.
    early = queries.failing_jobs(account.wh, now=utc("2026-03-01 09:15"), since=SINCE)
    assert [(r.workspace_id, r.job_id) for r in early] == []


@pytest.mark.covers("job_lookup")
def test_job_lookup_by_id_exact_substring_fuzzy(account: World) -> None:
    by_id = queries.job_lookup(account.wh, "100")
    assert [(r.workspace_id, r.match_kind.value) for r in by_id] == [("1", "id"), ("2", "id")]

    exact = queries.job_lookup(account.wh, "NIGHTLY_SALES")
    assert [(r.job_id, r.match_kind.value) for r in exact] == [
        ("100", "exact"),
        ("200", "substring"),
    ]
    assert exact[0].score == 1.0 and exact[1].score < 1.0

    # An old SCD2 name finds the job under its name now, as renamed (exact names rank first).
    (renamed,) = queries.job_lookup_found(account.wh, "sales_old")
    assert (renamed.job_id, renamed.name, renamed.match_kind.value) == (
        "100",
        "nightly_sales",
        "renamed",
    )
    assert renamed.renamed_at == utc("2026-02-01 00:00") and renamed.owner == "ana@x.com"

    partial = queries.job_lookup(account.wh, "nightly_sale")
    assert [r.job_id for r in partial] == ["100", "200"]  # the shorter name matches more
    assert partial[0].score > partial[1].score

    typo = queries.job_lookup(account.wh, "nigthly_sales")
    assert [(r.job_id, r.match_kind.value) for r in typo] == [("100", "fuzzy")]


@pytest.mark.covers("job_lookup")
def test_job_lookup_deleted_only_when_asked(account: World) -> None:
    assert "400" not in {r.job_id for r in queries.job_lookup(account.wh, "sales")}
    with_deleted = queries.job_lookup(account.wh, "old_nightly", include_deleted=True)
    assert [(r.job_id, r.deleted) for r in with_deleted] == [("400", True)]
    gone = queries.job_lookup_found(account.wh, "old_nightly_sales")[0]
    assert (gone.job_id, gone.match_kind.value) == ("400", "exact")
    assert gone.deleted and gone.delete_time == utc("2026-03-02 07:00")


@pytest.mark.covers("job_recent_runs")
def test_recent_runs_slices_midnight_in_progress(account: World) -> None:
    runs = queries.job_recent_runs(account.wh, JOB_100, now=NOW, limit=3)
    assert [r.run_id for r in runs] == ["r4", "r3", "r2"]  # ws2's job 100 is not mixed in
    r4, r3, r2 = runs
    assert r4.in_progress and r4.result_state is None and r4.duration_seconds == 3600
    assert r3.start_time == utc("2026-03-01 23:00") and r3.end_time == utc("2026-03-02 01:30")
    assert r3.duration_seconds == 9000  # three slices summed
    assert (r3.result_state, r3.termination_code, r3.repairs) == (
        "FAILED",
        "RUN_EXECUTION_ERROR",
        0,
    )
    assert r2.failed and not r2.in_progress


@pytest.mark.covers("job_recent_runs")
def test_recent_runs_repaired_run(account: World) -> None:
    (run,) = queries.job_recent_runs(account.wh, JobKey("1", "200"), now=NOW)
    assert run.result_state == "SUCCEEDED"  # the last terminal row wins
    assert run.repairs == 1
    assert run.duration_seconds == 5400  # the 30 min gap before the repair is not counted


@pytest.mark.covers("job_run_stats")
def test_run_stats_rates_and_interpolated_percentiles(account: World) -> None:
    s = queries.job_run_stats(account.wh, JOB_100, now=NOW)
    assert (s.runs_7d, s.successes_7d, s.failures_7d) == (3, 1, 2)
    assert s.success_rate_7d == pytest.approx(1 / 3)
    assert (s.runs_30d, s.successes_30d, s.success_rate_30d) == (4, 2, 0.5)
    # Successful durations 1800 and 3600: percentile() interpolates (a discrete quantile
    # would say 1800).
    assert s.p50_seconds == pytest.approx(2700)
    assert s.p90_seconds == pytest.approx(3420)
    assert s.last_success_time == utc("2026-03-01 02:00")


@pytest.mark.covers("job_run_stats")
def test_run_stats_of_a_job_without_runs(account: World) -> None:
    s = queries.job_run_stats(account.wh, JobKey("2", "999"), now=NOW)
    assert (s.runs_30d, s.success_rate_7d, s.p90_seconds) == (0, None, None)


@pytest.mark.covers("job_duration_trend")
def test_duration_trend_by_end_day(account: World) -> None:
    points = queries.job_duration_trend(account.wh, JOB_100, now=NOW, days=3)
    got = [(str(p.day), p.runs, p.failures, p.median_seconds, p.max_seconds) for p in points]
    # r3 started Mar 1 but ended Mar 2: it belongs to Mar 2. r4 is unfinished.
    assert got == [("2026-03-01", 2, 1, 2700.0, 3600), ("2026-03-02", 1, 1, 9000.0, 9000)]


@pytest.mark.covers("runs_in_progress")
def test_runs_in_progress(account: World) -> None:
    rows = queries.runs_in_progress(account.wh, now=NOW)
    assert [(r.workspace_id, r.job_id, r.run_id) for r in rows] == [("1", "100", "r4")]
    (r4,) = rows
    assert r4.elapsed_seconds == 3600
    assert r4.p90_seconds == pytest.approx(3420)
    assert r4.over_p90 is True
    assert r4.name == "nightly_sales"
    # At 08:30 r4's first slice had not landed; r3 had already finished.
    assert queries.runs_in_progress(account.wh, now=utc("2026-03-02 08:30")) == []


@pytest.mark.covers("job_durations")
def test_job_durations_are_successful_runs_only(account: World) -> None:
    rows = {(r.workspace_id, r.job_id): r for r in queries.job_durations(account.wh, now=NOW)}
    # The in-progress and failed runs of job 100 do not count; its successful runs do.
    in_progress = queries.runs_in_progress(account.wh, now=NOW)[0]
    assert rows[("1", "100")].p90_seconds == pytest.approx(in_progress.p90_seconds)
    assert all(r.runs >= 1 and r.p50_seconds <= r.p90_seconds for r in rows.values())
    assert queries.job_durations(account.wh, now=utc("2025-01-01 00:00")) == []


@pytest.mark.covers("runs_ended")
def test_runs_ended_in_a_window_as_seen_at_now(account: World) -> None:
    day = queries.runs_ended(
        account.wh, now=NOW, since=utc("2026-03-01 00:00"), until=utc("2026-03-02 00:00")
    )
    assert day and all(utc("2026-03-01 00:00") <= r.end_time < utc("2026-03-02 00:00") for r in day)
    assert [r.end_time for r in day] == sorted(r.end_time for r in day)
    assert all(r.start_time is not None and r.start_time <= r.end_time for r in day)
    assert {r.result_state for r in day} <= {
        "SUCCEEDED",
        "FAILED",
        "TIMED_OUT",
        "ERROR",
        "CANCELLED",
    }
    named = [r for r in day if r.job_id == "100"]
    assert named and all(r.name == "nightly_sales" for r in named)
    # Nothing from after :now, even inside the window.
    early = queries.runs_ended(
        account.wh, now=utc("2026-03-01 03:00"), since=utc("2026-03-01 00:00"),
        until=utc("2026-03-02 00:00"),
    )  # fmt: skip
    assert all(r.end_time <= utc("2026-03-01 03:00") for r in early)
    assert len(early) < len(day)


@pytest.mark.covers("sla_inputs")
def test_sla_inputs_per_day(account: World) -> None:
    rows = [r for r in queries.sla_inputs(account.wh, now=NOW, days=2) if r.job_id == "100"]
    got = [
        (r.workspace_id, str(r.day), r.first_success_end_time, r.latest_start_time,
         r.runs_started, r.runs_finished, r.failures)
        for r in rows
    ]  # fmt: skip
    assert got == [
        ("1", "2026-03-01", utc("2026-03-01 02:00"), utc("2026-03-01 23:00"), 3, 2, 1),
        ("1", "2026-03-02", None, utc("2026-03-02 08:00"), 1, 1, 1),
        ("2", "2026-03-02", None, utc("2026-03-02 04:00"), 1, 1, 1),
    ]
    assert "400" not in {r.job_id for r in queries.sla_inputs(account.wh, now=NOW, days=2)}


@pytest.fixture
def status_world(world: World) -> World:
    return status_jobs(world)


@pytest.mark.covers("job_lookup")
def test_job_lookup_finds_a_former_name_through_the_scd2_history(status_world: World) -> None:
    found = queries.job_lookup_found(status_world.wh, "Invoice_Export")
    # The renamed job ranks above a job whose name merely contains the old one.
    assert [(r.job_id, r.name, r.match_kind.value) for r in found] == [
        ("700", "billing_export", "renamed"),
        ("750", "invoice_export_archive", "substring"),
    ]
    renamed = found[0]
    # The change after the last row named so (not the first one, nor the later edit).
    assert renamed.renamed_at == utc("2026-02-15 10:00")
    assert renamed.owner == "bo@x.com" and renamed.score < 1.0
    assert found[1].renamed_at is None
    # Its name now is an exact match with no rename, and so is a name it has again.
    (now,) = queries.job_lookup_found(status_world.wh, "billing_export")
    assert (now.match_kind.value, now.renamed_at) == ("exact", None)
    ab = queries.job_lookup_found(status_world.wh, "ab")
    assert [(r.job_id, r.match_kind.value, r.renamed_at) for r in ab][0] == ("730", "exact", None)
    (ab_v2,) = queries.job_lookup_found(status_world.wh, "ab_v2")
    assert (ab_v2.name, ab_v2.match_kind.value) == ("ab", "renamed")
    assert ab_v2.renamed_at == utc("2026-01-03 00:00")


@pytest.mark.covers("job_lookup")
def test_job_lookup_says_deleted_when_and_paused_from_the_latest_row(status_world: World) -> None:
    assert queries.job_lookup_found(status_world.wh, "legacy_sync", include_deleted=False) == []
    (gone,) = queries.job_lookup_found(status_world.wh, "legacy_sync")
    assert gone.deleted and gone.delete_time == utc("2026-02-27 12:00") and not gone.paused
    (paused,) = queries.job_lookup_found(status_world.wh, "weekly_rollup")
    assert paused.paused and not paused.deleted and paused.delete_time is None
    # The first row was not paused, and rows before Dec 2025 have NULL there: not paused.
    (by_id,) = queries.job_lookup_found(status_world.wh, "700")
    assert (by_id.match_kind.value, by_id.paused) == ("id", False)


@pytest.mark.covers("job_durations", "job_run_stats")
def test_usual_durations_match_the_status_p90_and_count_whole_runs(status_world: World) -> None:
    rows = {(r.workspace_id, r.job_id): r for r in queries.job_durations(status_world.wh, now=NOW)}
    stats = queries.job_run_stats(status_world.wh, JobKey("1", "760"), now=NOW)
    usual = rows[("1", "760")]
    # u1 started 31 days ago but ended within the 30: it counts whole (2 h), as it does in
    # the status p90; u0 ended 31 days ago and counts in neither.
    assert usual.runs == stats.successes_30d == 2
    assert usual.p50_seconds == pytest.approx(4500) == stats.p50_seconds
    assert usual.p90_seconds == pytest.approx(6660) == stats.p90_seconds
