"""SLA decisions around the deadline, hand-computed.

Main case: "succeeded by 07:00 Mon–Fri, Europe/Amsterdam". Monday 2 March 2026 is CET
(UTC+1), so the deadline is 06:00 UTC. The job's p90 duration is 45 minutes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.monitors.sla import DayRuns, SlaReason, SlaSpec, SlaState, evaluate, last_days

AMS = "Europe/Amsterdam"
MON = date(2026, 3, 2)
P90 = 45 * 60
SPEC = SlaSpec("deadline", deadline=time(7, 0), days=frozenset(range(5)), tz=AMS)


def utc(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC)


def at(now: datetime, *days: DayRuns, p90: float | None = P90, spec: SlaSpec = SPEC):
    return evaluate(spec, days, p90, now)


# --- deadline: before the start -----------------------------------------------------------


def test_not_started_with_time_to_spare_is_pending():
    status = at(utc(MON, 5, 0))  # 06:00 local; 06:00 + 45m = 06:45 < 07:00
    assert status.state is SlaState.PENDING
    assert status.deadline == utc(MON, 6, 0)
    assert status.reason is SlaReason.NOT_STARTED and status.last_result is None


def test_not_started_when_now_plus_p90_passes_the_deadline_is_at_risk():
    status = at(utc(MON, 5, 20))  # 06:20 + 45m = 07:05 > 07:00
    assert status.state is SlaState.AT_RISK
    assert status.expected_finish == utc(MON, 6, 5)
    assert status.reason is SlaReason.NOT_RUNNING and status.p90 == timedelta(minutes=45)


def test_exactly_on_time_is_still_pending():
    assert at(utc(MON, 5, 15)).state is SlaState.PENDING  # 06:15 + 45m = 07:00, not after


def test_without_duration_history_a_missing_start_is_only_pending():
    assert at(utc(MON, 5, 50), p90=None).state is SlaState.PENDING


# --- deadline: running ---------------------------------------------------------------------


def test_running_and_expected_before_the_deadline_is_pending():
    runs = DayRuns(MON, running_starts=(utc(MON, 5, 10),))
    status = at(utc(MON, 5, 12), runs)
    assert status.state is SlaState.PENDING
    assert status.expected_finish == utc(MON, 5, 55)


def test_running_with_p90_beyond_the_deadline_is_at_risk_even_early():
    runs = DayRuns(MON, running_starts=(utc(MON, 5, 20),))
    status = at(utc(MON, 5, 21), runs)  # start 06:20 local + 45m = 07:05
    assert status.state is SlaState.AT_RISK and status.reason is SlaReason.RUNNING
    assert status.running_since == utc(MON, 5, 20) and status.expected_finish == utc(MON, 6, 5)


def test_running_without_p90_is_pending():
    runs = DayRuns(MON, running_starts=(utc(MON, 5, 50),))
    assert at(utc(MON, 5, 55), runs, p90=None).state is SlaState.PENDING


def test_a_run_started_before_midnight_still_running_counts():
    sunday = DayRuns(date(2026, 3, 1), running_starts=(utc(MON, 4, 0) - timedelta(hours=6),))
    status = at(utc(MON, 4, 0), sunday, p90=3600 * 9)  # 23:00 local Sun + 9h = 08:00 Mon
    assert status.state is SlaState.AT_RISK


# --- deadline: met, late, breached ---------------------------------------------------------


def test_success_before_the_deadline_is_met():
    runs = DayRuns(MON, first_success_end=utc(MON, 5, 50))
    status = at(utc(MON, 9, 0), runs)
    assert status.state is SlaState.MET and status.reason is SlaReason.SUCCEEDED
    assert status.succeeded_at == utc(MON, 5, 50) and status.late_by is None


def test_success_exactly_at_the_deadline_is_met():
    assert at(utc(MON, 9, 0), DayRuns(MON, first_success_end=utc(MON, 6, 0))).state is SlaState.MET


def test_success_after_the_deadline_is_met_late_with_how_late():
    runs = DayRuns(MON, first_success_end=utc(MON, 6, 25))
    status = at(utc(MON, 9, 0), runs)
    assert status.state is SlaState.MET_LATE
    assert status.late_by == timedelta(minutes=25)
    assert status.reason is SlaReason.SUCCEEDED and status.succeeded_at == utc(MON, 6, 25)


def test_at_the_deadline_without_success_is_breached():
    status = at(utc(MON, 6, 0))
    assert status.state is SlaState.BREACHED
    assert status.late_by == timedelta(0)
    assert at(utc(MON, 5, 59, 59)).state is SlaState.AT_RISK


def test_breached_says_the_last_run_failed():
    runs = DayRuns(MON, last_start=utc(MON, 4), last_end=utc(MON, 4, 30), last_result="FAILED")
    status = at(utc(MON, 6, 40), runs)
    assert status.state is SlaState.BREACHED
    assert status.late_by == timedelta(minutes=40)
    assert status.reason is SlaReason.NO_SUCCESS and status.last_result == "FAILED"


def test_running_past_the_deadline_is_breached_not_at_risk():
    runs = DayRuns(MON, running_starts=(utc(MON, 5, 30),))
    assert at(utc(MON, 6, 10), runs).state is SlaState.BREACHED


def test_a_weekend_day_is_not_applicable():
    saturday = date(2026, 3, 7)
    status = at(utc(saturday, 9, 0))
    assert status.state is SlaState.NOT_APPLICABLE and status.deadline is None


# --- DST in Amsterdam ----------------------------------------------------------------------


def test_deadline_moves_to_05_utc_in_summer_time():
    monday = date(2026, 3, 30)  # CEST, UTC+2
    runs = DayRuns(monday, first_success_end=utc(monday, 5, 30))  # 07:30 local
    status = at(utc(monday, 8, 0), runs)
    assert status.deadline == utc(monday, 5, 0)
    assert status.state is SlaState.MET_LATE and status.late_by == timedelta(minutes=30)


def test_on_the_spring_forward_day_itself():
    every_day = SlaSpec("deadline", deadline=time(7, 0), tz=AMS)
    sunday = date(2026, 3, 29)  # clocks jump 02:00 → 03:00; 07:00 is already CEST
    status = evaluate(every_day, [], P90, utc(sunday, 4, 30))
    assert status.deadline == utc(sunday, 5, 0)
    assert status.state is SlaState.AT_RISK  # 06:30 CEST + 45m = 07:15


def test_a_deadline_inside_the_spring_gap_lands_after_it():
    gap = SlaSpec("deadline", deadline=time(2, 30), tz=AMS)
    sunday = date(2026, 3, 29)
    status = evaluate(gap, [], None, utc(sunday, 0, 0))
    assert status.deadline == utc(sunday, 1, 30)  # 03:30 CEST


def test_on_the_fall_back_day():
    every_day = SlaSpec("deadline", deadline=time(7, 0), tz=AMS)
    sunday = date(2026, 10, 25)  # back to CET: 07:00 = 06:00 UTC
    assert evaluate(every_day, [], P90, utc(sunday, 1, 0)).deadline == utc(sunday, 6, 0)


# --- last 7 days ---------------------------------------------------------------------------


def test_last_seven_days_as_ticks():
    now = utc(date(2026, 3, 10), 5, 0)  # Tuesday 06:00 local, before today's deadline
    history = [
        DayRuns(date(2026, 3, 4), first_success_end=utc(date(2026, 3, 4), 5, 0)),  # Wed ✓
        DayRuns(date(2026, 3, 5), first_success_end=utc(date(2026, 3, 5), 6, 30)),  # Thu late
        # Fri 6 March: no run at all → ✗
        DayRuns(date(2026, 3, 7), first_success_end=utc(date(2026, 3, 7), 5, 0)),  # Sat: n/a
        DayRuns(date(2026, 3, 9), first_success_end=utc(date(2026, 3, 9), 5, 59)),  # Mon ✓
    ]
    # Wed, Thu, Fri, Sat, Sun, Mon, Tue(today, pending)
    assert last_days(SPEC, history, P90, now) == [True, False, False, None, None, True, None]


# --- max duration --------------------------------------------------------------------------

LIMIT = SlaSpec("max_duration", max_minutes=90, tz=AMS)


def test_max_duration_running_within_limit_and_usual_time_is_pending():
    runs = DayRuns(MON, running_starts=(utc(MON, 8),))
    status = at(utc(MON, 8, 30), runs, p90=3600, spec=LIMIT)
    assert status.state is SlaState.PENDING and status.deadline == utc(MON, 9, 30)


def test_max_duration_running_with_p90_over_the_limit_is_at_risk():
    runs = DayRuns(MON, running_starts=(utc(MON, 8),))
    status = at(utc(MON, 8, 30), runs, p90=100 * 60, spec=LIMIT)
    assert status.state is SlaState.AT_RISK and status.expected_finish == utc(MON, 9, 40)


def test_max_duration_running_at_the_limit_is_breached():
    runs = DayRuns(MON, running_starts=(utc(MON, 8),))
    status = at(utc(MON, 9, 30), runs, p90=3600, spec=LIMIT)
    assert status.state is SlaState.BREACHED and status.reason is SlaReason.RUNNING_FOR
    assert status.elapsed == timedelta(minutes=90) and status.limit == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("minutes", "result", "state", "late"),
    [
        (80, "SUCCEEDED", SlaState.MET, None),
        (90, "SUCCEEDED", SlaState.MET, None),
        (100, "SUCCEEDED", SlaState.MET_LATE, timedelta(minutes=10)),
        (100, "FAILED", SlaState.BREACHED, timedelta(minutes=10)),
    ],
)
def test_max_duration_finished_runs(minutes, result, state, late):
    start = utc(MON, 1)
    runs = DayRuns(
        MON, last_start=start, last_end=start + timedelta(minutes=minutes), last_result=result
    )
    status = at(utc(MON, 9), runs, spec=LIMIT)
    assert status.state is state and status.late_by == late


def test_max_duration_without_a_run():
    assert at(utc(MON, 9), spec=LIMIT).state is SlaState.PENDING
    assert evaluate(LIMIT, [], P90, utc(MON, 9), date(2026, 3, 1)).state is SlaState.NOT_APPLICABLE


# --- freshness -----------------------------------------------------------------------------

FRESH = SlaSpec("freshness", every_hours=6, tz="UTC")


def test_freshness_met_at_risk_breached():
    runs = DayRuns(MON, first_success_end=utc(MON, 2))
    met = at(utc(MON, 7), runs, p90=1800, spec=FRESH)  # due 08:00; 07:00 + 30m fits
    assert met.state is SlaState.MET and met.deadline == utc(MON, 8)
    assert at(utc(MON, 7, 45), runs, p90=1800, spec=FRESH).state is SlaState.AT_RISK
    breached = at(utc(MON, 8), runs, p90=1800, spec=FRESH)
    assert breached.state is SlaState.BREACHED and breached.late_by == timedelta(0)


def test_freshness_running_run_that_will_land_in_time_is_met():
    runs = DayRuns(MON, first_success_end=utc(MON, 2), running_starts=(utc(MON, 7, 40),))
    assert at(utc(MON, 7, 45), runs, p90=600, spec=FRESH).state is SlaState.MET


def test_freshness_without_any_success_is_breached():
    assert at(utc(MON, 7), spec=FRESH).state is SlaState.BREACHED


def test_freshness_history_finds_gaps_inside_each_day():
    d1, d2, d3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    history = [
        DayRuns(d1, success_ends=(utc(d1, 0), utc(d1, 6), utc(d1, 12), utc(d1, 18))),
        DayRuns(d2, success_ends=(utc(d2, 0), utc(d2, 6), utc(d2, 14))),  # 06 → 14: gap
        DayRuns(d3, success_ends=(utc(d3, 2), utc(d3, 8))),
    ]
    now = utc(d3, 9)
    # …, Feb 28 (no success before: unknown), Mar 1 ✓, Mar 2 ✗ (gap; and 14:00→02:00 next),
    # Mar 3 (today): last success 08:00, due 14:00 → met.
    assert last_days(FRESH, history, 600, now, n=4) == [None, True, False, True]


def test_bad_specs_are_refused():
    with pytest.raises(ValueError):
        SlaSpec("deadline")
    with pytest.raises(ValueError):
        SlaSpec("freshness", every_hours=None)
    with pytest.raises(ValueError):
        SlaSpec("weekly", deadline=time(7))  # type: ignore[arg-type]
