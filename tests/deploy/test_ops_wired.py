"""/readyz and /metrics of the bot as bot.wiring builds it: Slack connected over a real Socket
Mode websocket to the sandbox (and not, once Slack drops it or sends keep failing), and the
alerts counted by kind when a real failure in the local Databricks is posted."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.config import load_config
from bot.service.health import SLACK as HEALTH_SLACK
from bot.store import Store
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.databricks import World
from sandbox.databricks.server import LocalDatabricks
from sandbox.slack.driver import SlackSandbox
from tests.support.jobs_api import START, make_api, workspace_config

WS = 4343


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Stack:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = FixedClock(START)
        self.world = World(self.clock)
        self.world.add_workspace("prod-ops", WS)
        self.server = LocalDatabricks(self.world)
        api = make_api(self.server, WS)  # starts the local Databricks
        cfg = load_config(DEMO_CONFIG)
        monitoring = cfg.monitoring.model_copy(
            update={"health_port": 1, "health_host": "127.0.0.1"}
        )
        cfg = cfg.model_copy(
            update={"workspaces": [workspace_config(self.server, WS)], "monitoring": monitoring}
        )
        self.sb = SlackSandbox(signing_secret="unused-in-socket-mode")
        self.sb.start()
        link = wiring.SlackLink(
            bot_token=self.sb.bot_token,
            api_url=self.sb.api_url,
            transport="socket",
            app_token=self.sb.app_token,
        )
        store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", self.clock)
        self.bot = wiring.build(
            cfg,
            self.clock,
            warehouse=open_warehouse(None),
            slack=link,
            store=store,
            watch=True,
            jobs_api=api,
        )
        assert self.bot.ops is not None and self.bot.notifier is not None
        self.bot.ops._port = 0  # any free port (the config asks for a real one)
        self.bot.notifier._pace.interval = 0.0

    @property
    def url(self) -> str:
        assert self.bot.ops is not None
        return self.bot.ops.url

    def close(self) -> None:
        self.bot.stop()
        self.sb.stop()
        self.server.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path)
    try:
        yield s
    finally:
        s.close()


def _slack_line(body: str) -> str:
    return next(line for line in body.splitlines() if line.startswith("slack:"))


def test_readyz_says_whether_slack_is_connected(stack: Stack) -> None:
    assert stack.bot.ops is not None and stack.bot.slack is not None
    stack.bot.ops.start()
    status, body = _get(stack.url + "/readyz")
    assert status == 503 and _slack_line(body) == "slack: FAIL (not started)"

    stack.bot.slack.start()
    assert stack.sb.wait_for_socket()
    status, body = _get(stack.url + "/readyz")
    assert _slack_line(body) == "slack: ok (socket mode connected)", body

    # Slack drops the websocket: not ready until the SDK has reconnected by itself.
    stack.sb.drop_sockets()
    assert stack.sb.wait_until(lambda: not stack.sb.server.sockets.connected, 5)
    assert stack.sb.wait_for_socket(timeout=30), "the bot never reconnected"
    assert stack.sb.wait_until(lambda: "slack: ok" in _get(stack.url + "/readyz")[1], timeout=30), (
        "readiness never came back after the reconnect"
    )

    # Connected, but every send failing (the 'monitoring degraded: Slack' watch): not ready.
    health = stack.bot.health
    assert health is not None
    for _ in range(3):
        health.record(HEALTH_SLACK, False, "fatal_error")
    status, body = _get(stack.url + "/readyz")
    assert status == 503
    assert _slack_line(body) == "slack: FAIL (socket mode connected; sends to Slack failing)"
    health.record(HEALTH_SLACK, True)
    assert _slack_line(_get(stack.url + "/readyz")[1]) == "slack: ok (socket mode connected)"


def test_metrics_count_the_alerts_posted_by_kind(stack: Stack) -> None:
    assert stack.bot.ops is not None and stack.bot.alerts is not None
    stack.bot.ops.start()
    job = stack.world.add_job(WS, "gl_export", ("load",), tags={"team": "finance-data"})
    stack.bot.alerts.poll(str(WS))
    for _ in range(2):  # two failures of one job: one incident, one alert
        run = stack.world.start_run(WS, job.job_id)
        stack.clock.set(stack.clock.now() + timedelta(minutes=3))
        stack.world.set_task_outcome(WS, run.run_id, "load", "FAILED", "boom", error="boom")
        stack.clock.set(stack.clock.now() + timedelta(minutes=1))
        stack.bot.alerts.poll(str(WS))
        assert stack.bot.notifier is not None
        stack.bot.notifier.drain()
    _, text = _get(stack.url + "/metrics")
    assert 'jobs_bot_alerts_total{kind="failure"} 1.0' in text
    channel = stack.sb.workspace.channel_by_name("finance-data")
    assert channel is not None
    alerts = [m for m in stack.sb.messages(channel.id) if m.source != "user"]
    assert len(alerts) == 1


def test_the_scheduled_prune_forgets_messages_sent_a_month_ago(stack: Stack) -> None:
    from bot.store import OutboxKind

    store = stack.bot.store
    assert store is not None and stack.bot.scheduler is not None and stack.bot.notifier
    store.outbox.enqueue(
        dedupe_key="note:old", channel="C02ALERTS", kind=OutboxKind.POST, payload={"text": "hi"}
    )
    assert stack.bot.notifier.drain().sent == 1
    # The one-per-item marks go too (which alert went into a roll-up, an SLA rule's message
    # of the day); a watcher's own watermark never does.
    store.watermarks.set("rolled-up", {"channel": "C02ALERTS"}, "41")
    store.watermarks.set("sla-day", {"key": "k", "incident_id": 41}, "rule:job")
    store.watermarks.set("run_feed", {"feed": {}, "watch": []}, "1001")
    (prune,) = [j for j in stack.bot.scheduler.jobs if j.name == "outbox-prune"]
    stack.clock.set(stack.clock.now() + timedelta(days=29))
    prune.call()
    assert store.outbox.find("note:old") is not None  # a month is kept
    assert store.watermarks.get("rolled-up", "41") is not None
    stack.clock.set(stack.clock.now() + timedelta(days=2))
    prune.call()
    assert store.outbox.find("note:old") is None
    assert store.watermarks.get("rolled-up", "41") is None
    assert store.watermarks.get("sla-day", "rule:job") is None
    assert store.watermarks.get("run_feed", "1001") is not None
