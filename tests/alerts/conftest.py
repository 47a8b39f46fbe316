"""The alert stack for these tests: the bot built by bot.wiring in watch mode — the real
JobsApi against the local Databricks, the real store, notifier and WebClient — in front of
the sandbox Slack, with time and polls driven by the test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.config import load_config
from bot.store import Store
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.databricks import World
from sandbox.databricks.server import LocalDatabricks
from sandbox.slack.driver import SlackSandbox
from tests.support.jobs_api import START, make_api, workspace_config

WS = 4242


@dataclass
class Live:
    sb: SlackSandbox
    world: World
    clock: FixedClock
    bot: wiring.Bot
    server: LocalDatabricks

    def tick(self, minutes: float = 1) -> None:
        """Time passes, the watcher polls, the notifier sends what is due."""
        self.clock.set(self.clock.now() + timedelta(minutes=minutes))
        assert self.bot.alerts is not None and self.bot.notifier is not None
        self.bot.alerts.poll(str(WS))
        self.bot.notifier.drain()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    clock = FixedClock(START)
    world = World(clock)
    world.add_workspace("prod-emea", WS)
    server = LocalDatabricks(world)
    api = make_api(server, WS)
    cfg = load_config(DEMO_CONFIG).model_copy(update={"workspaces": [workspace_config(server, WS)]})
    sb = SlackSandbox(signing_secret="e2e-alerts")
    sb.start()
    link = wiring.SlackLink(
        bot_token=sb.bot_token, api_url=sb.api_url, transport="http", signing_secret="e2e-alerts"
    )
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock)
    bot = wiring.build(
        cfg, clock, warehouse=open_warehouse(None), slack=link, store=store, watch=True,
        jobs_api=api,
    )  # fmt: skip
    assert bot.notifier is not None
    bot.notifier._pace.interval = 0.0  # the pace has its own tests; here it would only wait
    try:
        yield Live(sb, world, clock, bot, server)
    finally:
        bot.stop()
        sb.stop()
        server.stop()
