"""Incidents as the on-call engineer sees them: one alert per broken job however many pollers
report it, a streak that counts each failed run once, acknowledgements that cannot be made
twice, and recovery that closes the incident."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.clock import FixedClock
from bot.store import IncidentKey, IncidentKind, IncidentState, Store
from tests.store.conftest import START
from tests.store.racing import race

JOB = IncidentKey("1001", "42")


def test_first_failure_opens_an_incident(store: Store) -> None:
    outcome = store.incidents.open_or_bump_failure(
        JOB, "r1", START, "NullPointerException", job_name="nightly_sales"
    )
    assert outcome.created and outcome.is_new_run
    incident = outcome.incident
    assert incident.state is IncidentState.OPEN
    assert (incident.streak, incident.last_run_id, incident.last_error) == (
        1,
        "r1",
        "NullPointerException",
    )
    assert incident.first_failure_at == incident.last_failure_at == START
    assert incident.job_name == "nightly_sales"
    assert store.incidents.get(incident.id) == incident
    assert store.incidents.find_open(JOB) == incident


def test_the_same_run_reported_twice_bumps_nothing(store: Store) -> None:
    first = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom")
    again = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom")
    assert (again.created, again.is_new_run) == (False, False)
    assert again.incident == first.incident


def test_a_second_failed_run_bumps_the_streak_on_the_same_incident(store: Store) -> None:
    first = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom")
    later = START + timedelta(hours=1)
    second = store.incidents.open_or_bump_failure(JOB, "r2", later, "bang")
    assert (second.created, second.is_new_run) == (False, True)
    assert second.incident.id == first.incident.id
    assert (second.incident.streak, second.incident.last_run_id) == (2, "r2")
    assert second.incident.last_error == "bang"
    assert second.incident.first_failure_at == START
    assert second.incident.last_failure_at == later
    assert second.incident.version > first.incident.version


def test_a_late_reported_older_run_counts_but_does_not_become_the_last(store: Store) -> None:
    store.incidents.open_or_bump_failure(JOB, "r2", START, "newest")
    late = store.incidents.open_or_bump_failure(JOB, "r1", START - timedelta(hours=1), "older")
    assert late.is_new_run
    assert late.incident.streak == 2
    assert (late.incident.last_run_id, late.incident.last_error) == ("r2", "newest")
    assert late.incident.last_failure_at == START


def test_kinds_and_keys_are_separate_incidents(store: Store) -> None:
    failure = store.incidents.open_or_bump_failure(JOB, "r1", START, None)
    sla = IncidentKey("1001", "42", IncidentKind.SLA, "by-07:00")
    breach = store.incidents.open_or_bump_failure(sla, "2026-03-02", START, "late")
    other_workspace = store.incidents.open_or_bump_failure(
        IncidentKey("2002", "42"), "r1", START, None
    )
    assert failure.created and breach.created and other_workspace.created
    assert len({failure.incident.id, breach.incident.id, other_workspace.incident.id}) == 3
    assert [i.id for i in store.incidents.open_incidents(IncidentKind.SLA)] == [breach.incident.id]
    assert len(store.incidents.open_incidents()) == 3


def test_a_success_resolves_and_the_next_failure_opens_a_new_incident(store: Store) -> None:
    first = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    resolved = store.incidents.resolve(JOB, START + timedelta(minutes=30), run_id="r2")
    assert resolved is not None and resolved.id == first.id
    assert resolved.state is IncidentState.RESOLVED
    assert resolved.resolved_at == START + timedelta(minutes=30)
    assert resolved.resolved_run_id == "r2"
    assert store.incidents.resolve(JOB, START + timedelta(minutes=31)) is None
    assert store.incidents.open_incidents() == []

    again = store.incidents.open_or_bump_failure(JOB, "r3", START + timedelta(hours=1), "boom")
    assert again.created and again.incident.id != first.id and again.incident.streak == 1


def test_a_resolved_run_reported_again_reopens_nothing(store: Store) -> None:
    first = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    store.incidents.resolve(JOB, START + timedelta(minutes=30))
    replay = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom")
    assert (replay.created, replay.is_new_run) == (False, False)
    assert replay.incident.id == first.id
    assert replay.incident.state is IncidentState.RESOLVED
    assert store.incidents.open_incidents() == []


def test_an_older_success_does_not_resolve_a_newer_failure(store: Store) -> None:
    store.incidents.open_or_bump_failure(JOB, "r2", START, "boom")
    assert store.incidents.resolve(JOB, START - timedelta(minutes=5), run_id="r1") is None
    assert store.incidents.find_open(JOB) is not None


def test_racing_pollers_and_replicas_open_exactly_one_incident(
    open_store: Callable[[], Store],
) -> None:
    replicas = [open_store() for _ in range(4)]
    # Eight callers on four replicas, each reporting a different failed run of one job.
    outcomes = race(
        8,
        lambda i: replicas[i % 4].incidents.open_or_bump_failure(
            JOB, f"r{i}", START + timedelta(seconds=i), "boom"
        ),
    )
    assert sum(o.created for o in outcomes) == 1
    assert len({o.incident.id for o in outcomes}) == 1
    [incident] = replicas[0].incidents.open_incidents()
    assert incident.streak == 8
    assert incident.last_run_id == "r7"


def test_racing_reports_of_one_run_count_it_once(open_store: Callable[[], Store]) -> None:
    replicas = [open_store() for _ in range(4)]
    outcomes = race(
        8, lambda i: replicas[i % 4].incidents.open_or_bump_failure(JOB, "r1", START, "boom")
    )
    assert sum(o.created for o in outcomes) == 1
    assert sum(o.is_new_run for o in outcomes) == 1
    [incident] = replicas[0].incidents.open_incidents()
    assert incident.streak == 1


def test_acknowledge_double_click_makes_one_ack_and_the_loser_sees_the_winner(
    open_store: Callable[[], Store],
) -> None:
    a, b = open_store(), open_store()
    incident = a.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    users = ["U_ANA", "U_BEN", "U_ANA", "U_BEN", "U_CAT", "U_ANA"]
    outcomes = race(len(users), lambda i: (a, b)[i % 2].incidents.ack(incident.id, users[i]))
    winners = [i for i, o in enumerate(outcomes) if o.won]
    assert len(winners) == 1
    winner = users[winners[0]]
    for outcome in outcomes:
        assert outcome.incident is not None
        assert outcome.incident.acked_by == winner
    stored = a.incidents.get(incident.id)
    assert stored is not None and stored.acked_by == winner and stored.acked_at == START


def test_unacknowledge_then_acknowledge_again(store: Store, clock: FixedClock) -> None:
    incident = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    assert store.incidents.ack(incident.id, "U_ANA").won
    assert store.incidents.unack(incident.id, "U_ANA").won
    assert not store.incidents.unack(incident.id, "U_ANA").won
    clock.set(START + timedelta(minutes=5))
    again = store.incidents.ack(incident.id, "U_BEN")
    assert again.won and again.incident is not None
    assert (again.incident.acked_by, again.incident.acked_at) == (
        "U_BEN",
        START + timedelta(minutes=5),
    )


def test_an_ack_survives_later_failures_and_ends_with_the_incident(store: Store) -> None:
    incident = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    store.incidents.ack(incident.id, "U_ANA")
    bumped = store.incidents.open_or_bump_failure(JOB, "r2", START + timedelta(hours=1), "x")
    assert bumped.incident.acked_by == "U_ANA"
    store.incidents.resolve(JOB, START + timedelta(hours=2))
    late = store.incidents.ack(incident.id, "U_BEN")
    assert not late.won and late.incident is not None
    assert late.incident.state is IncidentState.RESOLVED
    assert store.incidents.ack(999_999, "U_BEN") == (False, None)


def test_snooze_holds_until_the_clock_passes_it(store: Store, clock: FixedClock) -> None:
    incident = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    until = START + timedelta(hours=4)
    outcome = store.incidents.snooze(incident.id, "U_ANA", until)
    assert outcome.won and outcome.incident is not None
    snoozed = outcome.incident
    assert (snoozed.snoozed_by, snoozed.snoozed_until) == ("U_ANA", until)
    assert snoozed.snoozed_at(clock.now())
    clock.set(until)
    assert not snoozed.snoozed_at(clock.now())


def test_the_message_is_recorded_once(store: Store) -> None:
    incident = store.incidents.open_or_bump_failure(JOB, "r1", START, "boom").incident
    assert store.incidents.set_message(incident.id, "C_ALERTS", "1700000000.000100")
    assert not store.incidents.set_message(incident.id, "C_OTHER", "1700000000.000200")
    stored = store.incidents.get(incident.id)
    assert stored is not None
    assert (stored.channel, stored.message_ts, stored.thread_ts) == (
        "C_ALERTS",
        "1700000000.000100",
        "1700000000.000100",
    )


def test_detail_is_kept_and_replaced_by_a_bump(store: Store) -> None:
    key = IncidentKey("1001", "42", IncidentKind.COST_ANOMALY, "2026-03-02")
    first = store.incidents.open_or_bump_failure(
        key, "2026-03-02", START, None, detail={"baseline": "12.50", "today": "80.00"}
    )
    assert first.incident.detail == {"baseline": "12.50", "today": "80.00"}
    second = store.incidents.open_or_bump_failure(
        key, "2026-03-02#2", START, None, detail={"baseline": "12.50", "today": "95.00"}
    )
    assert second.incident.detail == {"baseline": "12.50", "today": "95.00"}


def test_open_or_resolved_since_lists_what_may_still_learn_a_late_fact(
    store: Store, clock: FixedClock
) -> None:
    old = store.incidents.open_or_bump_failure(IncidentKey("1", "1"), "r1", START, "x").incident
    store.incidents.resolve(old.incident_key, START + timedelta(hours=1))
    recent = store.incidents.open_or_bump_failure(IncidentKey("1", "2"), "r2", START, "x").incident
    store.incidents.resolve(recent.incident_key, START + timedelta(days=3))
    still = store.incidents.open_or_bump_failure(
        IncidentKey("1", "3"), "r3", START + timedelta(minutes=5), "x"
    ).incident
    other_kind = IncidentKey("1", "4", IncidentKind.SLA)
    store.incidents.open_or_bump_failure(other_kind, "r4", START, "x")
    found = store.incidents.open_or_resolved_since(IncidentKind.FAILURE, START + timedelta(days=2))
    assert [i.id for i in found] == [still.id, recent.id]  # newest failure first
