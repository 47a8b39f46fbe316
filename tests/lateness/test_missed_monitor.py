"""The pure missed-run decision: a due fire without a run is missed; a run that started (even
a little before the fire) covers it; paused, deleted and unscheduled jobs never are; the
system-table path waits until the run's first hourly slice could have been written; a DST
overlap is judged only after its second occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.monitors.missed import JobSchedule, MissedState, evaluate, judge_time
from bot.monitors.quartz import parse

GRACE = timedelta(minutes=15)
LAG = timedelta(minutes=30)
DAILY_2 = JobSchedule("0 0 2 * * ?", "Europe/Amsterdam", paused=False)
YESTERDAY = datetime(2026, 3, 1, 1, 0, 5, tzinfo=UTC)  # yesterday's 02:00 run started on time


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def api(job: JobSchedule, starts: list[datetime], now: str):
    return evaluate(job, starts, utc(now), grace=GRACE, source="api")


def test_missed_only_after_the_grace_period() -> None:
    # 02:00 Amsterdam in winter is 01:00 UTC.
    before = api(DAILY_2, [YESTERDAY], "2026-03-02 01:14")
    assert before.state is MissedState.OK and before.fire.wall.day == 1  # type: ignore[union-attr]
    status = api(DAILY_2, [YESTERDAY], "2026-03-02 01:15")
    assert status.state is MissedState.MISSED
    assert status.fire is not None and status.fire.earliest == utc("2026-03-02 01:00")
    assert status.judge_at == utc("2026-03-02 01:15")


def test_a_run_that_started_covers_the_fire_even_a_few_seconds_early() -> None:
    assert api(DAILY_2, [utc("2026-03-02 01:02")], "2026-03-02 01:20").state is MissedState.OK
    early = api(DAILY_2, [utc("2026-03-02 00:59:30")], "2026-03-02 01:20")
    assert early.state is MissedState.OK
    # Yesterday's run does not cover today's fire.
    assert api(DAILY_2, [utc("2026-03-01 01:01")], "2026-03-02 01:20").state is MissedState.MISSED


def test_paused_deleted_and_unscheduled_jobs_never_miss() -> None:
    now = "2026-03-02 05:00"
    paused = JobSchedule("0 0 2 * * ?", "Europe/Amsterdam", paused=True)
    deleted = JobSchedule("0 0 2 * * ?", "Europe/Amsterdam", paused=False, deleted=True)
    none = JobSchedule(None, None, paused=False)
    assert api(paused, [], now).state is MissedState.PAUSED
    assert api(deleted, [], now).state is MissedState.DELETED
    assert api(none, [], now).state is MissedState.NO_SCHEDULE


def test_a_bad_expression_is_named_not_alerted() -> None:
    status = api(JobSchedule("0 0 2 L * ?", "UTC", paused=False), [], "2026-03-02 05:00")
    assert status.state is MissedState.BAD_SCHEDULE and "L (last)" in (status.problem or "")
    bad_zone = JobSchedule("0 0 2 * * ?", "Mars/Olympus", paused=False)
    assert api(bad_zone, [], "2026-03-02 05:00").state is MissedState.BAD_SCHEDULE


def test_a_fire_before_the_last_settings_change_is_not_judged() -> None:
    job = JobSchedule("0 0 2 * * ?", "Europe/Amsterdam", False, changed_at=utc("2026-03-02 01:05"))
    assert api(job, [], "2026-03-02 03:00").state is MissedState.NOT_DUE


def test_tables_wait_until_the_first_slice_could_be_written() -> None:
    # Fire 01:00 UTC, grace to 01:15. A run that started at 01:14 shows in the table only once
    # its first slice (01:14 -> 02:00) is written, plus the table's lag: 02:30.
    fire = parse("0 0 2 * * ?").fires(
        "Europe/Amsterdam", utc("2026-03-02 00:00"), utc("2026-03-02 02:00")
    )[0]
    assert judge_time(fire, GRACE, "tables", LAG) == utc("2026-03-02 02:30")
    for now in ("2026-03-02 01:20", "2026-03-02 02:00", "2026-03-02 02:29"):
        status = evaluate(DAILY_2, [YESTERDAY], utc(now), grace=GRACE, source="tables",
                          table_lag=LAG)  # fmt: skip
        # Still judging yesterday's fire (covered): today's slice may not be written yet.
        assert status.state is MissedState.OK and status.fire.wall.day == 1, now  # type: ignore[union-attr]
    status = evaluate(DAILY_2, [YESTERDAY], utc("2026-03-02 02:30"), grace=GRACE,
                      source="tables", table_lag=LAG)  # fmt: skip
    assert status.state is MissedState.MISSED
    seen = evaluate(DAILY_2, [utc("2026-03-02 01:14")], utc("2026-03-02 02:30"), grace=GRACE,
                    source="tables", table_lag=LAG)  # fmt: skip
    assert seen.state is MissedState.OK


def test_spring_forward_night_expects_nothing_in_the_gap() -> None:
    job = JobSchedule("0 30 2 * * ?", "Europe/Amsterdam", paused=False)
    # 2026-03-29 02:30 does not exist in Amsterdam: with no run at all that night, nothing is
    # missed — the only fire judged is the 28th's, whose run started.
    on_28th = [utc("2026-03-28 01:30:10")]
    for now in ("2026-03-29 01:00", "2026-03-29 02:00", "2026-03-29 06:00"):
        status = api(job, on_28th, now)
        assert status.state is not MissedState.MISSED, now
        assert status.fire is None or status.fire.wall.day == 28
    # The next night is expected again, at 02:30 CEST = 00:30 UTC.
    assert api(job, [], "2026-03-30 00:45").state is MissedState.MISSED


def test_fall_back_night_judges_after_the_second_occurrence() -> None:
    job = JobSchedule("0 30 2 * * ?", "Europe/Amsterdam", paused=False)
    # 02:30 CEST = 00:30 UTC, 02:30 CET = 01:30 UTC. Not missed at 00:45 nor 01:40 ...
    assert api(job, [], "2026-10-25 00:45").fire.wall.day == 24  # type: ignore[union-attr]
    assert api(job, [], "2026-10-25 01:40").state is not MissedState.MISSED or (
        api(job, [], "2026-10-25 01:40").fire.wall.day == 24  # type: ignore[union-attr]
    )
    # ... a run at the first occurrence counts ...
    assert api(job, [utc("2026-10-25 00:31")], "2026-10-25 02:00").state is MissedState.OK
    # ... and with none at all it is missed from 01:45.
    status = api(job, [], "2026-10-25 01:45")
    assert status.state is MissedState.MISSED and status.fire.wall.day == 25  # type: ignore[union-attr]
