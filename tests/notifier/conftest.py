"""Fixtures for the notifier: a running Slack sandbox, a state store on a SQLite file, and
notifiers built exactly as production builds them (the real WebClient on the sandbox)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import SystemClock
from bot.slack.client import web_client
from bot.slack.notifier import Notifier
from bot.store import IncidentKey, OutboxKind, Store
from sandbox.slack.driver import SlackSandbox

DEFAULT = "C02ALERTS"


@pytest.fixture
def sb() -> Iterator[SlackSandbox]:
    with SlackSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], Store]]:
    """Another Store on the test's database each call: another replica."""
    opened: list[Store] = []

    def open_one() -> Store:
        store = Store.open(store_url, SystemClock())
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()


@pytest.fixture
def make_notifier(sb: SlackSandbox, store: Store) -> Callable[..., Notifier]:
    """A Notifier on `store` (or `on`) talking to the sandbox (or `slack`); fast by default
    (pace 0.05 s, backoff from 0.05 s) unless the test says otherwise."""

    def make(
        *,
        on: Store | None = None,
        slack: SlackSandbox | None = None,
        outbox: Any = None,
        timeout: int = 30,
        **options: Any,
    ) -> Notifier:
        target = on or store
        slack = slack or sb
        options.setdefault("default_channel", DEFAULT)
        options.setdefault("per_channel_interval", 0.05)
        options.setdefault("backoff_base", 0.05)
        options.setdefault("backoff_cap", 0.5)
        client = web_client(slack.bot_token, slack.api_url, timeout=timeout)
        outbox = outbox or target.outbox
        return Notifier(outbox, target.incidents, client, SystemClock(), **options)

    return make


def post(
    store: Store,
    key: str,
    channel: str = DEFAULT,
    *,
    kind: OutboxKind = OutboxKind.POST,
    incident_id: int | None = None,
    **payload: Any,
) -> None:
    payload.setdefault("text", key)
    assert store.outbox.enqueue(
        dedupe_key=key, channel=channel, kind=kind, payload=payload, incident_id=incident_id
    )


def incident(store: Store, job_id: str) -> int:
    key = IncidentKey("1001", job_id)
    return store.incidents.open_or_bump_failure(key, "r1", datetime.now(UTC), "boom").incident.id


def drain_all(notifier: Notifier, store: Store, timeout: float = 30.0) -> None:
    """Drain until the outbox has nothing pending (retries included), or fail."""
    deadline = time.monotonic() + timeout
    while store.outbox.pending_count() > 0:
        assert time.monotonic() < deadline, f"{store.outbox.pending_count()} still pending"
        notifier.drain()
        time.sleep(0.02)
