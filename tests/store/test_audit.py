"""The audit log as `jobs-bot audit` reads it: every action with who, what and the result,
newest first, filtered by time, job, person, action or incident."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FixedClock
from bot.models import JobKey
from bot.store import Store
from tests.store.conftest import START


def _fill(store: Store, clock: FixedClock) -> None:
    store.audit.record(
        "ack", "ok", actor_id="U_ANA", actor_email="ana@example.com",
        workspace_id="1001", job_id="42", run_id="r1", incident_id=1,
    )  # fmt: skip
    clock.set(START + timedelta(minutes=5))
    store.audit.record(
        "rerun", "denied", actor_id="U_BEN", workspace_id="1001", job_id="42",
        run_id="r1", detail={"reason": "not in permissions.rerun"},
    )  # fmt: skip
    clock.set(START + timedelta(minutes=10))
    store.audit.record("mute", "ok", actor_id="U_ANA", workspace_id="1001", job_id="43")


def test_entries_come_back_newest_first_with_everything_recorded(
    store: Store, clock: FixedClock
) -> None:
    _fill(store, clock)
    entries = store.audit.entries()
    assert [e.action for e in entries] == ["mute", "rerun", "ack"]
    ack = entries[-1]
    assert (ack.at, ack.actor_id, ack.actor_email, ack.result) == (
        START,
        "U_ANA",
        "ana@example.com",
        "ok",
    )
    assert (ack.workspace_id, ack.job_id, ack.run_id, ack.incident_id) == ("1001", "42", "r1", 1)
    assert entries[1].detail == {"reason": "not in permissions.rerun"}


def test_entries_filter_by_time_job_actor_action_and_incident(
    store: Store, clock: FixedClock
) -> None:
    _fill(store, clock)
    since = START + timedelta(minutes=5)
    assert [e.action for e in store.audit.entries(since)] == ["mute", "rerun"]
    assert [e.action for e in store.audit.entries(until=since)] == ["ack"]
    assert [e.action for e in store.audit.entries(job=JobKey("1001", "42"))] == ["rerun", "ack"]
    assert [e.action for e in store.audit.entries(job=JobKey("2002", "42"))] == []
    assert [e.action for e in store.audit.entries(actor_id="U_ANA")] == ["mute", "ack"]
    assert [e.action for e in store.audit.entries(action="rerun")] == ["rerun"]
    assert [e.action for e in store.audit.entries(incident_id=1)] == ["ack"]
    assert [e.action for e in store.audit.entries(limit=1)] == ["mute"]


def test_an_explicit_time_is_kept(store: Store) -> None:
    at = START - timedelta(days=1)
    entry = store.audit.record("snooze", "ok", actor_id="U_ANA", at=at)
    assert entry.at == at
    assert store.audit.entries(since=START) == []
