"""The bot watches Slack itself: sends that fail (5xx, dropped connections) are told to the
health watch, which posts one "monitoring degraded: Slack" notice after three in a row and one
"restored" once Slack answers again; a 429 is Slack answering, not failing."""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.clock import SystemClock
from bot.config import load_config
from bot.render import Renderer
from bot.service.health import SLACK, Health
from bot.slack.notifier import Notifier
from bot.store import Store
from sandbox import DEMO_CONFIG
from sandbox.slack.driver import SlackSandbox
from tests.notifier.conftest import drain_all, post


def test_slack_failing_three_times_is_one_degraded_notice_then_restored(
    sb: SlackSandbox, store: Store, make_notifier: Callable[..., Notifier]
) -> None:
    cfg = load_config(DEMO_CONFIG)
    clock = SystemClock()
    health = Health(config=cfg, clock=clock, renderer=Renderer(clock=clock), store=store)
    told: list[tuple[bool, str | None]] = []
    notifier = make_notifier(default_channel=cfg.slack.default_channel, max_attempts=20)

    def tell(ok: bool, error: str | None) -> None:
        told.append((ok, error))
        health.record(SLACK, ok, error)

    notifier.on_result = tell
    sb.faults.server_error("chat.postMessage", status=503, times=4)
    sb.faults.add("ratelimit", "chat.postMessage", times=1, retry_after=1)
    post(store, "alert-1", cfg.slack.default_channel)
    drain_all(notifier, store)
    fails = [ok for ok, _ in told if not ok]
    assert len(fails) >= 3 and told[-1][0] is True  # the 429 is not among the failures
    assert not health.is_degraded(SLACK)  # restored by the send that went through
    channel = sb.workspace.channel_by_name(cfg.slack.default_channel.lstrip("#"))
    assert channel is not None
    texts = [m.text for m in sb.messages(channel.id) if m.source != "user"]
    notices = [t for t in texts if "degraded" in t.lower() or "restored" in t.lower()]
    assert len([t for t in texts if t == "alert-1"]) == 1
    assert len(notices) == 1, texts  # one notice, edited from degraded to restored
    blocks = json.dumps([m.blocks for m in sb.messages(channel.id)], ensure_ascii=False)
    assert "Slack" in blocks
