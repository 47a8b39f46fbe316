"""Delivery under load and faults: every alert arrives exactly once, each channel at most one
message per interval, and a channel that waits never holds up the others."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

from bot.store import OutboxState, Store
from sandbox.slack.driver import SlackSandbox
from tests.notifier.conftest import drain_all, post

CHANNELS = ("C01GENERAL", "C02ALERTS", "C07FINANCE")


def gaps(sb: SlackSandbox, channel: str) -> list[float]:
    stamps = [float(m.ts) for m in sb.messages(channel)]
    return [b - a for a, b in zip(stamps, stamps[1:], strict=False)]


def test_fifty_alerts_with_429s_5xx_and_drops_arrive_once_each_at_the_pace(
    sb: SlackSandbox, store: Store, make_notifier, caplog
):
    interval = 0.3
    keys = [f"alert-{i:02d}" for i in range(50)]
    for i, key in enumerate(keys):
        post(store, key, CHANNELS[i % 3])
    notifier = make_notifier(per_channel_interval=interval)

    def total() -> int:
        return sum(len(sb.messages(c)) for c in CHANNELS)

    def inject() -> None:
        # Faults arrive while the notifier is busy, not only at the start.
        sb.wait_until(lambda: total() >= 5, timeout=20)
        sb.faults.ratelimit("chat.postMessage", retry_after=1, times=3)
        sb.wait_until(lambda: total() >= 15, timeout=20)
        sb.faults.server_error("chat.postMessage", status=500, times=2)
        sb.faults.server_error("chat.postMessage", status=503, times=1)
        sb.wait_until(lambda: total() >= 25, timeout=20)
        sb.faults.drop("chat.postMessage", times=3)
        sb.wait_until(lambda: total() >= 35, timeout=20)
        sb.faults.ratelimit("chat.postMessage", retry_after=1, times=2)
        sb.faults.server_error("conversations.history", times=1)

    injector = threading.Thread(target=inject)
    injector.start()
    drain_all(notifier, store, timeout=40)
    injector.join()

    seen = Counter(m.text for c in CHANNELS for m in sb.messages(c))
    assert seen == Counter(keys)  # every alert, exactly once
    for i, key in enumerate(keys):
        row = store.outbox.find(key)
        assert row is not None and row.state is OutboxState.SENT and row.slack_ts
        assert row.slack_ts in {m.ts for m in sb.messages(CHANNELS[i % 3])}
    for channel in CHANNELS:
        assert min(gaps(sb, channel)) >= interval * 0.98, channel
    failures = [c for c in sb.calls_to("chat.postMessage") if not c.ok]
    assert {c.status for c in failures} == {0, 429, 500, 503}  # 0: the dropped connections
    assert notifier.totals.rate_limited >= 5 and notifier.totals.retried >= 6
    # Rows whose earlier attempt may have reached Slack were looked for before posting.
    assert len(sb.calls_to("conversations.history")) >= 6
    assert caplog.records and all(sb.bot_token not in r.getMessage() for r in caplog.records)


def test_the_real_pace_is_one_message_per_second_per_channel(
    sb: SlackSandbox, store: Store, make_notifier
):
    for i in range(12):
        post(store, f"m{i}", CHANNELS[i % 3])
    started = time.monotonic()
    drain_all(make_notifier(per_channel_interval=1.0), store)
    elapsed = time.monotonic() - started
    for channel in CHANNELS:
        assert len(sb.messages(channel)) == 4
        assert min(gaps(sb, channel)) >= 0.98
    # Three channels side by side: 3 intervals, not 11.
    assert elapsed < 5.0


def test_a_channel_told_to_wait_does_not_hold_up_the_others(
    sb: SlackSandbox, store: Store, make_notifier
):
    for i in range(9):
        post(store, f"m{i}", CHANNELS[i % 3])
    sb.faults.ratelimit("chat.postMessage", retry_after=2, times=1)  # the very first post
    started = time.time()
    drain_all(make_notifier(per_channel_interval=0.1), store)
    first_call = sb.calls_to("chat.postMessage")[0]
    held = first_call.params["channel"]
    others = [c for c in CHANNELS if c != held]
    held_first = float(sb.messages(held)[0].ts)
    assert held_first - started >= 2.0  # waited out Retry-After
    for channel in others:
        assert len(sb.messages(channel)) == 3
        assert float(sb.messages(channel)[-1].ts) < held_first  # done meanwhile


class FakeTime:
    """A monotonic clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_pacing_runs_on_the_injected_clock(sb: SlackSandbox, store: Store, make_notifier):
    fake = FakeTime()
    for i in range(10):
        post(store, f"m{i}", CHANNELS[i % 2])
    started = time.monotonic()
    notifier = make_notifier(
        per_channel_interval=30.0,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
        lease=timedelta(hours=1),  # a channel holds up to a quarter lease's worth of rows
    )
    stats = notifier.drain()
    assert stats.sent == 10
    assert time.monotonic() - started < 5  # nobody really waited 2 minutes
    assert fake.slept >= 4 * 30.0  # five per channel: four intervals each, side by side
    assert fake.slept < 5 * 30.0
    order = [c.params["channel"] for c in sb.calls_to("chat.postMessage")]
    assert order == [CHANNELS[0], CHANNELS[1]] * 5  # the channels take turns


def test_drain_stops_at_max_messages_and_gives_the_rest_back(
    sb: SlackSandbox, store: Store, make_notifier
):
    for i in range(6):
        post(store, f"m{i}", CHANNELS[i % 3])
    notifier = make_notifier()
    assert notifier.drain(max_messages=2).sent == 2
    assert store.outbox.pending_count() == 4
    assert notifier.drain().sent == 4
    assert len(sb.calls_to("conversations.history")) == 0  # rows given back stay fresh


def test_the_background_thread_drains_when_poked(sb: SlackSandbox, store: Store, make_notifier):
    notifier = make_notifier(idle_wake=30.0)  # only a poke wakes it in time
    notifier.start()
    try:
        post(store, "poked")
        notifier.poke()
        assert sb.wait_until(lambda: sb.messages("C02ALERTS"), timeout=5)
    finally:
        notifier.stop()
    assert [m.text for m in sb.messages("C02ALERTS")] == ["poked"]
    post(store, "after stop")
    assert notifier.drain().sent == 1  # a stopped notifier still drains when asked


def test_drain_never_raises(sb: SlackSandbox, store: Store, make_notifier, caplog):
    class Broken:
        def claim_next(self, *args, **kwargs):
            raise RuntimeError("database is gone")

    stats = make_notifier(outbox=Broken()).drain()
    assert stats.handled == 0
    assert any("unexpected error while draining" in r.getMessage() for r in caplog.records)


def test_a_backlog_beyond_the_lease_goes_back_to_wait_its_turn(
    sb: SlackSandbox, store: Store, make_notifier
):
    fake = FakeTime()
    for i in range(6):
        post(store, f"busy{i}", CHANNELS[0])
    post(store, "quiet", CHANNELS[1])
    # A 1.6 s lease at 0.4 s a message: a channel holds one row; the rest go back for later.
    notifier = make_notifier(
        per_channel_interval=0.4,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
        lease=timedelta(seconds=1.6),
    )
    stats = notifier.drain()
    assert stats.sent == 2 and stats.deferred == 5
    assert {m.text for c in CHANNELS[:2] for m in sb.messages(c)} == {"busy0", "quiet"}
    # The rows handed back are spread one interval apart, due when the channel can take them.
    due = sorted(row.next_attempt_at for i in range(1, 6) if (row := store.outbox.find(f"busy{i}")))
    spacing = [(b - a).total_seconds() for a, b in zip(due, due[1:], strict=False)]
    assert all(abs(s - 0.4) < 0.1 for s in spacing)
    drain_all(notifier, store, timeout=15)
    assert [m.text for m in sb.messages(CHANNELS[0])] == [f"busy{i}" for i in range(6)]
    # Handed back unsent, they were still fresh when this notifier claimed them again: no
    # search of the history first. (Another notifier would have searched, to be safe.)
    assert len(sb.calls_to("conversations.history")) == 0


def test_two_replicas_keep_one_channel_at_its_pace(
    sb: SlackSandbox, store: Store, open_store, make_notifier, monkeypatch
):
    """Two bots on one store each run a notifier; only the one holding the leader lease sends,
    so a channel still gets at most one message a second (two senders pacing on their own
    would each send a message a second into it). When the leader stops and hands the lease
    back, the standby sends what comes next; nothing is sent twice."""
    from bot.scheduler import Leadership

    other = open_store()
    replicas = []
    for on in (store, other):
        lease = Leadership(on.leases, ttl=30)
        lease.renew()
        notifier = make_notifier(on=on, per_channel_interval=1.0, idle_wake=0.05)
        notifier.sends_now = lambda lease=lease: lease.held
        replicas.append((lease, notifier))
    (leader, first), (standby, second) = replicas
    assert leader.held and not standby.held

    def sent(n: int) -> None:
        deadline = time.monotonic() + 30
        while len(sb.messages("C02ALERTS")) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(sb.messages("C02ALERTS")) == n

    first.start()
    second.start()
    try:
        # Alerts arriving over time, faster than the channel's pace: each notifier would claim
        # the ones due when it looks, and both would send.
        for i in range(5):
            post(store, f"m{i}", "C02ALERTS")
            time.sleep(0.3)
        sent(5)
        assert min(gaps(sb, "C02ALERTS")) >= 0.98
        first.stop()
        leader.release()  # a clean stop: the standby takes the lease at its next renewal
        assert standby.renew()
        post(other, "m5", "C02ALERTS")
        post(other, "m6", "C02ALERTS")
        sent(7)
    finally:
        first.stop()
        second.stop()
    texts = [m.text for m in sb.messages("C02ALERTS")]
    assert sorted(texts) == sorted(f"m{i}" for i in range(7))  # each once
