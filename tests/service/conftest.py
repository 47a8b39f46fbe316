"""Fixtures for the service tests: the shared demo account (tests/support/demo.py), hand-built
system-table rows loaded through the real loader (tests/support/system_rows.py), and the probe
wrapper that counts queries (the real DuckDB warehouse underneath, not a mock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import load_config
from bot.service import CommandService
from bot.warehouse import Warehouse, open_warehouse
from sandbox import DEMO_CONFIG
from tests.support.demo import END, Demo, demo_config
from tests.support.system_rows import build_db
from tests.support.warehouse import ProbeWarehouse

EVIL = "<!channel> *boom* <http://evil|click> &amp;"


@pytest.fixture
def demo_service(demo: Demo) -> Callable[..., CommandService]:
    opened: list[Warehouse] = []

    def make(at: datetime = END) -> CommandService:
        wh = ProbeWarehouse(open_warehouse(demo[0]))
        opened.append(wh)
        return CommandService(wh, demo_config(demo[1]), FixedClock(at))

    yield make
    for wh in opened:
        wh.close()


@pytest.fixture
def hand_service(tmp_path: Path) -> Callable[..., tuple[CommandService, ProbeWarehouse]]:
    opened: list[Warehouse] = []

    def make(jobs: list[dict], runs: list[dict]) -> tuple[CommandService, ProbeWarehouse]:
        wh = ProbeWarehouse(open_warehouse(build_db(tmp_path, jobs, runs)))
        opened.append(wh)
        return CommandService(wh, load_config(DEMO_CONFIG), FixedClock(END)), wh

    yield make
    for wh in opened:
        wh.close()
