"""Fixtures for the service tests: the shared demo account (tests/support/demo.py), hand-built
system-table rows loaded through the real loader, and the probe wrapper that counts queries (the
real DuckDB warehouse underneath, not a mock)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import load_config
from bot.service import CommandService
from bot.warehouse import Warehouse, open_warehouse
from bot.warehouse.loader import load_dir
from sandbox import DEMO_CONFIG
from tests.support.demo import END, Demo, demo_config
from tests.support.warehouse import ProbeWarehouse

WS = "1111111111111111"
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


def job_row(job_id: str, name: str, *, owner: str | None = "ana.silva@example.com") -> dict:
    return {
        "workspace_id": WS,
        "job_id": job_id,
        "name": name,
        "change_time": (END - timedelta(days=40)).isoformat(),
        "run_as_user_name": owner,
        "creator_user_name": owner,
        "tags": {},
    }


def run_row(
    job_id: str,
    run_id: str,
    *,
    ended_ago: timedelta,
    took: timedelta = timedelta(minutes=10),
    state: str | None = "SUCCEEDED",
    code: str | None = None,
) -> dict:
    end = END - ended_ago
    return {
        "workspace_id": WS,
        "job_id": job_id,
        "run_id": run_id,
        "period_start_time": (end - took).isoformat(),
        "period_end_time": end.isoformat(),
        "result_state": state,
        "termination_code": code or ("SUCCESS" if state == "SUCCEEDED" else None),
    }


def build_db(tmp_path: Path, jobs: list[dict], runs: list[dict]) -> str:
    """A warehouse file holding exactly these jobs and runs, loaded by the real loader."""
    folder = tmp_path / "tables"
    folder.mkdir(exist_ok=True)
    for table, rows in (
        ("system.lakeflow.jobs", jobs),
        ("system.lakeflow.job_run_timeline", runs),
        (
            "system.access.workspaces_latest",
            [{"workspace_id": WS, "workspace_name": "prod", "workspace_url": "https://x.example"}],
        ),
    ):
        with (folder / f"{table}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")
    db = str(tmp_path / "hand.duckdb")
    load_dir(folder, db)
    return db


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
