"""The SLA alert and the missed-run alert as their templates see them: `SlaAlert` and
`MissedRunAlert`, built from an incident (whose `detail` holds the facts of its latest state)
and what the store knows about acks, snoozes and mutes. One builder per message for the first
post and every later update, so a message edited in place always shows the incident as it
stands. The buttons carry the same values as the failure alert's (alert_id = incident id), so
the same Acknowledge / Snooze / Rerun listeners serve them. `sla_line` is the thread line an
SLA message gets with each change of state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import actions
from bot.monitors import sla as monitor
from bot.service.alert_view import SNOOZE_LABELS, SnoozeChoice
from bot.service.phrases import sla_reason
from bot.store.records import Incident, Mute

SLA_TITLES = {
    "at_risk": ("🟡", "is at risk of missing its SLA"),
    "breached": ("🔴", "breached its SLA"),
    "pending": ("⚪", "is back on track for its SLA"),
    "met": ("✅", "met its SLA"),
    "met_late": ("🟠", "met its SLA late"),
    "closed": ("🔴", "did not meet its SLA"),
}


@dataclass(frozen=True)
class Buttons:
    ack_value: str
    snooze_choices: tuple[SnoozeChoice, ...]
    acked_by: str | None
    acked_at: datetime | None
    snoozed_by: str | None
    snoozed_until: datetime | None
    muted_by: str | None
    muted_until: datetime | None


@dataclass(frozen=True)
class SlaAlert:
    incident_id: int
    job_name: str
    job_id: str
    job_url: str | None
    workspace: str
    owner: str | None
    owner_id: str | None
    state: str  # a key of SLA_TITLES
    emoji: str
    headline: str
    rule: str
    reason: str
    day: str  # the local day the rule is judged for, e.g. "Mon 2 Mar"
    deadline: datetime | None
    expected_finish: datetime | None
    late_by_seconds: float | None
    resolved: bool
    run_id: str | None
    run_url: str | None
    rerun_value: str | None
    b: Buttons


@dataclass(frozen=True)
class MissedRunAlert:
    incident_id: int
    job_name: str
    job_id: str
    job_url: str | None
    workspace: str
    owner: str | None
    owner_id: str | None
    schedule: str  # the Quartz expression
    timezone: str
    expected_at: datetime | None
    expected_phrase: str  # "expected at 02:00 Europe/Amsterdam, no run by 02:15"
    missed: int  # scheduled starts missed in a row
    from_tables: bool
    resolved: bool
    resolution: str | None  # safe mrkdwn: how it ended ("a run started at …")
    b: Buttons


def buttons(incident: Incident, now: datetime, mute: Mute | None) -> Buttons:
    snoozed = incident.snoozed_at(now)
    muted = mute is not None and mute.active_at(now)
    return Buttons(
        ack_value=actions.encode(alert_id=str(incident.id)),
        snooze_choices=tuple(
            SnoozeChoice(SNOOZE_LABELS[c], actions.encode(alert_id=str(incident.id), snooze=c))
            for c in actions.SNOOZE_CHOICES
        ),
        acked_by=incident.acked_by,
        acked_at=incident.acked_at,
        snoozed_by=incident.snoozed_by if snoozed else None,
        snoozed_until=incident.snoozed_until if snoozed else None,
        muted_by=mute.muted_by if muted and mute is not None else None,
        muted_until=mute.until if muted and mute is not None else None,
    )


def sla_alert(incident: Incident, *, now: datetime, mute: Mute | None = None) -> SlaAlert:
    d: dict[str, Any] = dict(incident.detail or {})
    state = str(d.get("state") or "at_risk")
    emoji, headline = SLA_TITLES.get(state, ("🟡", "has an SLA problem"))
    run_id = d.get("run_id")
    rerun_value = None
    if (
        incident.is_open
        and run_id
        and str(run_id).isdigit()
        and incident.workspace_id.isdigit()
        and incident.job_id.isdigit()
    ):
        rerun_value = actions.encode(
            workspace_id=int(incident.workspace_id),
            job_id=int(incident.job_id),
            run_id=int(run_id),
            alert_id=str(incident.id),
        )
    late = d.get("late_by_seconds")
    return SlaAlert(
        incident_id=incident.id,
        job_name=str(incident.job_name or d.get("job_name") or f"job {incident.job_id}"),
        job_id=incident.job_id,
        job_url=d.get("job_url"),
        workspace=str(d.get("workspace") or incident.workspace_id),
        owner=d.get("owner"),
        owner_id=d.get("owner_id"),
        state=state,
        emoji=emoji,
        headline=headline,
        rule=str(d.get("rule") or "SLA"),
        reason=str(d.get("reason") or ""),
        day=str(d.get("day_label") or d.get("day") or ""),
        deadline=_instant(d.get("deadline")),
        expected_finish=_instant(d.get("expected_finish")),
        late_by_seconds=float(late) if late is not None else None,
        resolved=not incident.is_open,
        run_id=str(run_id) if run_id else None,
        run_url=d.get("run_url"),
        rerun_value=rerun_value,
        b=buttons(incident, now, mute),
    )


def sla_line(
    status: monitor.SlaStatus,
    spec: monitor.SlaSpec,
    before: str | None,
    when: Callable[[datetime], str],
    *,
    closing: dict[str, Any] | None = None,
    again: bool = False,
) -> str:
    """The thread line for an SLA state change: `before` is the state the message showed,
    `when` how its times read, `closing` the detail of a closing incident (state "closed":
    not met and over), `again` a later breach the same day joining the day's message."""
    S = monitor.SlaState
    reason = sla_reason(status, spec, when)
    if closing is not None and closing.get("state") == "closed":
        return f"🔴 Not met ({reason}); closed, as its day or run is over."
    if status.state is S.BREACHED:
        return f"🔴 Breached{' again today' if again else ''}: {reason}."
    if status.state is S.AT_RISK:
        if again:
            return f"🟡 At risk again today: {reason}."
        return f"🟡 At risk{' again' if before == 'pending' else ''}: {reason}."
    if status.state is S.MET_LATE:
        return f"🟠 Met late: {reason}."
    if status.state is S.MET:
        return f"✅ Met: {reason}."
    return f"⚪ Back on track: {reason}."


def missed_run_alert(
    incident: Incident, *, now: datetime, mute: Mute | None = None
) -> MissedRunAlert:
    d: dict[str, Any] = dict(incident.detail or {})
    return MissedRunAlert(
        incident_id=incident.id,
        job_name=str(incident.job_name or d.get("job_name") or f"job {incident.job_id}"),
        job_id=incident.job_id,
        job_url=d.get("job_url"),
        workspace=str(d.get("workspace") or incident.workspace_id),
        owner=d.get("owner"),
        owner_id=d.get("owner_id"),
        schedule=str(d.get("cron") or ""),
        timezone=str(d.get("timezone") or "UTC"),
        expected_at=_instant(d.get("expected_at")),
        expected_phrase=str(d.get("expected_phrase") or ""),
        missed=incident.streak,
        from_tables=d.get("source") == "tables",
        resolved=not incident.is_open,
        resolution=d.get("resolution"),
        b=buttons(incident, now, mute),
    )


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None
