"""A whole deployment on this machine, for `jobs-bot doctor`: the local Slack, a local
Databricks workspace, an embedded warehouse file, a migrated SQLite store, and the config file
and environment that tie them together."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.clock import FixedClock
from bot.jobs_api import JobsApiSettings
from bot.store import Store
from bot.warehouse import open_warehouse
from sandbox.databricks import LocalDatabricks, World
from sandbox.slack.driver import SlackSandbox

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
# Short bounds: a workspace that is down answers "connection refused" at once, but the SDK
# retries that until its bound.
FAST = JobsApiSettings(
    background_seconds=4, interactive_seconds=3, http_timeout_seconds=2, probe_seconds=1
)


@dataclass
class Deployment:
    slack: SlackSandbox
    databricks: LocalDatabricks
    workspace_id: int
    tmp: Path
    config: dict = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def warehouse_path(self) -> Path:
        return self.tmp / "warehouse.duckdb"

    def write(self) -> str:
        path = self.tmp / "jobs-bot.yml"
        path.write_text(yaml.safe_dump(self.config), encoding="utf-8")
        return str(path)

    def diagnose(self) -> list:
        from bot.doctor import diagnose

        return diagnose(
            self.write(), env=self.env, manifest=ROOT / "manifest.yml", jobs_api_settings=FAST
        )


@pytest.fixture
def slack() -> Iterator[SlackSandbox]:
    with SlackSandbox() as sb:
        yield sb


@pytest.fixture
def databricks() -> Iterator[tuple[LocalDatabricks, int]]:
    world = World(FixedClock(START))
    ws = world.add_workspace("analytics")
    server = LocalDatabricks(world)
    server.start()
    yield server, ws.workspace_id
    server.stop()


@pytest.fixture
def deployment(
    slack: SlackSandbox, databricks: tuple[LocalDatabricks, int], tmp_path: Path
) -> Deployment:
    server, ws_id = databricks
    d = Deployment(slack, server, ws_id, tmp_path)
    open_warehouse(str(d.warehouse_path)).close()  # every system table, empty
    state = f"sqlite:///{tmp_path / 'state.db'}"
    Store.open(state, FixedClock(START)).close()  # migrated
    d.config = {
        "warehouse": {"embedded": {"path": str(d.warehouse_path)}},
        "workspaces": [{"id": str(ws_id), "name": "analytics", "host": server.url(ws_id)}],
        "slack": {
            "mode": "socket",
            "api_url": slack.api_url,
            "default_channel": "#data-alerts",
            "channels": {"finance": "C07FINANCE", "oncall": "#platform-oncall"},
        },
        "state": {"url": state},
    }
    d.env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "DATABRICKS_TOKEN": server.token(ws_id),
    }
    return d
