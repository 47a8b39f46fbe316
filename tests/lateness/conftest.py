"""Fixtures for the lateness alerts: an embedded warehouse filled row by row (tests/support/
wh_world.py), the real store on SQLite, the real templates, and — for the Jobs API path — the
local Databricks with a JobsApi built as the bot builds it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.config import Config, load_config
from bot.render import Renderer
from bot.store import Store
from bot.store.records import OutboxKind, OutboxMessage
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from tests.support.wh_world import Rows


@pytest.fixture
def tables() -> Iterator[Rows]:
    wh = open_warehouse(None)
    yield Rows(wh)
    wh.close()


@pytest.fixture
def store(tmp_path: Path, clock: FixedClock) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock)
    yield s
    s.close()


def demo_config(**update: Any) -> Config:
    return load_config(DEMO_CONFIG).model_copy(update=update)


def renderer_for(config: Config, clock: FixedClock) -> Renderer:
    return Renderer(tz=config.timezone, currency=config.cost.currency, clock=clock)


def outbox(store: Store) -> list[OutboxMessage]:
    """Every outbox row, in the order written (what the notifier will send)."""
    rows, i = [], 1
    while (found := store.outbox.get(i)) is not None:
        rows.append(found)
        i += 1
    return rows


def send_all(store: Store) -> None:
    """What the notifier does, without Slack: every queued row is 'sent' with a ts (an
    incident's first post becomes its message)."""
    n = 0
    while (row := store.outbox.claim_next()) is not None:
        n += 1
        store.outbox.mark_sent(row, f"{row.id}.{n:06d}", row.channel)


def messages(store: Store) -> list[tuple[OutboxKind, str | None, str]]:
    """Each outbox row as (kind, the Slack message it is about, text): a POST is about its own
    ts; an UPDATE or thread line about its incident's message."""
    out = []
    for r in outbox(store):
        incident = store.incidents.get(r.incident_id) if r.incident_id is not None else None
        about = r.slack_ts if r.kind is OutboxKind.POST or incident is None else incident.message_ts
        out.append((r.kind, about, str(r.payload.get("text") or "")))
    return out


@pytest.fixture
def clock() -> FixedClock:
    from tests.support.jobs_api import START

    return FixedClock(START)
