"""Exactly once across restarts, and late digests: the real store on a SQLite file, the real
notifier and WebClient on the sandbox Slack, the injected clock moved by hand (no sleeps)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.render import Renderer
from bot.service.reports.digest import Digests
from bot.slack.client import web_client
from bot.slack.notifier import Notifier
from bot.store import Store
from sandbox.slack.driver import SlackSandbox
from tests.support import report_account

CHANNELS = {"C02ALERTS": "#data-alerts", "C07FINANCE": "#finance-data", "C08ML": "#ml-platform"}


@pytest.fixture
def sb():
    with SlackSandbox() as sandbox:
        yield sandbox


def notifier(sb: SlackSandbox, store: Store, clock: FixedClock, outbox: Any = None) -> Notifier:
    client = web_client(sb.bot_token, sb.api_url)
    return Notifier(
        outbox or store.outbox, store.incidents, client, clock,
        default_channel="#data-alerts", per_channel_interval=0.01,
    )  # fmt: skip


def digests_on(store: Store, config, clock, world) -> Digests:
    renderer = Renderer(tz=config.timezone, clock=clock)
    return Digests(config=config, clock=clock, renderer=renderer, store=store, warehouse=world.wh)


def digests_in_slack(sb: SlackSandbox) -> dict[str, list[str]]:
    return {cid: [m.text for m in sb.messages(cid) if "Daily digest" in m.text] for cid in CHANNELS}


class DiesOnSecondEnqueue:
    """The store's outbox, as seen by a process killed while queueing the second digest."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def enqueue(self, **kwargs: Any) -> bool:
        self.calls += 1
        if self.calls == 2:
            raise SystemExit("killed")
        return self.inner.enqueue(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_killed_while_queueing_then_restarted_sends_each_digest_once(
    sb, open_store: Callable[[], Store], config, clock, world
):
    first = open_store()
    dying = digests_on(first, config, clock, world)
    dying.store = type("S", (), {"outbox": DiesOnSecondEnqueue(first.outbox),
                                 "incidents": first.incidents})()  # fmt: skip
    with pytest.raises(SystemExit):
        dying.due()
    assert first.outbox.pending_count() == 1  # the default channel's, queued before the kill

    clock.set(report_account.NINE + timedelta(minutes=1))
    restarted = open_store()
    again = digests_on(restarted, config, clock, world)
    assert again.due() == ["digest:2026-03-03:#finance-data", "digest:2026-03-03:#ml-platform"]
    assert again.due() == []
    notifier(sb, restarted, clock).drain()
    assert {c: len(t) for c, t in digests_in_slack(sb).items()} == dict.fromkeys(CHANNELS, 1)


class DiesAfterSlackTookIt:
    """The outbox of a notifier killed between Slack's answer and marking the row sent."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def mark_sent(self, *args: Any, **kwargs: Any) -> bool:
        raise SystemExit("killed")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_killed_after_posting_is_not_posted_again(sb, store: Store, config, clock, world):
    digests = digests_on(store, config, clock, world)
    digests.due()
    with pytest.raises(SystemExit):
        notifier(sb, store, clock, DiesAfterSlackTookIt(store.outbox)).drain(max_messages=1)
    posted = sum(len(t) for t in digests_in_slack(sb).values())
    assert posted == 1
    # The restarted notifier takes the row over when its claim lapses, finds the digest in the
    # channel by its metadata and records it; the others are posted once.
    clock.set(report_account.NINE + timedelta(minutes=5))
    stats = notifier(sb, store, clock).drain()
    assert (stats.recovered, stats.sent) == (1, 2)
    assert {c: len(t) for c, t in digests_in_slack(sb).items()} == dict.fromkeys(CHANNELS, 1)
    assert digests.due() == []


def test_down_at_nine_up_at_eleven_sends_one_late_digest(sb, store: Store, config, clock, world):
    clock.set(report_account.NINE + timedelta(hours=2))  # 11:00 in Amsterdam
    digests = digests_on(store, config, clock, world)
    assert len(digests.due()) == 3
    notifier(sb, store, clock).drain()
    for _ in range(3):  # later ticks the same day add nothing
        clock.set(clock.now() + timedelta(minutes=1))
        assert digests.due() == []
    texts = digests_in_slack(sb)
    assert {c: len(t) for c, t in texts.items()} == dict.fromkeys(CHANNELS, 1)
    assert all(t[0].startswith("⏰ Late: Daily digest Mon 2 Mar") for t in texts.values())
    (msg,) = [m for m in sb.messages("C02ALERTS") if "Daily digest" in m.text]
    late = next(b for b in msg.blocks if b.get("block_id") == "late")
    assert "Sent late: it was due" in late["elements"][0]["text"]


def test_down_until_the_next_day_sends_nothing_for_the_missed_day(
    sb, store: Store, config, clock, world
):
    # Down from before 09:00 on Tue 3 Mar until 08:30 on Wed 4 Mar (local).
    clock.set(report_account.NINE + timedelta(days=1) - timedelta(minutes=30))
    digests = digests_on(store, config, clock, world)
    assert digests.due() == []
    assert store.outbox.find(digests.key(report_account.SENT, "#data-alerts")) is None
    # At 09:00 on Wednesday: Wednesday's digest (on Tuesday), on time; Tuesday's never comes.
    clock.set(report_account.NINE + timedelta(days=1))
    assert digests.due() == [f"digest:2026-03-04:{c}" for c in CHANNELS.values()]
    notifier(sb, store, clock).drain()
    texts = digests_in_slack(sb)
    assert all(len(t) == 1 and t[0].startswith("Daily digest Tue 3 Mar") for t in texts.values())
    assert store.outbox.find(digests.key(report_account.SENT, "#data-alerts")) is None


def test_send_now_for_the_demo_is_the_days_digest(sb, store: Store, config, clock, world):
    clock.set(report_account.NINE - timedelta(hours=2))  # 07:00, before the slot
    digests = digests_on(store, config, clock, world)
    assert len(digests.send_now(reason="demo")) == 3
    clock.set(report_account.NINE)
    assert digests.due() == []  # today's slot finds them queued
    notifier(sb, store, clock).drain()
    (msg,) = [m for m in sb.messages("C02ALERTS") if "Daily digest" in m.text]
    assert (
        "Sent now (demo)"
        in next(b for b in msg.blocks if b.get("block_id") == "late")["elements"][0]["text"]
    )
