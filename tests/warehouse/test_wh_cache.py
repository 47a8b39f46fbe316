"""The in-process cache the composition root puts in front of the warehouse for workspace
names: one real query per TTL however many answers ask, copies handed out, failures and
every other query file not cached. On the real embedded warehouse, counted by a probe."""

from __future__ import annotations

import pytest

from bot.warehouse import open_warehouse
from bot.warehouse.cache import CachedQueries
from tests.support.warehouse import ProbeWarehouse


def test_names_are_read_once_per_ttl_and_the_rest_goes_through() -> None:
    probe = ProbeWarehouse(open_warehouse(None))
    now = [0.0]
    wh = CachedQueries(probe, {"workspaces": 60}, monotonic=lambda: now[0])
    first = wh.run("workspaces", {})
    first.append({"workspace_id": "x"})  # a caller's change does not reach the cache
    assert wh.run("workspaces", {}) == []
    assert probe.calls == ["workspaces"]
    now[0] = 61.0
    wh.run("workspaces", {})
    assert probe.calls == ["workspaces", "workspaces"]
    wh.run("job_lookup", {"needle": "x", "include_deleted": False})
    wh.run("job_lookup", {"needle": "x", "include_deleted": False})
    assert probe.calls.count("job_lookup") == 2


def test_a_failure_is_not_remembered() -> None:
    probe = ProbeWarehouse(open_warehouse(None), fail_with=ConnectionResetError("gone"))
    wh = CachedQueries(probe, {"workspaces": 60}, monotonic=lambda: 0.0)
    with pytest.raises(ConnectionResetError):
        wh.run("workspaces", {})
    probe.fail_with = None
    assert wh.run("workspaces", {}) == []
    assert probe.calls == ["workspaces", "workspaces"]
