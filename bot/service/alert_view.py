"""The failure alert as the template sees it: `FailureAlert`, built from an incident (whose
`detail` holds the facts of its latest failed run) and what the store knows about acks, snoozes
and mutes. One builder for the first post and every later update, so a message edited in place
always shows the incident as it stands.

`failure_detail()` turns a failed run (Jobs API or system tables) into that `detail` JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot import actions
from bot.store.records import Incident, Mute

# How many failed tasks an alert spells out; the rest are counted ("…and 4 more").
MAX_TASKS_SHOWN = 3
# Per task: the error message a person reads in Slack, before the template cuts it further.
MAX_ERROR_CHARS = 1500

SNOOZE_LABELS = {
    "1h": "Snooze 1 h",
    "4h": "Snooze 4 h",
    "24h": "Snooze 24 h",
    "tomorrow": "Snooze until tomorrow 09:00",
}

_STATE_PHRASES = {
    "FAILED": "failed",
    "TIMED_OUT": "timed out",
    "ERROR": "failed (platform error)",
    "INTERNAL_ERROR": "failed (platform error)",
    "CANCELLED": "was cancelled",  # alerted only with monitoring.alert_on_states
    "SKIPPED": "was skipped",
}
_TRIGGER_PHRASES = {
    "PERIODIC": "schedule",
    "CRON": "schedule",
    "ONE_TIME": "manual run",
    "MANUAL": "manual run",
    "RETRY": "retry",
    "RUN_JOB_TASK": "another job",
    "FILE_ARRIVAL": "file arrival",
    "TABLE": "table update",
    "CONTINUOUS": "continuous",
    "JOB_COMPLETION": "another job's completion",
    # Not an API trigger: the ended run is a repair (its repair history says so), whatever
    # started the original run.
    "REPAIR": "repair",
}


@dataclass(frozen=True)
class TaskFailure:
    key: str
    attempt_phrase: str
    error: str | None


@dataclass(frozen=True)
class SnoozeChoice:
    label: str
    value: str


@dataclass(frozen=True)
class FailureAlert:
    incident_id: int
    job_name: str
    job_id: str
    job_url: str | None
    workspace: str
    run_id: str
    run_url: str | None
    state: str
    state_phrase: str
    code: str | None
    type: str | None
    ended_at: datetime | None
    duration_seconds: float | None
    p90_seconds: float | None
    owner: str | None
    owner_id: str | None
    trigger_phrase: str
    trigger_by: str | None  # Slack user id of who started the repair, when the bot knows
    cost: Decimal | None
    currency: str
    tasks: tuple[TaskFailure, ...]
    more_tasks: int
    first_error: str | None
    streak: int
    streak_phrase: str
    failures_phrase: str  # "3 failures", "1 failure": what a recovery came after
    recovered_phrase: str  # "after 3 failures over 2 h 10 m" ("" while open)
    late: bool
    late_via: str | None  # "api" (its Jobs API caught up) or "tables" (the system tables)
    resolved: bool
    resolved_at: datetime | None
    failing_seconds: float
    acked_by: str | None
    acked_at: datetime | None
    snoozed_by: str | None
    snoozed_until: datetime | None
    muted_by: str | None
    muted_until: datetime | None
    rerun_value: str | None
    rerun_tasks: str
    ack_value: str
    snooze_choices: tuple[SnoozeChoice, ...]


def ordinal_streak(streak: int) -> str:
    """'1 failure', '3rd failure in a row'."""
    if streak <= 1:
        return "1 failure"
    suffix = (
        "th" if 10 <= streak % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(streak % 10, "th")
    )
    return f"{streak}{suffix} failure in a row"


def failures_phrase(streak: int) -> str:
    """'1 failure', '3 failures'."""
    return f"{streak} failure" + ("s" if streak != 1 else "")


def attempt_phrase(attempts: int, max_retries: int | None = None) -> str:
    """The run has ended, so the last attempt was the final one: "failed on attempt 3 of 3"
    when the task's settings say it may take 3 (max_retries 2), "failed on attempt 3" when
    the settings are not known (never a made-up "of 3")."""
    if attempts <= 1:
        return "failed (no retries left)"
    if max_retries is not None and max_retries < 0:
        return f"failed on attempt {attempts} (retries without limit)"
    if max_retries is not None and attempts <= max_retries + 1:
        return f"failed on attempt {attempts} of {max_retries + 1}"
    return f"failed on attempt {attempts}"


def failure_alert(
    incident: Incident, *, now: datetime, currency: str, mute: Mute | None = None
) -> FailureAlert:
    d: dict[str, Any] = dict(incident.detail or {})
    tasks_raw: list[dict[str, Any]] = list(d.get("tasks") or [])
    tasks = tuple(
        TaskFailure(
            key=str(t.get("key") or "?"),
            attempt_phrase=attempt_phrase(
                int(t.get("attempts") or 1),
                int(t["max_retries"]) if t.get("max_retries") is not None else None,
            ),
            error=t.get("error"),
        )
        for t in tasks_raw[:MAX_TASKS_SHOWN]
    )
    run_id = str(d.get("run_id") or incident.last_run_id or "").split("/")[0]
    rerun_value = None
    if run_id.isdigit() and incident.workspace_id.isdigit() and incident.job_id.isdigit():
        rerun_value = actions.encode(
            workspace_id=int(incident.workspace_id),
            job_id=int(incident.job_id),
            run_id=int(run_id),
            alert_id=str(incident.id),
        )
    names = [t.key for t in tasks] + (
        [f"{len(tasks_raw) - len(tasks)} more"] if len(tasks_raw) > len(tasks) else []
    )
    cost = d.get("cost")
    resolved = not incident.is_open
    end = incident.resolved_at if resolved and incident.resolved_at else now
    state = str(d.get("state") or "FAILED")
    muted = mute is not None and mute.active_at(now)
    return FailureAlert(
        incident_id=incident.id,
        job_name=str(incident.job_name or d.get("job_name") or f"job {incident.job_id}"),
        job_id=incident.job_id,
        job_url=d.get("job_url"),
        workspace=str(d.get("workspace") or incident.workspace_id),
        run_id=run_id,
        run_url=d.get("run_url"),
        state=state,
        state_phrase=_STATE_PHRASES.get(state, state.lower().replace("_", " ")),
        code=d.get("code"),
        type=d.get("type"),
        ended_at=_instant(d.get("ended_at")),
        duration_seconds=d.get("duration_seconds"),
        p90_seconds=d.get("p90_seconds"),
        owner=d.get("owner"),
        owner_id=d.get("owner_id"),
        trigger_phrase=_TRIGGER_PHRASES.get(str(d.get("trigger") or ""), "—")
        if d.get("trigger")
        else "—",
        trigger_by=str(d["trigger_by"]) if d.get("trigger_by") else None,
        cost=Decimal(str(cost)) if cost is not None else None,
        currency=str(d.get("currency") or currency),
        tasks=tasks,
        more_tasks=max(0, len(tasks_raw) - len(tasks)),
        first_error=next((t.error for t in tasks if t.error), d.get("message")),
        streak=incident.streak,
        streak_phrase=ordinal_streak(incident.streak),
        failures_phrase=failures_phrase(incident.streak),
        recovered_phrase=recovered_phrase(incident),
        late=bool(d.get("late")),
        late_via=str(d.get("late_via") or "tables") if d.get("late") else None,
        resolved=resolved,
        resolved_at=incident.resolved_at,
        failing_seconds=max(0.0, (end - incident.first_failure_at).total_seconds()),
        acked_by=incident.acked_by,
        acked_at=incident.acked_at,
        snoozed_by=incident.snoozed_by if incident.snoozed_at(now) else None,
        snoozed_until=incident.snoozed_until if incident.snoozed_at(now) else None,
        muted_by=mute.muted_by if muted and mute is not None else None,
        muted_until=mute.until if muted and mute is not None else None,
        rerun_value=rerun_value,
        rerun_tasks="failed task" + ("s " if len(names) != 1 else " ") + ", ".join(names)
        if names
        else "its failed tasks",
        ack_value=actions.encode(alert_id=str(incident.id)),
        snooze_choices=tuple(
            SnoozeChoice(SNOOZE_LABELS[c], actions.encode(alert_id=str(incident.id), snooze=c))
            for c in actions.SNOOZE_CHOICES
        ),
    )


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None


def recovered_phrase(incident: Incident) -> str:
    """The thread line of a resolution: 'after 3 failures over 2h 10m'."""
    if incident.resolved_at is None:
        return ""
    span = incident.resolved_at - incident.first_failure_at
    return f"after {failures_phrase(incident.streak)} over {_span(span)}"


def _span(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} m"
    return f"{hours // 24} d {hours % 24} h"
