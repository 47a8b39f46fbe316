from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock, parse_instant


def test_parse_instant_accepts_z_and_offsets_and_naive_as_utc():
    assert parse_instant("2026-03-02T09:00Z") == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert parse_instant("2026-03-02T10:00+01:00") == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert parse_instant("2026-03-02 09:00") == datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_parse_instant_rejects_garbage_with_a_readable_message():
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        parse_instant("yesterday-ish")


def test_fixed_clock_moves_only_when_told():
    c = FixedClock(datetime(2026, 1, 1, 12))
    assert c.now() == datetime(2026, 1, 1, 12, tzinfo=UTC)
    c.set(datetime(2026, 1, 2, tzinfo=UTC))
    assert c.now().day == 2
