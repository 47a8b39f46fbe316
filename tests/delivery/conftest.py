"""Fixtures for the delivery tests: the end-to-end stack of tests/support/stack.py (the real
Bolt app over HTTP behind the local Slack sandbox, built by `bot.wiring`), a stack on a
warehouse built by hand from rows, a workspace with a crowd of people, and a helper that types
many commands at the same instant."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import load_config
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.slack.driver import Seen, SlackSandbox
from sandbox.slack.workspace import SlackWorkspace, User, default_workspace
from tests.support.stack import Stack, make_stack, stack, start_stack, stop_stack
from tests.support.system_rows import build_db

__all__ = ["make_stack", "stack"]


def crowd(n: int) -> SlackWorkspace:
    """The default workspace plus `n` people (U9000…), all in #data-alerts."""
    ws = default_workspace()
    alerts = ws.channel("C02ALERTS")
    assert alerts is not None
    for i in range(n):
        uid = f"U9{i:03d}"
        ws.users.append(User(uid, f"p{i}", f"Person {i}", f"p{i}", f"p{i}@example.com"))
        alerts.members.add(uid)
    return ws


def people(ws: SlackWorkspace) -> list[str]:
    return [u.id for u in ws.humans() if u.id.startswith("U9")]


def at_once(sb: SlackSandbox, asks: list[tuple[str, str]]) -> list[tuple[Seen, float]]:
    """Type every (user, command) at the same instant; each ack with how long it took."""
    out: list[tuple[Seen, float] | None] = [None] * len(asks)
    barrier = threading.Barrier(len(asks))

    def one(i: int, user: str, text: str) -> None:
        barrier.wait()
        started = time.monotonic()
        seen = sb.command(text, user=user, expect_answer=False)
        out[i] = (seen, time.monotonic() - started)

    threads = [threading.Thread(target=one, args=(i, u, t)) for i, (u, t) in enumerate(asks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    done = [o for o in out if o is not None]
    assert len(done) == len(asks)
    return done


@pytest.fixture
def hand_stack(tmp_path: Path) -> Iterator[Callable[[list[dict], list[dict]], Stack]]:
    """A stack on a warehouse holding exactly the given system-table rows."""
    made: list[Stack] = []

    def make(jobs: list[dict], runs: list[dict]) -> Stack:
        db = build_db(tmp_path, jobs, runs)
        st = start_stack(open_warehouse(db), load_config(DEMO_CONFIG))
        made.append(st)
        return st

    yield make
    for st in made:
        stop_stack(st)
