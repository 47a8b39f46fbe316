"""Leases: of two replicas one holds the poller; it renews, releases, or loses it by the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.clock import FixedClock
from bot.store import Store
from tests.store.conftest import START
from tests.store.racing import race

TTL = timedelta(seconds=30)


def test_one_holder_at_a_time_until_it_expires(store: Store, clock: FixedClock) -> None:
    assert store.leases.acquire("poller", "replica-a", TTL)
    assert not store.leases.acquire("poller", "replica-b", TTL)
    assert store.leases.holder("poller") == "replica-a"
    clock.set(START + timedelta(seconds=20))
    assert store.leases.acquire("poller", "replica-a", TTL)  # renewed to 09:00:50
    clock.set(START + timedelta(seconds=40))
    assert not store.leases.acquire("poller", "replica-b", TTL)
    clock.set(START + timedelta(seconds=50))
    assert store.leases.acquire("poller", "replica-b", TTL)
    assert store.leases.holder("poller") == "replica-b"
    assert not store.leases.acquire("poller", "replica-a", TTL)


def test_release_hands_over_at_once(store: Store) -> None:
    assert store.leases.acquire("digest", "replica-a", TTL)
    assert not store.leases.release("digest", "replica-b")
    assert store.leases.release("digest", "replica-a")
    assert store.leases.holder("digest") is None
    assert store.leases.acquire("digest", "replica-b", TTL)


def test_racing_replicas_one_gets_the_lease(open_store: Callable[[], Store]) -> None:
    replicas = [open_store() for _ in range(4)]
    won = race(8, lambda i: replicas[i % 4].leases.acquire("poller", f"replica-{i}", TTL))
    assert won.count(True) == 1
    assert replicas[0].leases.holder("poller") == f"replica-{won.index(True)}"
