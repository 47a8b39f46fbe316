"""Exactly once across crashes and races: a message Slack accepted but the store never
marked is found by its metadata and recorded, not posted again; two notifiers on one store
never send the same row."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.slack.payloads import metadata
from bot.store import OutboxKind, OutboxState, Store
from sandbox.slack.driver import SlackSandbox
from tests.notifier.conftest import DEFAULT, drain_all, incident, post
from tests.support.postgres import fresh_schema

LEASE = timedelta(seconds=1)
CHANNELS = ("C01GENERAL", "C02ALERTS", "C07FINANCE")


class CrashingMarks:
    """The store's outbox whose mark_sent fails `times` times: the process "died" after
    Slack accepted the message and before the store recorded it."""

    def __init__(self, outbox: Any, times: int = 1) -> None:
        self._outbox = outbox
        self.left = times

    def mark_sent(self, message: Any, ts: str | None, channel: str | None = None) -> bool:
        if self.left > 0:
            self.left -= 1
            raise RuntimeError("killed before the store recorded the send")
        return bool(self._outbox.mark_sent(message, ts, channel))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._outbox, name)


def test_a_post_slack_accepted_but_the_store_never_marked_is_not_posted_twice(
    sb: SlackSandbox, store: Store, make_notifier
):
    case = incident(store, "1")
    post(store, "alert", incident_id=case)
    crashing = make_notifier(lease=LEASE, outbox=CrashingMarks(store.outbox))
    crashing.drain()
    [posted] = sb.messages(DEFAULT)
    row = store.outbox.find("alert")
    assert row is not None and row.state is OutboxState.SENDING  # claimed, never marked

    time.sleep(LEASE.total_seconds() + 0.1)  # the dead notifier's claim expires
    post(store, "alert-up", kind=OutboxKind.UPDATE, incident_id=case, text="acked")
    restarted = make_notifier(lease=LEASE)
    drain_all(restarted, store)

    assert restarted.totals.recovered == 1 and restarted.totals.sent == 1  # the update
    assert len(sb.calls_to("chat.postMessage")) == 1
    [shown] = sb.messages(DEFAULT)
    assert shown.ts == posted.ts and shown.text == "acked"
    row = store.outbox.find("alert")
    assert row is not None and row.state is OutboxState.SENT and row.slack_ts == posted.ts
    found = store.incidents.get(case)
    assert found is not None and found.message_ts == posted.ts
    [search] = sb.calls_to("conversations.history")
    assert search.params["include_all_metadata"] == "1" and float(search.params["oldest"]) > 0


def test_a_claim_killed_after_posting_is_found_by_the_next_notifier(
    sb: SlackSandbox, store: Store, make_notifier
):
    post(store, "alert", "C01GENERAL")
    post(store, "other", "C01GENERAL")
    claimed = store.outbox.claim_next(lease=timedelta(0))  # a notifier that then died...
    assert claimed is not None and claimed.dedupe_key == "alert"
    sb.client().chat_postMessage(  # ...right after Slack took its post
        channel="C01GENERAL", text="alert", metadata=metadata(claimed)
    )
    drain_all(make_notifier(), store)
    assert Counter(m.text for m in sb.messages("C01GENERAL")) == {"alert": 1, "other": 1}
    row = store.outbox.find("alert")
    assert row is not None and row.state is OutboxState.SENT and row.attempts == 2


def test_a_thread_reply_is_looked_for_in_its_thread(sb: SlackSandbox, store: Store, make_notifier):
    case = incident(store, "1")
    post(store, "alert", incident_id=case)
    drain_all(make_notifier(), store)
    post(store, "reply", kind=OutboxKind.THREAD_REPLY, incident_id=case, text="again")
    crashing = make_notifier(lease=LEASE, outbox=CrashingMarks(store.outbox))
    crashing.drain()
    time.sleep(LEASE.total_seconds() + 0.1)
    restarted = make_notifier(lease=LEASE)
    drain_all(restarted, store)
    root = store.incidents.get(case)
    assert root is not None and root.message_ts is not None
    assert [m.text for m in sb.thread(DEFAULT, root.message_ts)[1:]] == ["again"]
    assert restarted.totals.recovered == 1
    assert sb.calls_to("conversations.replies")[0].params["include_all_metadata"] == "1"


def test_a_post_that_timed_out_but_reached_slack_is_not_posted_twice(
    sb: SlackSandbox, store: Store, make_notifier
):
    post(store, "alert")
    # Slack answers after the client gave up: the message is posted, the answer lost.
    sb.faults.slow("chat.postMessage", seconds=1.5, times=1)
    notifier = make_notifier(timeout=1, backoff_base=2.0)
    drain_all(notifier, store, timeout=15)
    assert [m.text for m in sb.messages(DEFAULT)] == ["alert"]
    assert notifier.totals.retried == 1 and notifier.totals.recovered == 1
    assert len(sb.calls_to("chat.postMessage")) == 1


def race_notifiers(sb: SlackSandbox, replicas: list[Store], make_notifier: Callable) -> None:
    for i in range(30):
        post(replicas[0], f"alert-{i:02d}", CHANNELS[i % 3])
    sb.faults.drop("chat.postMessage", times=2)
    sb.faults.ratelimit("chat.postMessage", retry_after=1, times=2)
    # A short lease: each notifier holds only a few rows per channel, so neither can claim
    # all thirty before the other starts (and claims expiring mid-wait are exercised too).
    notifiers = [make_notifier(on=replica, lease=timedelta(seconds=1.2)) for replica in replicas]
    barrier = threading.Barrier(len(notifiers))
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            drain_all(notifiers[index], replicas[index], timeout=30)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(notifiers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    seen = Counter(m.text for c in CHANNELS for m in sb.messages(c))
    assert seen == Counter(f"alert-{i:02d}" for i in range(30))
    assert all(n.totals.sent > 0 for n in notifiers)  # both really took part


def test_two_notifiers_on_one_sqlite_store_never_send_a_row_twice(
    sb: SlackSandbox, open_store: Callable[[], Store], make_notifier
):
    race_notifiers(sb, [open_store(), open_store()], make_notifier)


@pytest.fixture
def postgres_url(postgres_server: str) -> Any:
    with fresh_schema(postgres_server) as url:
        yield url


def test_two_notifiers_on_one_postgresql_store_never_send_a_row_twice(
    sb: SlackSandbox, postgres_url: str, make_notifier
):
    from bot.clock import SystemClock

    replicas = [Store.open(postgres_url, SystemClock()) for _ in range(2)]
    try:
        race_notifiers(sb, replicas, make_notifier)
    finally:
        for replica in replicas:
            replica.close()
