"""An SLA alert's whole life in the sandbox Slack: the real notifier and WebClient deliver the
outbox, and the channel shows one message — posted when the SLA is at risk, edited in place
when it is breached and when it is met late — with the changes as thread replies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FixedClock
from bot.service.sla_alerts import SlaAlerts
from bot.slack.blocks_check import problems
from bot.slack.client import web_client
from bot.slack.notifier import Notifier
from bot.store import Store
from sandbox.slack.driver import SlackSandbox
from tests.lateness.conftest import demo_config, renderer_for
from tests.lateness.test_sla_alerts import deadline_rule, history
from tests.support.wh_world import Rows


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def sb() -> Iterator[SlackSandbox]:
    with SlackSandbox() as sandbox:
        yield sandbox


def test_one_sla_message_updated_in_place(sb: SlackSandbox, tables: Rows, store: Store,
                                          clock: FixedClock) -> None:  # fmt: skip
    history(tables, "2026-03-02")
    cfg = demo_config(slas=(deadline_rule(),))
    notifier = Notifier(
        store.outbox, store.incidents, web_client(sb.bot_token, sb.api_url), clock,
        default_channel=cfg.slack.default_channel, per_channel_interval=0.0,
    )  # fmt: skip
    alerts = SlaAlerts(
        config=cfg, clock=clock, renderer=renderer_for(cfg, clock), store=store,
        warehouse=tables.wh, warehouse_ttl=timedelta(0), on_enqueue=notifier.poke,
    )  # fmt: skip
    channel = sb.workspace.channel_by_name("data-alerts")

    def tick(now: str) -> list:
        clock.set(at(now))
        alerts.check()
        notifier.drain()
        return [m for m in sb.messages(channel.id) if m.source != "user"]

    (first,) = tick("2026-03-02 05:10")
    assert "at risk" in first.text and problems({"text": first.text, "blocks": first.blocks}) == []
    (breached,) = tick("2026-03-02 06:00")
    assert breached.ts == first.ts and "breached its SLA" in breached.text
    tables.slice("1", "100", "r1", "2026-03-02 05:15", "2026-03-02 06:20", "SUCCEEDED", "SUCCESS")
    (final,) = tick("2026-03-02 06:25")
    assert final.ts == first.ts and "met its SLA late by 20m" in final.text
    assert not any(b.get("type") == "actions" for b in final.blocks)  # buttons gone
    thread = [m.text for m in sb.thread(channel.id, first.ts)]
    assert any(t.startswith("🔴 Breached") for t in thread)
    assert any(t.startswith("🟠 Met late") for t in thread)
    (incident,) = [store.incidents.get(1)]
    assert incident is not None and incident.message_ts == first.ts and not incident.is_open
