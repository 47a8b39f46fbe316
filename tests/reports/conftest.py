"""Fixtures for the report tests: the hand-built account (tests/support/report_account.py) in a real
embedded warehouse, a state store on a SQLite file, the injected clock, and a config that
routes like the demo's (finance by tag, ML by name pattern, the rest to the default)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Config, load_config
from bot.render import Renderer
from bot.service.reports.digest import Digests
from bot.service.reports.weekly import WeeklyReports
from bot.store import Store
from bot.warehouse import open_warehouse
from tests.support import report_account
from tests.support.wh_world import World

CONFIG = """
timezone: Europe/Amsterdam
warehouse: {embedded: {path: ":memory:"}}
workspaces:
  - {id: "1", name: prod, host: "https://prod.cloud.databricks.com"}
slack:
  default_channel: "#data-alerts"
  channels: {finance: "#finance-data", ml: "#ml-platform"}
routing:
  - {tag: {team: finance-data}, channel: finance}
  - {name_pattern: "ml_*", channel: ml}
slas:
  - {job: {name: nightly_sales}, deadline: "06:00", timezone: UTC}
  - {job: {name: etl_core}, deadline: "12:30", timezone: UTC}
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "jobs-bot.yml"
    path.write_text(CONFIG)
    return load_config(str(path), env={})


@pytest.fixture
def world() -> Iterator[World]:
    wh = open_warehouse(None)
    w = World(wh)
    report_account.build(w)
    yield w
    wh.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(report_account.NINE)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def open_store(store_url: str, clock: FixedClock) -> Iterator[Callable[[], Store]]:
    """A new Store on the test's database each call: a restarted bot, or a second replica."""
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


@pytest.fixture
def renderer(config: Config, clock: FixedClock) -> Renderer:
    return Renderer(tz=config.timezone, currency=config.cost.currency, clock=clock)


@pytest.fixture
def digests(config, clock, renderer, store, world) -> Digests:
    return Digests(config=config, clock=clock, renderer=renderer, store=store, warehouse=world.wh)


@pytest.fixture
def weekly(config, clock, renderer, store, world) -> WeeklyReports:
    return WeeklyReports(
        config=config, clock=clock, renderer=renderer, store=store, warehouse=world.wh
    )
