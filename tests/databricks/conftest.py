"""Fixtures: a world on a fixed clock, its local Databricks, and real SDK clients for it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.clock import Clock as SdkClock
from databricks.sdk.core import Config

from bot.clock import FixedClock
from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.workspace import DatabricksWorkspace

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class SleeplessClock(SdkClock):
    """The SDK's retry clock without real sleeps: records each wait and moves time on."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def world(clock: FixedClock) -> World:
    return World(clock)


@pytest.fixture
def ws(world: World) -> DatabricksWorkspace:
    return world.add_workspace("analytics")


@pytest.fixture
def server(world: World, ws: DatabricksWorkspace) -> Iterator[LocalDatabricks]:
    local = LocalDatabricks(world)
    local.start()
    yield local
    local.stop()
    assert not [t for t in threading.enumerate() if t.name == "databricks-sandbox"]


Client = Callable[..., WorkspaceClient]


@pytest.fixture
def client(server: LocalDatabricks, ws: DatabricksWorkspace) -> Client:
    """`client(oauth=False, **config)`: a real WorkspaceClient with small retry budgets."""

    def make(
        workspace_id: int | None = None, *, oauth: bool = False, **extra: object
    ) -> WorkspaceClient:
        kwargs: dict[str, Any] = {"retry_timeout_seconds": 10, "http_timeout_seconds": 5}
        kwargs.update(server.sdk_kwargs(workspace_id or ws.workspace_id, oauth=oauth))
        kwargs.update(extra)
        return WorkspaceClient(config=Config(**kwargs))

    return make


@pytest.fixture
def w(client: Client) -> WorkspaceClient:
    return client()
