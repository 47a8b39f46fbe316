"""Two replicas, one voice: of two bots on one store, one holds the scheduled-work lease and
does the polls and scans; when it dies (stops renewing) the other takes over within the ttl;
a clean stop hands over at once. On SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.scheduler import Every, Leadership, Scheduler
from bot.store import Store
from tests.support.postgres import fresh_schema

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_server")) as u:
        yield u


def test_one_leader_and_a_bounded_takeover(url: str) -> None:
    clock = FixedClock(START)
    a_store, b_store = Store.open(url, clock), Store.open(url, clock)
    try:
        a, b = Leadership(a_store.leases, ttl=30), Leadership(b_store.leases, ttl=30)
        assert a.renew() and not b.renew()
        clock.set(START + timedelta(seconds=20))
        assert a.renew() and not b.renew()  # renewed in time: still A's
        # A dies (no more renewals): B takes over once A's lease has run out, not before.
        clock.set(START + timedelta(seconds=45))
        assert not b.renew()
        clock.set(START + timedelta(seconds=51))
        assert b.renew() and b.held
        assert not a.renew() and not a.held  # A, back from the dead, stands by
        b.release()  # a clean stop hands over at once
        assert a.renew()
    finally:
        a_store.close()
        b_store.close()


def test_only_the_leader_runs_the_scheduled_work(tmp_path: Path) -> None:
    clock = FixedClock(START)
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}", clock)
    other = Leadership(store.leases, ttl=30)
    assert other.renew()  # another replica leads
    ran: list[str] = []
    mine = Leadership(store.leases, ttl=30)
    scheduler = Scheduler([Every("poll", 3600, lambda: ran.append("poll"))], leadership=mine)
    try:
        jobs = {j.name: j for j in scheduler._jobs}
        jobs["poll"].call()
        assert ran == [] and not mine.held  # standing by
        other.release()
        jobs["leader-lease"].call()
        jobs["poll"].call()
        assert ran == ["poll"] and mine.held
    finally:
        scheduler.stop()
        store.close()
