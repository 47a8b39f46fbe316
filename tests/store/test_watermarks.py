"""Watermarks: where each watcher got to, per workspace; advanced by one replica at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.clock import FixedClock
from bot.store import Store
from tests.store.conftest import START
from tests.store.racing import race


def test_set_and_get_per_watcher_and_workspace(store: Store, clock: FixedClock) -> None:
    assert store.watermarks.get("failures", "1001") is None
    first = store.watermarks.set("failures", {"end_time": "2026-03-02T09:00:00Z"}, "1001")
    store.watermarks.set("failures", {"end_time": "2026-03-01T00:00:00Z"}, "2002")
    clock.set(START + timedelta(seconds=30))
    second = store.watermarks.set("failures", {"end_time": "2026-03-02T09:00:30Z"}, "1001")
    assert second.version == first.version + 1
    got = store.watermarks.get("failures", "1001")
    assert got == second
    assert got is not None and got.updated_at == START + timedelta(seconds=30)
    other = store.watermarks.get("failures", "2002")
    assert other is not None and other.value == {"end_time": "2026-03-01T00:00:00Z"}
    assert store.watermarks.get("digest") is None


def test_compare_and_set_lets_one_replica_advance(open_store: Callable[[], Store]) -> None:
    replicas = [open_store() for _ in range(4)]
    start = replicas[0].watermarks.set("failures", {"n": 0}, "1001")
    wins = race(8, lambda i: replicas[i % 4].watermarks.compare_and_set(
        "failures", start, {"n": i}, "1001"
    ))  # fmt: skip
    assert wins.count(True) == 1
    final = replicas[0].watermarks.get("failures", "1001")
    assert final is not None and final.value == {"n": wins.index(True)}


def test_compare_and_set_from_nothing_creates_once(open_store: Callable[[], Store]) -> None:
    replicas = [open_store() for _ in range(2)]
    wins = race(4, lambda i: replicas[i % 2].watermarks.compare_and_set("digest", None, {"i": i}))
    assert wins.count(True) == 1
