"""When a report is due: today's slot of its cron in the configured zone (DST included), and
nothing before it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.service.reports.schedule import last_slot_today, local_day_window

AMS = ZoneInfo("Europe/Amsterdam")


def test_the_slot_is_today_after_nine_local():
    assert last_slot_today("0 9 * * *", AMS, datetime(2026, 3, 3, 7, 59, tzinfo=UTC)) is None
    slot = last_slot_today("0 9 * * *", AMS, datetime(2026, 3, 3, 8, 0, tzinfo=UTC))
    assert slot is not None and slot.day == date(2026, 3, 3)
    assert slot.at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    # Late means more than ten minutes after the slot.
    assert not slot.late_at(datetime(2026, 3, 3, 8, 10, tzinfo=UTC))
    assert slot.late_at(datetime(2026, 3, 3, 10, 0, tzinfo=UTC))
    # Just before local midnight it is still today's slot; just after, none yet.
    assert last_slot_today("0 9 * * *", AMS, datetime(2026, 3, 3, 22, 59, tzinfo=UTC)).day == (
        date(2026, 3, 3)
    )
    assert last_slot_today("0 9 * * *", AMS, datetime(2026, 3, 3, 23, 0, tzinfo=UTC)) is None


def test_summer_time_moves_the_slot_and_the_day():
    # 29 Mar 2026: clocks go 02:00 → 03:00 in Amsterdam; 09:00 local is 07:00 UTC.
    slot = last_slot_today("0 9 * * *", AMS, datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert slot is not None and slot.at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    start, end = local_day_window(date(2026, 3, 29), AMS)
    assert (start, end) == (
        datetime(2026, 3, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 29, 22, tzinfo=UTC),
    )  # a 23-hour day


def test_weekly_fires_on_mondays_only_and_twice_a_day_takes_the_latest():
    monday, tuesday = datetime(2026, 3, 9, 12, tzinfo=UTC), datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert last_slot_today("0 9 * * mon", AMS, monday) is not None
    assert last_slot_today("0 9 * * mon", AMS, tuesday) is None
    assert last_slot_today("0 9 * * 1", AMS, monday) is not None  # cron counts Sunday = 0
    slot = last_slot_today("0 9,12 * * *", AMS, monday)
    assert slot is not None and slot.at == datetime(2026, 3, 9, 11, tzinfo=UTC)
