"""Fixtures of the cost-alert tests: the config of tests/support/proactive.py, the embedded
warehouse with hand-built rows (tests/support/wh_world.py) priced at 1.00 a DBU, the real store on
SQLite and the injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Config
from bot.render import Renderer
from bot.store import Store
from bot.warehouse import open_warehouse
from tests.support.proactive import JOBS_SKU, NOON, make_config
from tests.support.wh_world import World


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOON)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def renderer(config: Config, clock: FixedClock) -> Renderer:
    return Renderer(tz=config.timezone, currency=config.cost.currency, clock=clock)


@pytest.fixture
def store(tmp_path: Path, clock: FixedClock) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock)
    yield opened
    opened.close()


@pytest.fixture
def world() -> Iterator[World]:
    wh = open_warehouse(None)
    w = World(wh)  # type: ignore[arg-type]
    w.price(JOBS_SKU, "1.00", "2025-01-01 00:00")
    yield w
    wh.close()
