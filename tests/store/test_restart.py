"""A restart (close, open again) keeps every piece of state: the open incident with its
message and ack, the unsent outbox row, mutes, watermarks, leases and the audit log."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FixedClock
from bot.models import JobKey
from bot.store import IncidentKey, OutboxKind, OutboxState, Store
from tests.store.conftest import START

JOB = IncidentKey("1001", "42")


def test_close_and_reopen_keeps_everything(store_url: str, clock: FixedClock) -> None:
    with Store.open(store_url, clock) as before:
        incident = before.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
        before.outbox.enqueue(
            dedupe_key="alert", channel="C1", kind=OutboxKind.POST, payload={"blocks": []},
            incident_id=incident.id,
        )  # fmt: skip
        sent = before.outbox.claim_next()
        assert sent is not None
        before.outbox.mark_sent(sent, "1700000000.000100")
        before.outbox.enqueue(
            dedupe_key="reply", channel="C1", kind=OutboxKind.THREAD_REPLY, payload={},
            incident_id=incident.id,
        )  # fmt: skip
        before.incidents.ack(incident.id, "U_ANA")
        before.mutes.mute(JobKey("1001", "43"), "U_ANA", START + timedelta(hours=1))
        before.watermarks.set("failures", {"end_time": "2026-03-02T09:00:00Z"}, "1001")
        before.leases.acquire("poller", "replica-a", timedelta(minutes=1))
        before.audit.record("ack", "ok", actor_id="U_ANA", incident_id=incident.id)

    clock.set(START + timedelta(seconds=10))
    with Store.open(store_url, clock) as after:
        [still_open] = after.incidents.open_incidents()
        assert still_open.id == incident.id
        assert (still_open.acked_by, still_open.message_ts) == ("U_ANA", "1700000000.000100")
        # The same failed run reported again after the restart sends nothing new.
        again = after.incidents.open_or_bump_failure(JOB, "r1", START, "boom")
        assert not again.is_new_run
        assert not after.outbox.enqueue(
            dedupe_key="alert", channel="C1", kind=OutboxKind.POST, payload={}
        )
        reply = after.outbox.claim_next()
        assert reply is not None and reply.dedupe_key == "reply"
        assert reply.state is OutboxState.SENDING
        mute = after.mutes.active_mute(JobKey("1001", "43"))
        assert mute is not None and mute.muted_by == "U_ANA"
        mark = after.watermarks.get("failures", "1001")
        assert mark is not None and mark.value == {"end_time": "2026-03-02T09:00:00Z"}
        assert after.leases.holder("poller") == "replica-a"
        assert [e.action for e in after.audit.entries()] == ["ack"]
