"""Every store test runs twice: on a SQLite file and on a real PostgreSQL server (the one in
JOBS_BOT_TEST_POSTGRES_URL, else a throwaway cluster started once per session). Each test
gets an empty database (a fresh file; a fresh schema) and a stopped clock it moves itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.store import Store
from tests.support.postgres import fresh_schema

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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
