"""Migrations as an operator meets them: applied once on first start even when two replicas
start together, nothing on later starts, exactly the schema the queries expect, no half-done
step, and a clear refusal of a database from a newer jobs-bot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pytest

from bot.clock import FixedClock
from bot.store import SchemaTooNew, Store, drift
from bot.store.database import Database
from bot.store.migrations import LATEST, STEPS, Step, current_version, migrate
from tests.store.racing import race


class _Ddl(Protocol):
    def exec_driver_sql(self, statement: str) -> object: ...


def test_a_fresh_database_gets_every_step_once_and_a_restart_none(
    store_url: str, clock: FixedClock
) -> None:
    db = Database(store_url)
    try:
        assert migrate(db, clock) == [step.version for step in STEPS]
        assert migrate(db, clock) == []
        assert current_version(db) == LATEST
    finally:
        db.dispose()


def test_the_migrated_database_is_what_schema_py_describes(store: Store) -> None:
    assert drift.differences(store.db) == []


def test_replicas_starting_together_apply_each_step_once(store_url: str, clock: FixedClock) -> None:
    databases = [Database(store_url) for _ in range(4)]
    try:
        applied = race(4, lambda i: migrate(databases[i], clock))
        assert sorted(applied) == [[], [], [], [step.version for step in STEPS]]
        assert current_version(databases[0]) == LATEST
    finally:
        for db in databases:
            db.dispose()


def test_stores_opening_a_fresh_database_together_all_work(
    open_store: Callable[[], Store],
) -> None:
    stores = race(4, lambda _: open_store())
    assert all(store.outbox.pending_count() == 0 for store in stores)


def test_a_failing_step_leaves_the_previous_version_intact(
    store_url: str, clock: FixedClock
) -> None:
    def half_done(conn: _Ddl) -> None:
        conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        raise RuntimeError("step 2 broke")

    db = Database(store_url)
    try:
        migrate(db, clock)
        with pytest.raises(RuntimeError, match="step 2 broke"):
            migrate(db, clock, [*STEPS, Step(LATEST + 1, "breaks", half_done)])
        assert current_version(db) == LATEST
        assert drift.differences(db) == []  # no half_done table left behind
    finally:
        db.dispose()


def test_a_database_from_a_newer_jobs_bot_is_refused(store_url: str, clock: FixedClock) -> None:
    db = Database(store_url)
    try:
        migrate(db, clock, [*STEPS, Step(LATEST + 1, "from the future", lambda conn: None)])
    finally:
        db.dispose()
    with pytest.raises(SchemaTooNew, match=f"schema version {LATEST + 1}"):
        Store.open(store_url, clock)
