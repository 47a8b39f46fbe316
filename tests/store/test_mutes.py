"""Mutes as `/jobs mute` users see them: silenced until the time they chose (by the clock),
replaced by a newer mute, gone after `/jobs unmute`."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FixedClock
from bot.models import JobKey
from bot.store import Store
from tests.store.conftest import START

SALES = JobKey("1001", "42")
OTHER = JobKey("1001", "43")


def test_a_mute_holds_until_its_time_by_the_clock(store: Store, clock: FixedClock) -> None:
    until = START + timedelta(hours=2)
    mute = store.mutes.mute(SALES, "U_ANA", until, job_name="nightly_sales")
    assert (mute.muted_by, mute.until, mute.created_at, mute.job_name) == (
        "U_ANA",
        until,
        START,
        "nightly_sales",
    )
    assert store.mutes.active_mute(SALES) == mute
    assert store.mutes.active_mute(OTHER) is None
    clock.set(until - timedelta(seconds=1))
    assert store.mutes.active_mute(SALES) == mute
    clock.set(until)
    assert store.mutes.active_mute(SALES) is None
    assert store.mutes.active() == []


def test_muting_again_replaces_the_mute(store: Store, clock: FixedClock) -> None:
    store.mutes.mute(SALES, "U_ANA", START + timedelta(hours=2))
    clock.set(START + timedelta(minutes=10))
    newer = store.mutes.mute(SALES, "U_BEN", START + timedelta(hours=1))
    assert store.mutes.active_mute(SALES) == newer
    assert (newer.muted_by, newer.created_at) == ("U_BEN", START + timedelta(minutes=10))


def test_unmute_says_whether_there_was_a_mute(store: Store, clock: FixedClock) -> None:
    assert store.mutes.unmute(SALES) is None
    mute = store.mutes.mute(SALES, "U_ANA", START + timedelta(hours=1))
    assert store.mutes.unmute(SALES) == mute
    assert store.mutes.active_mute(SALES) is None
    store.mutes.mute(SALES, "U_ANA", START + timedelta(hours=1))
    clock.set(START + timedelta(hours=2))
    assert store.mutes.unmute(SALES) is None  # it had run out already


def test_active_mutes_are_listed_soonest_end_first(store: Store, clock: FixedClock) -> None:
    store.mutes.mute(SALES, "U_ANA", START + timedelta(hours=3))
    store.mutes.mute(OTHER, "U_ANA", START + timedelta(hours=1))
    assert [m.job_id for m in store.mutes.active()] == ["43", "42"]
    clock.set(START + timedelta(hours=2))
    assert [m.job_id for m in store.mutes.active()] == ["42"]
    assert store.mutes.purge_expired() == 1
