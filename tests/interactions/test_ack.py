"""Acknowledge and Unacknowledge, clicked in the sandbox and handled by the real Bolt app: the
alert is updated in place, the thread says who, two clicks at once make one ack, and the ack
holds (pings nobody) until the incident resolves."""

from __future__ import annotations

import threading
from zoneinfo import ZoneInfo

from bot import actions
from tests.interactions.conftest import ALERTS, ALICE, BOB, CAROL, flat, labels


def test_acknowledge_updates_the_alert_in_place_and_threads_who(alerted) -> None:
    stack, _, _, alert = alerted
    assert "Acknowledge" in labels(alert)
    stack.click(alert, actions.JOBS_ACK, ALICE)
    now = stack.current(alert)
    assert now.ts == alert.ts and now.edited  # the same message, changed
    assert "Acknowledged by <@U01ALICE>" in flat(now)
    assert "Unacknowledge" in labels(now) and "Acknowledge" not in labels(now)
    assert any("👀 Acknowledged by <@U01ALICE>" in t for t in stack.thread(alert))
    assert stack.incident().acked_by == ALICE
    (entry,) = stack.audit("ack")
    assert (entry.actor_id, entry.actor_email, entry.result) == (ALICE, "alice@example.com", "ok")
    assert entry.incident_id == stack.incident().id and entry.job_id == str(
        stack.jobs["nightly_sales"]
    )


def test_unacknowledge_gives_the_button_back(alerted) -> None:
    stack, _, _, alert = alerted
    stack.click(alert, actions.JOBS_ACK, ALICE)
    acked = stack.current(alert)
    stack.click(acked, actions.JOBS_UNACK, BOB)
    now = stack.current(alert)
    assert "Acknowledged by" not in flat(now) and "Acknowledge" in labels(now)
    assert stack.incident().acked_by is None
    assert any("taken back by <@U02BOB>" in t for t in stack.thread(alert))
    assert [e.result for e in stack.audit("unack")] == ["ok"]


def test_two_people_at_once_make_one_ack_and_the_loser_hears_who_won(alerted) -> None:
    stack, _, _, alert = alerted
    before = len(stack.audit())
    go = threading.Barrier(3)

    def click(user: str) -> None:
        go.wait()
        stack.sb.click(alert, actions.JOBS_ACK, user=user, timeout=0)

    threads = [threading.Thread(target=click, args=(u,)) for u in (ALICE, BOB, CAROL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stack.sb.wait_until(lambda: len(stack.audit()) >= before + 3, 10)
    results = sorted(e.result for e in stack.audit("ack"))
    assert results == ["lost", "lost", "ok"]
    winner = stack.incident().acked_by
    losers = {ALICE, BOB, CAROL} - {winner}
    for user in losers:
        assert stack.sb.wait_until(lambda u=user: stack.said_to(u), 5)
        assert f"<@{winner}> acknowledged this alert first" in stack.said_to(user)[0]
    assert sum("Acknowledged by" in t for t in stack.thread(alert)) == 1


def test_a_double_click_is_one_ack(alerted) -> None:
    stack, _, _, alert = alerted
    stack.click(alert, actions.JOBS_ACK, ALICE)
    stack.click(alert, actions.JOBS_ACK, ALICE, ephemeral=True)
    assert "You already acknowledged" in stack.said_to(ALICE)[-1]
    assert sum("Acknowledged by" in t for t in stack.thread(alert)) == 1


def test_an_ack_holds_through_later_failures_and_ends_with_the_incident(alerted) -> None:
    stack, job, _, alert = alerted
    stack.click(alert, actions.JOBS_ACK, ALICE)
    stack.drain()
    stack.fail(job, "again")
    stack.poll()
    now = stack.current(alert)
    assert "2nd failure in a row" in flat(now) and "Acknowledged by <@U01ALICE>" in flat(now)
    later = stack.thread(alert)[-1]
    assert "Failed again" in later and "<@" not in later  # pings nobody
    stack.succeed(job)
    stack.poll()
    assert stack.store.incidents.open_incidents() == []
    stack.fail(job, "a new incident")
    stack.poll()
    assert stack.incident().acked_by is None  # a new incident starts unacknowledged
    stack.drain()
    assert len([m for m in stack.sb.messages(ALERTS) if m.bot_id]) == 2


def test_a_resolved_alert_says_so(alerted) -> None:
    stack, job, _, alert = alerted
    stack.succeed(job)
    stack.poll()
    stack.click(alert, actions.JOBS_ACK, ALICE, ephemeral=True)
    assert "already resolved" in stack.said_to(ALICE)[-1]


def test_the_ack_thread_line_says_when(alerted) -> None:
    stack, _, _, alert = alerted
    stack.click(alert, actions.JOBS_ACK, ALICE)
    line = next(t for t in stack.thread(alert) if "Acknowledged by" in t)
    # "👀 Acknowledged by @ana at 10:02": the time in each reader's zone, 10:00 CET as fallback.
    now = stack.clock.now()
    local = now.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%H:%M %Z")
    expected = f"👀 Acknowledged by <@U01ALICE> at <!date^{int(now.timestamp())}^{{time}}|{local}>"
    assert expected in line
