"""Every store test runs twice: on a SQLite file and on a real PostgreSQL server (the one in
JOBS_BOT_TEST_POSTGRES_URL, else a throwaway cluster started once per session). Each test
gets an empty database (a fresh file; a fresh schema) and a stopped clock it moves itself."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.store import Store
from tests.support.postgres import PostgresUnavailable, fresh_schema, start_postgres

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    given = os.environ.get("JOBS_BOT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    try:
        server = start_postgres()
    except PostgresUnavailable as problem:
        # In CI a skipped engine would pass silently; there it must be a failure.
        if _in_ci():
            pytest.fail(f"PostgreSQL is required in CI (CI is set): {problem}")
        pytest.skip(f"no PostgreSQL for the store tests: {problem}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    server: str = request.getfixturevalue("postgres_server")
    with fresh_schema(server) as url:
        yield url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def open_store(store_url: str, clock: FixedClock) -> Iterator[Callable[[], Store]]:
    """Opens another Store on the test's database — another replica — closed at the end."""
    opened: list[Store] = []

    def open_one() -> Store:
        store = Store.open(store_url, clock)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()
