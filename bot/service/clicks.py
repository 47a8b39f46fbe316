"""What every button use case shares: the click as the service sees it (no Slack types), the
ephemeral reply it gives back, the ports it writes through, and reading a button's value and
incident once — refusing (and auditing) values that are damaged, stale or edited by hand.

A refused value's audit entry names the clicker by Slack id and, when the directory answers
quickly, by email (`EmailOf`, e.g. Gatekeeper.email_for_audit: bounded, never raising), so a
refusal is neither slow nor lost when Slack is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot import actions
from bot.actions import BadButtonValue, ButtonValue
from bot.render import Renderer
from bot.render.mrkdwn import slack_date
from bot.store.records import Incident

# The clicker's email for an audit entry, or None (unknown, or Slack too slow to ask).
EmailOf = Callable[[str], str | None]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Click:
    """One button press: who, which action, the raw value (a select's chosen option value),
    and the message it was on (None for ephemeral containers)."""

    user_id: str
    action_id: str
    value: str | None
    channel_id: str | None = None
    message_ts: str | None = None


@dataclass(frozen=True)
class Reply:
    """An ephemeral answer to the person who clicked (a Block Kit message)."""

    text: str
    blocks: list[dict[str, Any]]


class AlertsPort(Protocol):
    """bot.service.alerts.FailureAlerts by shape: how an incident's message and thread change."""

    def render(self, incident: Incident) -> dict[str, Any]: ...

    def enqueue_update(self, incident: Incident, channel: str, why: str) -> None: ...

    def enqueue_thread(
        self, incident: Incident, channel: str, why: str, line: str, quote: str | None = None
    ) -> None: ...

    def watch(self, workspace_id: str, run_id: str) -> None: ...


class StorePort(Protocol):
    """bot.store.Store by shape: the parts the button use cases touch."""

    incidents: Any
    mutes: Any
    audit: Any
    feedback: Any
    leases: Any
    outbox: Any
    watermarks: Any


class Refused(Exception):
    """A click that is answered with an ephemeral and changes nothing (already audited)."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


class Replies:
    """Renders replies (`line` is our own mrkdwn: anything from users or Databricks in it has
    been escaped where the line was composed)."""

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer

    def say(self, line: str, icon: str = "") -> Reply:
        message = self._renderer.render("click_reply.json.j2", line=line, icon=icon)
        return Reply(message["text"], message.get("blocks", []))


def reject(
    audit: Any,
    click: Click,
    email_of: EmailOf | None,
    action: str = "button_rejected",
    **fields: Any,
) -> None:
    """The audit entry of a refused click: who (id, and email when it can be had), and
    whatever the caller knows of the job/run/incident and why."""
    audit.record(
        action,
        "rejected",
        actor_id=click.user_id,
        actor_email=email_of(click.user_id) if email_of is not None else None,
        **fields,
    )


def read_value(
    click: Click, audit: Any, action_id: str | None = None, email_of: EmailOf | None = None
) -> ButtonValue:
    """The validated value; a damaged or foreign one is audited and refused."""
    try:
        return actions.decode(click.value, action_id or click.action_id)
    except BadButtonValue as e:
        reject(
            audit,
            click,
            email_of,
            detail={"action": click.action_id, "value": (click.value or "")[:500], "why": str(e)},
        )
        raise Refused(str(e)) from None


def read_incident(
    click: Click, value: ButtonValue, store: StorePort, email_of: EmailOf | None = None
) -> Incident:
    """The incident a button is about, checked against the message it was clicked on."""
    raw = value.alert_id or ""
    incident: Incident | None = store.incidents.get(int(raw)) if raw.isdigit() else None
    if incident is None:
        reject(
            store.audit,
            click,
            email_of,
            "button_rejected" if not raw.isdigit() else "button_stale",
            detail={"action": click.action_id, "alert_id": raw[:64]},
        )
        raise Refused(
            "I no longer know this alert (its state is gone, or the button is not mine), so "
            "nothing was done. `/jobs alerts` lists what is open now."
        )
    edited = (
        click.message_ts is not None
        and incident.message_ts is not None
        and (click.message_ts != incident.message_ts or click.channel_id != incident.channel)
    ) or (
        value.workspace_id is not None
        and (str(value.workspace_id), str(value.job_id)) != (incident.workspace_id, incident.job_id)
    )
    if edited:
        # A value copied from another alert or edited by hand: refuse rather than act on the
        # wrong job, and keep a record of who tried.
        reject(
            store.audit,
            click,
            email_of,
            workspace_id=incident.workspace_id,
            job_id=incident.job_id,
            incident_id=incident.id,
            detail={
                "action": click.action_id,
                "value": (click.value or "")[:500],
                "why": "the value does not belong to the message it was clicked on",
            },
        )
        raise Refused(
            "This button's data does not match the alert it is on, so nothing was done. "
            "Use the buttons of a fresh alert, or `/jobs alerts`."
        )
    return incident


def channel_of(incident: Incident, click: Click) -> str | None:
    return incident.channel or click.channel_id


def resolved_line(incident: Incident, tz: str) -> str:
    """What a click on a resolved alert is told (no button changes anything any more)."""
    when = slack_date(incident.resolved_at, tz, "{date_short_pretty} {time}")
    return (
        f"This alert is already resolved (recovered {when})."
        if when
        else "This alert is already resolved."
    )
