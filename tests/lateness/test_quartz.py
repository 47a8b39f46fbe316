"""The product's own Quartz evaluator: field syntax, Quartz's day-of-week numbering (1 =
Sunday), `?`, the seconds field, DST gaps and overlaps, clear refusals of L/W/#, and agreement
with the sandbox's independent translation to APScheduler on ordinary days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.monitors.quartz import QuartzError, parse, quartz_weekday
from sandbox.databricks.cron import QuartzSchedule

AMS = "Europe/Amsterdam"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def walls(expr: str, start: str, end: str, tz: str = "UTC") -> list[str]:
    return [f.wall.isoformat(sep=" ") for f in parse(expr).fires(tz, utc(start), utc(end))]


def test_daily_at_two_with_question_mark_and_seconds_field() -> None:
    assert walls("0 0 2 * * ?", "2026-03-02 00:00", "2026-03-04 00:00") == [
        "2026-03-02 02:00:00",
        "2026-03-03 02:00:00",
    ]
    assert walls("30 15 2 * * ?", "2026-03-02 00:00", "2026-03-03 00:00") == ["2026-03-02 02:15:30"]


def test_day_of_week_counts_from_sunday_as_one() -> None:
    # 2026-03-01 is a Sunday. "1" is Sunday in Quartz (it would be Monday in 5-field cron).
    assert quartz_weekday(datetime(2026, 3, 1).date()) == 1
    assert quartz_weekday(datetime(2026, 3, 7).date()) == 7
    days = walls("0 0 6 ? * 1", "2026-03-01 00:00", "2026-03-15 00:00")
    assert days == ["2026-03-01 06:00:00", "2026-03-08 06:00:00"]
    assert walls("0 0 6 ? * MON-FRI", "2026-03-01 00:00", "2026-03-08 00:00") == [
        f"2026-03-0{d} 06:00:00" for d in range(2, 7)
    ]
    assert walls("0 0 6 ? * 2-6", "2026-03-01 00:00", "2026-03-08 00:00") == walls(
        "0 0 6 ? * MON-FRI", "2026-03-01 00:00", "2026-03-08 00:00"
    )


def test_lists_ranges_steps_and_wrapping_ranges() -> None:
    cron = parse("0 */20 22-1 ? * FRI-MON")
    assert cron.minutes == {0, 20, 40}
    assert cron.hours == {22, 23, 0, 1}
    assert cron.weekdays == {6, 7, 1, 2}
    assert parse("0 5/15 * * * ?").minutes == {5, 20, 35, 50}
    assert parse("0 0 1,13 1 JAN,jul ? 2026").months == {1, 7}
    # The year field: only 2027 of the two and a half years.
    assert walls("0 0 0 1 JAN ? 2027", "2026-01-01 00:00", "2028-06-01 00:00") == [
        "2027-01-01 00:00:00"
    ]


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("0 0 2 L * ?", "L (last)"),
        ("0 0 2 15W * ?", "W (nearest weekday)"),
        ("0 0 2 ? * 6#3", "# (nth weekday)"),
        ("0 0 2 ? * 6L", "L (last)"),
        ("0 2 * * *", "6 or 7"),
        ("0 0 2 5 * MON", "both day-of-month and day-of-week"),
        ("0 0 25 * * ?", "out of range"),
        ("0 ? 2 * * ?", "only allowed"),
        ("0 0 2 * * ? 1800", "out of range"),
        ("0 0/0 2 * * ?", "bad step"),
    ],
)
def test_refuses_clearly(expr: str, why: str) -> None:
    with pytest.raises(QuartzError, match=r"(?i)" + why.replace("(", r"\(").replace(")", r"\)")):
        parse(expr)


def test_names_holding_l_or_w_are_not_mistaken_for_specials() -> None:
    assert parse("0 0 2 ? JUL WED").weekdays == {4}


def test_spring_forward_gap_is_not_expected_and_other_hours_move_by_the_offset() -> None:
    # Amsterdam, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that night.
    fires = parse("0 30 2 * * ?").fires(AMS, utc("2026-03-27 00:00"), utc("2026-03-31 00:00"))
    assert [f.wall.day for f in fires] == [27, 28, 30]
    assert fires[0].earliest == utc("2026-03-27 01:30")  # CET, UTC+1
    assert fires[-1].earliest == utc("2026-03-30 00:30")  # CEST, UTC+2
    hourly = parse("0 0 * * * ?").fires(AMS, utc("2026-03-29 00:00"), utc("2026-03-29 03:00"))
    assert [f.wall.hour for f in hourly] == [1, 3, 4]  # no 02:00 that night


def test_fall_back_overlap_is_one_fire_spanning_both_occurrences() -> None:
    # Amsterdam, 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
    fires = parse("0 30 2 * * ?").fires(AMS, utc("2026-10-24 12:00"), utc("2026-10-26 12:00"))
    assert len(fires) == 2
    overlap = fires[0]
    assert overlap.wall == datetime(2026, 10, 25, 2, 30)
    assert overlap.earliest == utc("2026-10-25 00:30")  # 02:30 CEST
    assert overlap.latest == utc("2026-10-25 01:30")  # 02:30 CET
    assert fires[1].earliest == fires[1].latest == utc("2026-10-26 01:30")


@pytest.mark.parametrize(
    "expr",
    ["0 0 2 * * ?", "0 15 */4 * * ?", "0 0 6 ? * MON-FRI", "0 45 7 ? * 1,7", "0 0 9 1,15 * ?"],
)
def test_agrees_with_the_sandbox_translation_on_ordinary_days(expr: str) -> None:
    start = utc("2026-04-01 00:00")  # three weeks with no DST change in Amsterdam
    ours = [f.earliest for f in parse(expr).fires(AMS, start, start + timedelta(days=21))]
    theirs = []
    probe = start - timedelta(seconds=1)
    reference = QuartzSchedule(expr, AMS)
    while (nxt := reference.next_after(probe)) is not None and nxt < start + timedelta(days=21):
        theirs.append(nxt)
        probe = nxt
    assert ours == theirs and ours
