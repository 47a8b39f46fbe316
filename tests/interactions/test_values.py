"""Clicks that must not change anything: forged or stale signatures (401), and button values
that are damaged, from an unknown version, about an incident the store no longer has, or
edited by hand to point elsewhere — each answered with a clear ephemeral (never an error id),
edited ones audited. And the anomaly feedback buttons."""

from __future__ import annotations

import time
from datetime import date

import pytest

from bot import actions
from bot.store.records import Verdict
from sandbox.slack.state import Message
from tests.interactions.conftest import ALERTS, ALICE, BOB, WS, Stack


def _set_value(stack: Stack, alert: Message, action_id: str, value: str) -> None:
    """What a person editing the payload in their browser would send."""
    with stack.sb.server.state.lock:
        msg = stack.sb.server.state.find(ALERTS, alert.id)
        for block in msg.blocks:
            for el in block.get("elements", []) if block.get("type") == "actions" else []:
                if el.get("action_id") == action_id:
                    el["value"] = value


@pytest.mark.parametrize("fault", ["forged_signature", "stale_signature"])
def test_bad_signatures_get_401_and_change_nothing(alerted, fault: str) -> None:
    stack, _, _, alert = alerted
    stack.sb.faults.add(fault, times=1)
    seen = stack.sb.click(alert, actions.JOBS_ACK, user=ALICE, timeout=0)
    assert (seen.status, seen.http_status) == ("rejected", 401)
    time.sleep(0.3)
    assert stack.incident().acked_by is None and stack.audit() == []
    assert stack.sb.ephemerals(ALICE, ALERTS) == []


@pytest.mark.parametrize(
    ("value", "said", "audited"),
    [
        ("{not json", "damaged or was not made by jobs-bot", True),
        ('{"v":9,"a":"1"}', "version of jobs-bot", True),
        ('{"v":1,"a":"999"}', "no longer know this alert", True),
    ],
)
def test_bad_values_are_refused_clearly(alerted, value: str, said: str, audited: bool) -> None:
    stack, _, _, alert = alerted
    _set_value(stack, alert, actions.JOBS_ACK, value)
    stack.click(alert, actions.JOBS_ACK, ALICE, ephemeral=True)
    text = stack.said_to(ALICE)[-1]
    assert said in text and "error id" not in text
    assert stack.incident().acked_by is None
    assert bool(stack.audit()) is audited


def test_a_value_pointing_at_another_alert_is_refused_and_audited(stack: Stack) -> None:
    first, second = stack.job("nightly_sales"), stack.job("daily_orders")
    stack.poll()
    stack.fail(first)
    stack.fail(second)
    stack.poll()
    stack.drain()
    alerts = [m for m in stack.sb.messages(ALERTS) if m.bot_id]
    by_text = {("daily_orders" in m.text): m for m in alerts}
    sales, ml = by_text[False], by_text[True]
    ml_incident = next(
        i for i in stack.store.incidents.open_incidents() if i.job_name == "daily_orders"
    )
    _set_value(stack, sales, actions.JOBS_ACK, actions.encode(alert_id=str(ml_incident.id)))
    stack.click(sales, actions.JOBS_ACK, ALICE, ephemeral=True)
    assert "does not match the alert" in stack.said_to(ALICE)[-1]
    assert all(i.acked_by is None for i in stack.store.incidents.open_incidents())
    (entry,) = stack.audit("button_rejected")
    assert entry.actor_id == ALICE and entry.incident_id == ml_incident.id
    # A rerun value edited to another job is refused the same way, before Databricks.
    _set_value(
        stack,
        ml,
        actions.JOBS_RERUN,
        actions.encode(
            workspace_id=int(stack.ws), job_id=first, run_id=1, alert_id=str(ml_incident.id)
        ),
    )
    stack.click(ml, actions.JOBS_RERUN, BOB, ephemeral=True)
    assert "does not match the alert" in stack.said_to(BOB)[-1]
    assert stack.server.calls(int(stack.ws)).get("jobs/runs/repair", 0) == 0
    assert len(stack.audit("button_rejected")) == 2


def test_anomaly_feedback_is_stored_audited_and_thanked(stack: Stack) -> None:
    client = stack.sb.client()
    buttons = [
        {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": label},
            "value": actions.encode(key="job:111/101", day=date(2026, 3, 1)),
        }
        for action_id, label in (
            (actions.JOBS_FEEDBACK_EXPECTED, "Expected"),
            (actions.JOBS_FEEDBACK_NOT_ANOMALY, "Not an anomaly"),
        )
    ]
    posted = client.chat_postMessage(
        channel=ALERTS, text="cost anomaly", blocks=[{"type": "actions", "elements": buttons}]
    )
    msg = Message(ALERTS, posted["ts"], "cost anomaly")
    stack.click(msg, actions.JOBS_FEEDBACK_EXPECTED, ALICE, ephemeral=True)
    said = stack.said_to(ALICE)[-1]
    assert "Thanks" in said and "expected" in said and "stop being flagged" in said
    (verdict,) = stack.store.feedback.for_subject("job", "111/101")
    assert (verdict.verdict, verdict.given_by) == (Verdict.EXPECTED, ALICE)
    stack.click(msg, actions.JOBS_FEEDBACK_NOT_ANOMALY, ALICE, ephemeral=True)
    (verdict,) = stack.store.feedback.for_subject("job", "111/101")
    assert verdict.verdict is Verdict.NOT_ANOMALY  # the second answer replaces the first
    entries = stack.audit("feedback")
    assert [e.result for e in entries] == ["not_anomaly", "expected"]
    assert entries[0].job_id == "101" and entries[0].actor_email == "alice@example.com"


def test_a_refused_value_is_audited_with_the_clickers_email(alerted) -> None:
    stack, _, _, alert = alerted
    _set_value(stack, alert, actions.JOBS_ACK, "{not json")
    stack.click(alert, actions.JOBS_ACK, ALICE, ephemeral=True)
    (entry,) = stack.audit("button_rejected")
    assert (entry.actor_id, entry.actor_email) == (ALICE, "alice@example.com")


def test_a_refusal_does_not_wait_for_a_slow_slack_directory(alerted) -> None:
    stack, _, _, alert = alerted
    stack.sb.faults.slow("users.info", 8)  # the email lookup hangs
    _set_value(stack, alert, actions.JOBS_ACK, '{"v":1,"a":"999"}')
    started = time.monotonic()
    stack.click(alert, actions.JOBS_ACK, ALICE, ephemeral=True)
    took = time.monotonic() - started
    stack.sb.faults.clear()
    assert "no longer know this alert" in stack.said_to(ALICE)[-1]
    assert took < 5  # answered long before Slack's directory would have
    (entry,) = stack.audit("button_stale")
    assert (entry.actor_id, entry.actor_email) == (ALICE, None)  # audited all the same


def _button_message(stack: Stack, action_id: str, value: str) -> Message:
    posted = stack.sb.client().chat_postMessage(
        channel=ALERTS,
        text="an old message",
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "text": {"type": "plain_text", "text": "Do it"},
                        "value": value,
                    }
                ],
            }
        ],
    )
    return Message(ALERTS, posted["ts"], "an old message")


@pytest.mark.parametrize("action_id", [actions.JOBS_RERUN_CONFIRMED, "jobs_retired_in_2024"])
def test_a_button_this_version_does_not_handle_gets_a_clear_answer(alerted, action_id: str) -> None:
    stack, job, run, _ = alerted
    value = actions.encode(workspace_id=WS, job_id=job, run_id=run)
    msg = _button_message(stack, action_id, value)
    seen = stack.sb.click(msg, action_id, user=BOB, timeout=0)
    assert (seen.status, seen.http_status) == ("ok", 200)  # acked, not Bolt's 404
    assert stack.sb.wait_until(lambda: stack.sb.ephemerals(BOB, ALERTS), 5)
    said = stack.sb.ephemerals(BOB, ALERTS)[-1].text
    assert "older version of jobs-bot" in said and "nothing was done" in said
    assert "error id" not in said
    assert stack.server.calls(WS).get("jobs/runs/repair", 0) == 0 and stack.audit() == []


def test_anomaly_feedback_names_its_alert_in_the_audit(alerted) -> None:
    stack, _, _, _ = alerted
    incident = stack.incident()
    value = actions.encode(key="job:111/101", day=date(2026, 3, 1), alert_id=str(incident.id))
    msg = _button_message(stack, actions.JOBS_FEEDBACK_EXPECTED, value)
    stack.click(msg, actions.JOBS_FEEDBACK_EXPECTED, ALICE, ephemeral=True)
    (entry,) = stack.audit("feedback")
    assert (entry.result, entry.incident_id, entry.job_id) == ("expected", incident.id, "101")
