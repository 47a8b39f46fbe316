"""Fixtures for the query tests: a fresh in-memory embedded warehouse per test, wrapped so
each test's `@pytest.mark.covers("query_name")` claim is checked against what it really ran."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.warehouse import open_warehouse
from tests.support.warehouse import ProbeWarehouse
from tests.support.wh_world import World


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "covers(*names): the query files this test exercises")


@pytest.fixture
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    inner = open_warehouse(None)
    w = World(inner)
    rec = ProbeWarehouse(inner)
    w.wh = rec  # type: ignore[assignment]
    yield w
    claimed = {n for m in request.node.iter_markers("covers") for n in m.args}
    missing = claimed - rec.ran
    rec.close()
    assert not missing, f"test claims to cover {sorted(missing)} but never ran them"
