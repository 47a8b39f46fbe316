"""Snooze from the alert's select: the message says until when, no thread noise until then
(on the injected clock), one reminder when it runs out, and a resolved alert is not snoozed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import actions
from bot.store.records import IncidentKey, IncidentKind
from sandbox.slack.state import Message
from tests.interactions.conftest import ALICE, BOB, Stack, flat


def _option(alert: Message, choice: str) -> str:
    for block in alert.blocks:
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            for option in el.get("options", []):
                if actions.decode(option["value"], actions.JOBS_SNOOZE).snooze == choice:
                    return str(option["value"])
    raise AssertionError(f"no snooze option {choice}")


def _remind(stack: Stack) -> int:
    assert stack.bot.answers.interactions is not None
    return stack.bot.answers.interactions.remind_snoozes()


def test_snooze_quiets_the_thread_until_then_and_reminds_once(alerted) -> None:
    stack, job, _, alert = alerted
    stack.click(alert, actions.JOBS_SNOOZE, BOB, _option(alert, "4h"))
    now = stack.current(alert)
    assert "Snoozed by <@U02BOB> until" in flat(now)
    assert stack.incident().snoozed_until == stack.clock.now() + timedelta(hours=4)
    lines = len(stack.thread(alert))
    stack.fail(job, "again while snoozed")
    stack.poll()
    assert "2nd failure in a row" in flat(stack.current(alert))  # the message stays current
    assert len(stack.thread(alert)) == lines  # but the thread is quiet
    assert _remind(stack) == 0  # not yet
    stack.tick(minutes=4 * 60)
    assert _remind(stack) == 1
    assert _remind(stack) == 1  # idempotent: the outbox keeps one (dedupe key)
    thread = stack.thread(alert)
    reminders = [t for t in thread if "snooze has ended" in t]
    assert len(reminders) == 1 and "<@U02BOB>" in reminders[0]
    assert "Snoozed by" not in flat(stack.current(alert))
    (entry,) = stack.audit("snooze")
    assert entry.result == "ok" and entry.detail["choice"] == "4h"


def test_until_tomorrow_is_nine_in_the_configured_time_zone(alerted) -> None:
    stack, _, _, alert = alerted
    stack.click(alert, actions.JOBS_SNOOZE, ALICE, _option(alert, "tomorrow"))
    # 09:00 in Europe/Amsterdam (CET, UTC+1) the next day.
    assert stack.incident().snoozed_until == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_a_resolved_alert_is_not_snoozed(alerted) -> None:
    stack, job, _, alert = alerted
    option = _option(alert, "1h")
    stack.succeed(job)
    stack.poll()
    stack.drain()
    # The resolved message has no select any more: the click comes from an old copy of it.
    with stack.sb.server.state.lock:
        stack.sb.server.state.find(alert.channel, alert.id).blocks = alert.blocks
    stack.click(alert, actions.JOBS_SNOOZE, ALICE, option, ephemeral=True)
    said = stack.said_to(ALICE)[-1]
    assert "already resolved" in said and "nothing left to snooze" in said
    assert stack.audit("snooze")[0].result == "resolved"


def test_the_snooze_line_gives_a_date_only_for_another_day(alerted) -> None:
    stack, _, _, alert = alerted
    stack.click(alert, actions.JOBS_SNOOZE, BOB, _option(alert, "4h"))
    today = next(t for t in stack.thread(alert) if "Snoozed by" in t)
    end = stack.clock.now() + timedelta(hours=4)  # the same day, in Amsterdam
    local = end.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%H:%M %Z")
    until = f"<!date^{int(end.timestamp())}^{{time}}|{local}>"
    assert f"😴 Snoozed by <@U02BOB> until {until}: no repeats" in today
    stack.click(stack.current(alert), actions.JOBS_SNOOZE, BOB, _option(alert, "tomorrow"))
    tomorrow = [t for t in stack.thread(alert) if "Snoozed by" in t][-1]
    nine = int(datetime(2026, 3, 3, 8, 0, tzinfo=UTC).timestamp())
    assert (
        f"until <!date^{nine}^{{date_short_pretty}} at {{time}}|Tue 03 Mar 09:00 CET>" in tomorrow
    )


class _Lines:
    """Stands in for the alerts' outbox side: the thread lines the reminders would post."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def enqueue_update(self, incident: Any, channel: str, why: str) -> None:
        pass

    def enqueue_thread(self, incident: Any, channel: str, why: str, line: str, quote=None) -> None:
        self.lines.append(line)


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        (IncidentKind.FAILURE, "still failing (1 in a row)"),
        (IncidentKind.SLA, "the SLA is still not met"),
        (IncidentKind.MISSED_RUN, "the job has still not run"),
    ],
)
def test_the_reminder_says_what_is_still_wrong_for_its_kind(
    stack: Stack, kind: IncidentKind, says: str
) -> None:
    now = stack.clock.now()
    opened = stack.store.incidents.open_or_bump_failure(
        IncidentKey(stack.ws, "101", kind), "breached@1", now, "late", job_name="daily_orders"
    ).incident
    stack.store.incidents.set_message(opened.id, "C02ALERTS", "1772442000.000100")
    stack.store.incidents.snooze(opened.id, BOB, now + timedelta(hours=1))
    interactions = stack.bot.answers.interactions
    assert interactions is not None
    lines = _Lines()
    interactions.alerts = lines  # type: ignore[assignment]
    stack.tick(minutes=61)
    assert _remind(stack) == 1
    (line,) = lines.lines
    assert line.startswith("⏰ <@U02BOB>, the snooze has ended and ") and says in line
    if kind != IncidentKind.FAILURE:
        assert "failing" not in line and "in a row" not in line
