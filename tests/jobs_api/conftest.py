"""Fixtures: a World on a fixed clock served by LocalDatabricks, and the fake timer the JobsApi
clients of tests/support/jobs_api.py run their retries on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.clock import FixedClock
from sandbox.databricks import LocalDatabricks, World
from tests.support.jobs_api import START, FakeTimer


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def world(clock: FixedClock) -> World:
    return World(clock)


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()


@pytest.fixture
def server(world: World) -> Iterator[LocalDatabricks]:
    # Workspaces are added by the tests; start() serves the ones added since, too.
    db = LocalDatabricks(world)
    yield db
    db.stop()
