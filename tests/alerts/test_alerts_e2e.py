"""A failure alert's whole life in the sandbox Slack: the bot built by bot.wiring (watch mode:
real JobsApi against the local Databricks, real store, real notifier and WebClient) posts the
alert in the routed channel, edits that same message and threads under it on the next
failure, and resolves it in place when the job succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.config import load_config
from bot.slack.blocks_check import problems
from bot.store import Store
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.databricks import World
from sandbox.databricks.server import LocalDatabricks
from sandbox.slack.driver import SlackSandbox
from tests.jobs_api.conftest import START, make_api, workspace_config

WS = 4242


@dataclass
class Live:
    sb: SlackSandbox
    world: World
    clock: FixedClock
    bot: wiring.Bot

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
        yield Live(sb, world, clock, bot)
    finally:
        bot.stop()
        sb.stop()
        server.stop()


def _fail(live: Live, job_id: int, error: str) -> None:
    run = live.world.start_run(WS, job_id)
    live.clock.set(live.clock.now() + timedelta(minutes=3))
    live.world.set_task_outcome(WS, run.run_id, "load", "FAILED", error, error=error)


def test_alert_is_posted_updated_in_place_threaded_and_resolved(live: Live) -> None:
    job = live.world.add_job(
        WS, "finance_gl_export", ("load",), tags={"team": "finance-data"},
        run_as_user_name="ben.carter@example.com",
    )  # fmt: skip
    live.tick()
    _fail(live, job.job_id, "Permission denied on s3://gl/2026")
    live.tick()
    channel = live.sb.workspace.channel_by_name("finance-data")
    posted = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    assert len(posted) == 1, "one alert in the routed channel"
    alert = posted[0]
    assert "finance_gl_export" in alert.text and "Permission denied" in str(alert.blocks)
    assert "<@U02BOB>" in str(alert.blocks)  # the owner, by the config's map
    assert problems({"text": alert.text, "blocks": alert.blocks}) == []
    # Slack has it under the channel id, and so does the incident (chat.update needs the id).
    (incident,) = live.bot.store.incidents.open_incidents()  # type: ignore[union-attr]
    assert incident.channel == channel.id and incident.message_ts == alert.ts

    _fail(live, job.job_id, "Permission denied on s3://gl/2026 (again)")
    live.tick()
    after = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    assert len(after) == 1, "a second failure edits the alert, it does not post another"
    assert "2nd failure in a row" in str(after[0].blocks)
    thread = live.sb.thread(channel.id, alert.ts)
    assert any("Failed again" in m.text for m in thread)

    run = live.world.start_run(WS, job.job_id)
    live.clock.set(live.clock.now() + timedelta(minutes=3))
    live.world.set_task_outcome(WS, run.run_id, "load", "SUCCESS")
    live.tick()
    final = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    assert len(final) == 1 and "recovered" in final[0].text
    assert not any(b.get("type") == "actions" for b in final[0].blocks)  # buttons gone
    thread = live.sb.thread(channel.id, alert.ts)
    assert any("Recovered" in m.text and "after 2 failures" in m.text for m in thread)
