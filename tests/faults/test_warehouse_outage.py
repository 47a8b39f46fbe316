"""The warehouse slow, then down, then back, under the bot as bot.wiring builds it in watch
mode (real Bolt app over HTTP, real store, notifier and WebClient against the sandbox):
slash commands are acked within Slack's 3 s throughout and answered (late while it is slow,
with a clear "couldn't read" while it is down); the watch on the system tables says
"monitoring degraded" once however long the outage lasts, and turns that same message into
"restored" once when the warehouse answers again."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.scheduler import Every
from bot.store import Store
from bot.warehouse import open_warehouse
from sandbox.slack.driver import SlackSandbox
from sandbox.slack.state import Message
from tests.support.demo import END, Demo, demo_config
from tests.support.warehouse import ProbeWarehouse

SLOW = 3.5  # seconds per query: well past Slack's 3 s ack deadline (the bench uses 10)


class Stack:
    def __init__(self, demo: Demo, tmp: Path) -> None:
        self.wh = ProbeWarehouse(open_warehouse(demo.path))
        self.sb = SlackSandbox(signing_secret="wh-outage")
        self.sb.start()
        self.clock = FixedClock(END)
        link = wiring.SlackLink(
            bot_token=self.sb.bot_token,
            api_url=self.sb.api_url,
            transport="http",
            signing_secret="wh-outage",
        )
        cfg = demo_config(demo.story).model_copy(update={"workspaces": []})
        self.bot = wiring.build(
            cfg,
            self.clock,
            warehouse=self.wh,
            slack=link,
            store=Store.open(f"sqlite:///{tmp / 'state.db'}", self.clock),
            watch=True,
            working_after=1.0,
        )
        assert self.bot.scheduler is not None and self.bot.slack is not None
        self.bot.slack.start()
        self.sb.app_request_url = self.bot.request_url
        (self.tables_poll,) = [
            j for j in self.bot.scheduler.jobs if j.name == "failures:system-tables"
        ]
        assert isinstance(self.tables_poll, Every)

    def watch_tables(self) -> None:
        """One tick of the system-table watch, as the scheduler runs it (errors logged)."""
        with contextlib.suppress(Exception):  # the scheduler's guard logs it
            self.tables_poll.call()
        assert self.bot.notifier is not None
        self.bot.notifier.drain()

    def health_messages(self) -> list[Message]:
        return [
            m
            for m in self.sb.messages("C02ALERTS")
            if m.source != "user" and "Monitoring" in m.text
        ]

    def close(self) -> None:
        self.bot.stop()
        self.sb.stop()


@pytest.fixture
def stack(demo: Demo, tmp_path: Path) -> Iterator[Stack]:
    s = Stack(demo, tmp_path)
    try:
        yield s
    finally:
        s.close()


def _acks(stack: Stack, users: list[str], text: str) -> list[float]:
    """Send `text` as each user at once; the seconds each ack took."""

    def one(user: str) -> float:
        started = time.monotonic()
        seen = stack.sb.command(text, user=user, timeout=3.0, expect_answer=False)
        assert (seen.status, seen.http_status) == ("ok", 200), seen
        return time.monotonic() - started

    with ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(one, users))


def _answered(stack: Stack, user: str) -> bool:
    return any(
        "failing" in m.text.lower() and "Working on" not in m.text
        for m in stack.sb.ephemerals(user)
    )


def _told_down(stack: Stack, user: str) -> bool:
    return any("couldn't read" in m.text for m in stack.sb.ephemerals(user))


def test_slow_then_down_then_back_acks_in_time_and_says_degraded_and_restored_once(
    stack: Stack,
) -> None:
    people = [u.id for u in stack.sb.workspace.humans()][:3]
    stack.watch_tables()
    assert stack.health_messages() == []

    # Slow: every query takes SLOW seconds. Acks stay inside 3 s; the answers come later.
    stack.wh.delay = SLOW
    assert max(_acks(stack, people, "/jobs failing")) < 3.0
    for user in people:
        assert stack.sb.wait_until(partial(_answered, stack, user), timeout=SLOW * 4), user
    stack.watch_tables()  # slow is not down: no notice
    assert stack.health_messages() == []

    # Down: every query fails like a dropped connection.
    stack.wh.delay = 0.0
    stack.wh.fail_with = ConnectionResetError("[Errno 104] Connection reset by peer")
    assert max(_acks(stack, people, "/jobs cost 7d")) < 3.0
    for user in people:
        assert stack.sb.wait_until(partial(_told_down, stack, user), timeout=10), user
    for _ in range(6):
        stack.watch_tables()
    notices = stack.health_messages()
    assert len(notices) == 1 and notices[0].text.startswith("⚠️ Monitoring degraded"), notices

    # Back: one "restored", in place of the degraded notice; no second message.
    stack.wh.fail_with = None
    stack.watch_tables()
    stack.watch_tables()
    (notice,) = stack.health_messages()
    assert notice.text.startswith("✅ Monitoring restored"), notice.text
    posts = [
        c
        for c in stack.sb.calls_to("chat.postMessage")
        if c.ok and "Monitoring" in str(c.params.get("text", "")) and not c.params.get("thread_ts")
    ]
    assert len(posts) == 1
