"""The outbox as the channel sees it: an alert enqueued twice is sent once, two notifiers
never send the same message, a retry waits for its time, and updates to an alert wait for
the alert itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.clock import FixedClock
from bot.store import IncidentKey, OutboxKind, OutboxState, Store, outbox
from tests.store.conftest import START
from tests.store.racing import race

JOB = IncidentKey("1001", "42")


def _post(
    store: Store,
    key: str,
    channel: str = "C_ALERTS",
    incident_id: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    return store.outbox.enqueue(
        dedupe_key=key,
        channel=channel,
        kind=OutboxKind.POST,
        payload={"text": key},
        incident_id=incident_id,
        not_before=not_before,
    )


def test_the_same_alert_enqueued_twice_is_one_row(store: Store) -> None:
    assert _post(store, "failure:1001:42:r1")
    assert not _post(store, "failure:1001:42:r1")
    assert store.outbox.pending_count() == 1
    message = store.outbox.find("failure:1001:42:r1")
    assert message is not None
    assert message.state is OutboxState.PENDING and message.payload == {
        "text": "failure:1001:42:r1"
    }


def test_racing_replicas_enqueue_one_row(open_store: Callable[[], Store]) -> None:
    replicas = [open_store() for _ in range(4)]
    added = race(8, lambda i: _post(replicas[i % 4], "failure:1001:42:r1"))
    assert added.count(True) == 1
    assert replicas[0].outbox.pending_count() == 1


def test_messages_are_claimed_oldest_first_and_by_channel(store: Store) -> None:
    _post(store, "a", channel="C1")
    _post(store, "b", channel="C2")
    _post(store, "c", channel="C1")
    first = store.outbox.claim_next(channel="C1")
    assert first is not None and first.dedupe_key == "a"
    assert first.state is OutboxState.SENDING and first.attempts == 1
    second = store.outbox.claim_next()
    assert second is not None and second.dedupe_key == "b"
    third = store.outbox.claim_next()
    assert third is not None and third.dedupe_key == "c"
    assert store.outbox.claim_next() is None


def test_racing_notifiers_each_message_is_claimed_once(open_store: Callable[[], Store]) -> None:
    replicas = [open_store() for _ in range(4)]
    for i in range(5):
        _post(replicas[0], f"m{i}")

    def drain(i: int) -> list[str]:
        claimed = []
        while (message := replicas[i % 4].outbox.claim_next()) is not None:
            claimed.append(message.dedupe_key)
        return claimed

    per_notifier = race(8, drain)
    everything = [key for claimed in per_notifier for key in claimed]
    assert sorted(everything) == [f"m{i}" for i in range(5)]


def test_racing_for_one_message_has_one_winner(open_store: Callable[[], Store]) -> None:
    replicas = [open_store() for _ in range(4)]
    _post(replicas[0], "only")
    claims = race(8, lambda i: replicas[i % 4].outbox.claim_next())
    assert len([c for c in claims if c is not None]) == 1


def test_sent_messages_record_the_ts_and_the_alert_becomes_the_incidents_message(
    store: Store, clock: FixedClock
) -> None:
    incident = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    _post(store, "alert", incident_id=incident.id)
    message = store.outbox.claim_next()
    assert message is not None
    clock.set(START + timedelta(seconds=2))
    assert store.outbox.mark_sent(message, "1700000000.000100")
    assert not store.outbox.mark_sent(message, "1700000000.000999")  # a second mark changes nothing
    sent = store.outbox.get(message.id)
    assert sent is not None
    assert (sent.state, sent.slack_ts, sent.sent_at) == (
        OutboxState.SENT,
        "1700000000.000100",
        START + timedelta(seconds=2),
    )
    linked = store.incidents.get(incident.id)
    assert linked is not None
    assert (linked.channel, linked.message_ts, linked.thread_ts) == (
        "C_ALERTS",
        "1700000000.000100",
        "1700000000.000100",
    )
    assert store.outbox.pending_count() == 0
    assert not _post(store, "alert", incident_id=incident.id)  # sent once, never again


def test_updates_and_thread_replies_wait_for_the_alert_post(store: Store) -> None:
    incident = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    for kind, key in ((OutboxKind.UPDATE, "streak-2"), (OutboxKind.THREAD_REPLY, "reply-2")):
        store.outbox.enqueue(
            dedupe_key=key, channel="C_ALERTS", kind=kind, payload={}, incident_id=incident.id
        )
    assert store.outbox.claim_next() is None  # nothing to update yet
    _post(store, "alert", incident_id=incident.id)
    post = store.outbox.claim_next()
    assert post is not None and post.kind is OutboxKind.POST
    assert store.outbox.claim_next() is None
    store.outbox.mark_sent(post, "1700000000.000100")
    update = store.outbox.claim_next()
    reply = store.outbox.claim_next()
    assert update is not None and reply is not None
    assert (update.kind, reply.kind) == (OutboxKind.UPDATE, OutboxKind.THREAD_REPLY)


def test_a_retry_waits_for_its_time(store: Store, clock: FixedClock) -> None:
    _post(store, "alert")
    message = store.outbox.claim_next()
    assert message is not None
    retry_at = START + timedelta(seconds=30)
    assert store.outbox.mark_retry(message, "ratelimited", retry_at)
    assert store.outbox.claim_next() is None
    assert store.outbox.pending_count() == 1
    clock.set(retry_at)
    again = store.outbox.claim_next()
    assert again is not None and again.attempts == 2 and again.last_error == "ratelimited"


def test_a_dead_notifiers_claim_is_taken_over_and_its_late_mark_is_refused(
    store: Store, clock: FixedClock
) -> None:
    _post(store, "alert")
    stuck = store.outbox.claim_next(lease=timedelta(minutes=2))
    assert stuck is not None
    clock.set(START + timedelta(minutes=1))
    assert store.outbox.claim_next() is None  # still within its claim
    clock.set(START + timedelta(minutes=2))
    taken = store.outbox.claim_next()
    assert taken is not None and taken.id == stuck.id and taken.attempts == 2
    assert not store.outbox.mark_sent(stuck, "1.1")
    assert store.outbox.mark_sent(taken, "2.2")
    final = store.outbox.get(taken.id)
    assert final is not None and final.slack_ts == "2.2"


def test_a_message_slack_refuses_is_failed_for_good(store: Store) -> None:
    _post(store, "alert", channel="C_GONE")
    message = store.outbox.claim_next()
    assert message is not None
    assert store.outbox.mark_failed(message, "channel_not_found")
    assert store.outbox.claim_next() is None
    assert store.outbox.pending_count() == 0
    [failed] = store.outbox.failed()
    assert (failed.state, failed.last_error) == (OutboxState.FAILED, "channel_not_found")


def test_not_before_delays_a_message(store: Store, clock: FixedClock) -> None:
    _post(store, "digest", not_before=START + timedelta(hours=1))
    assert store.outbox.claim_next() is None
    clock.set(START + timedelta(hours=1))
    assert store.outbox.claim_next() is not None


def test_pending_count_per_channel(store: Store) -> None:
    _post(store, "a", channel="C1")
    _post(store, "b", channel="C1")
    _post(store, "c", channel="C2")
    store.outbox.claim_next(channel="C1")  # sending still counts as not yet sent
    assert store.outbox.pending_count("C1") == 2
    assert store.outbox.pending_count("C2") == 1
    assert store.outbox.pending_count() == 3


def test_prune_forgets_what_was_sent_long_ago_and_keeps_the_rest(
    store: Store, clock: FixedClock
) -> None:
    # A bot running for months: the outbox must not grow without end, nor lose a message.
    _post(store, "old-sent")
    _post(store, "old-failed")
    _post(store, "old-pending")
    sent = store.outbox.claim_next()
    assert sent is not None and sent.dedupe_key == "old-sent"
    assert store.outbox.mark_sent(sent, "1.0001")
    failed = store.outbox.claim_next()
    assert failed is not None and failed.dedupe_key == "old-failed"
    assert store.outbox.mark_failed(failed, "channel_not_found")
    clock.set(START + timedelta(days=40))
    _post(store, "recent-sent")
    recent = store.outbox.claim_next(lease=timedelta(minutes=2))
    while recent is not None and recent.dedupe_key != "recent-sent":
        assert store.outbox.mark_retry(recent, "later", START + timedelta(days=400))
        recent = store.outbox.claim_next()
    assert recent is not None and store.outbox.mark_sent(recent, "2.0001")
    assert store.outbox.prune(START + timedelta(days=30)) == 2
    assert store.outbox.find("old-sent") is None and store.outbox.find("old-failed") is None
    assert store.outbox.find("old-pending") is not None  # never sent: kept, still due later
    assert store.outbox.find("recent-sent") is not None
    assert store.outbox.prune(START + timedelta(days=30)) == 0


# -- updates whose incident message will never come ---------------------------------------------


def _child(store: Store, key: str, incident_id: int, kind: OutboxKind = OutboxKind.UPDATE) -> None:
    store.outbox.enqueue(
        dedupe_key=key, channel="C_ALERTS", kind=kind, payload={}, incident_id=incident_id
    )


def test_updates_of_an_incident_that_was_never_posted_are_given_up(
    store: Store, clock: FixedClock
) -> None:
    # A muted job's incident: no post, ever. Its updates must not wait forever.
    incident = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    _child(store, "update", incident.id)
    _child(store, "reply", incident.id, OutboxKind.THREAD_REPLY)
    assert store.outbox.claim_next() is None
    assert store.outbox.pending_count() == 2  # within the grace: a post may still come
    clock.set(START + outbox.ORPHAN_GRACE + timedelta(seconds=1))
    assert store.outbox.claim_next() is None
    assert store.outbox.pending_count() == 0
    for key in ("update", "reply"):
        row = store.outbox.find(key)
        assert row is not None and row.state is OutboxState.FAILED
        assert row.last_error is not None and row.last_error.startswith("given up")
    # Given up rows are pruned like any failed row.
    assert store.outbox.prune(START + timedelta(days=1)) == 2


def test_updates_of_an_incident_whose_post_failed_for_good_are_given_up(
    store: Store, clock: FixedClock
) -> None:
    incident = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    _post(store, "alert", incident_id=incident.id)
    _child(store, "update", incident.id)
    post = store.outbox.claim_next()
    assert post is not None and post.kind is OutboxKind.POST
    clock.set(START + timedelta(minutes=10))
    assert store.outbox.give_up_orphans() == 0  # the post is still on its way
    assert store.outbox.mark_failed(post, "channel_not_found")
    assert store.outbox.give_up_orphans(older_than=START) == 0  # younger rows keep waiting
    assert store.outbox.give_up_orphans(incident_id=incident.id + 1) == 0  # another incident
    assert store.outbox.give_up_orphans(incident_id=incident.id) == 1
    update = store.outbox.find("update")
    assert update is not None and update.state is OutboxState.FAILED
    assert store.outbox.pending_count() == 0


def test_updates_keep_waiting_while_the_post_is_retried_rerouted_or_in_a_rollup(
    store: Store, clock: FixedClock
) -> None:
    incident = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    other = store.incidents.open_or_bump_failure(IncidentKey("1001", "43"), "r2", START, "x")
    _post(store, "alert", incident_id=incident.id)
    _child(store, "update", incident.id)
    post = store.outbox.claim_next()
    assert post is not None
    assert store.outbox.mark_retry(post, "ratelimited", START + timedelta(hours=1))
    # The other incident's alert went into a roll-up's thread (a row of the roll-up's).
    rollup = store.incidents.open_or_bump_failure(IncidentKey("", "", "monitoring", "rollup:C"),
                                                  "rollup", START, None).incident  # fmt: skip
    _post(store, "rollup-post", incident_id=rollup.id, not_before=START + timedelta(hours=1))
    store.outbox.enqueue(
        dedupe_key=f"rollup:{rollup.id}:member:{other.incident.id}", channel="C_ALERTS",
        kind=OutboxKind.THREAD_REPLY, payload={}, incident_id=rollup.id,
    )  # fmt: skip
    _child(store, "other-update", other.incident.id)
    clock.set(START + timedelta(minutes=30))
    assert store.outbox.give_up_orphans() == 0
    assert store.outbox.post_coming(incident.id) and store.outbox.post_coming(other.incident.id)
    # The roll-up's own replies wait for its post, which is not sent yet, like any update.
    assert store.outbox.claim_next() is None
    assert store.outbox.pending_count() == 5
    # Once the roll-up's post failed for good, its thread entries are given up, and then so
    # are the updates of the alerts that were to become those entries.
    clock.set(START + timedelta(hours=1))
    first = store.outbox.claim_next()
    assert first is not None and first.dedupe_key == "alert"
    assert store.outbox.mark_retry(first, "later", START + timedelta(hours=2))
    rollup_post = store.outbox.claim_next()
    assert rollup_post is not None and rollup_post.dedupe_key == "rollup-post"
    assert store.outbox.mark_failed(rollup_post, "channel_not_found")
    assert store.outbox.give_up_orphans() == 1  # the entry
    assert store.outbox.give_up_orphans() == 1  # then the member's own update
    assert not store.outbox.post_coming(other.incident.id)
    assert store.outbox.post_coming(incident.id)  # still retried
