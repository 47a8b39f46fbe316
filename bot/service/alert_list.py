"""`/jobs alerts` and the answers of `/jobs mute` / `/jobs unmute` as the templates see them:
open incidents (what, since when, streak, acked by whom, snoozed until, where the message is)
and the jobs muted now (by whom, until when), built from the state store."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from bot import actions
from bot.config import Config
from bot.service.alert_view import ordinal_streak
from bot.store.records import Incident, Mute

_KIND_PHRASES = {
    "failure": "failing",
    "sla": "SLA",
    "missed_run": "missed run",
    "cost_anomaly": "cost anomaly",
    "monitoring": "monitoring",
}


@dataclass(frozen=True)
class OpenAlertView:
    job_name: str
    job_id: str
    workspace: str
    kind_phrase: str
    since: datetime
    streak_phrase: str
    last_error: str | None
    acked_by: str | None
    acked_at: datetime | None
    snoozed_by: str | None
    snoozed_until: datetime | None
    muted: bool
    channel: str | None
    message_url: str | None


@dataclass(frozen=True)
class MutedJobView:
    job_name: str
    job_id: str
    workspace: str
    muted_by: str
    until: datetime
    unmute_value: str | None


@dataclass(frozen=True)
class AlertsView:
    alerts: tuple[OpenAlertView, ...]
    count: int
    acked_count: int
    mutes: tuple[MutedJobView, ...]


MuteOutcome = Literal["muted", "unmuted", "not_muted", "refused"]


@dataclass(frozen=True)
class MuteView:
    outcome: MuteOutcome
    job_name: str
    job_id: str
    workspace: str
    until: datetime | None
    by: str | None
    refused: str | None  # why not: jobs-bot's own mrkdwn
    command: str


def message_url(channel: str | None, ts: str | None) -> str | None:
    """A link to the alert without chat.getPermalink: Slack's archive URL takes the ts
    without its dot (slack.com redirects to the reader's workspace)."""
    if not channel or not ts:
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def alerts_view(
    config: Config, incidents: list[Incident], mutes: list[Mute], now: datetime
) -> AlertsView:
    muted = {(m.workspace_id, m.job_id) for m in mutes if m.active_at(now)}
    rows = tuple(
        OpenAlertView(
            job_name=incident.job_name or f"job {incident.job_id}",
            job_id=incident.job_id,
            workspace=_workspace(config, incident.workspace_id),
            kind_phrase=_KIND_PHRASES.get(incident.kind, incident.kind),
            since=incident.first_failure_at,
            streak_phrase=ordinal_streak(incident.streak),
            last_error=incident.last_error,
            acked_by=incident.acked_by,
            acked_at=incident.acked_at,
            snoozed_by=incident.snoozed_by if incident.snoozed_at(now) else None,
            snoozed_until=incident.snoozed_until if incident.snoozed_at(now) else None,
            muted=(incident.workspace_id, incident.job_id) in muted,
            channel=incident.channel,
            message_url=message_url(incident.channel, incident.message_ts),
        )
        for incident in incidents
    )
    return AlertsView(
        alerts=rows,
        count=len(rows),
        acked_count=sum(1 for r in rows if r.acked_by),
        mutes=tuple(mute_row(config, m) for m in mutes if m.active_at(now)),
    )


def mute_row(config: Config, mute: Mute) -> MutedJobView:
    value = None
    if mute.workspace_id.isdigit() and mute.job_id.isdigit():
        value = actions.encode(workspace_id=int(mute.workspace_id), job_id=int(mute.job_id))
    return MutedJobView(
        job_name=mute.job_name or f"job {mute.job_id}",
        job_id=mute.job_id,
        workspace=_workspace(config, mute.workspace_id),
        muted_by=mute.muted_by,
        until=mute.until,
        unmute_value=value,
    )


def view_data(view: AlertsView | MuteView) -> dict[str, Any]:
    """Top-level fields as template variables (nested views stay typed)."""
    return {f.name: getattr(view, f.name) for f in fields(view)}


def _workspace(config: Config, workspace_id: str) -> str:
    ws = config.workspace(workspace_id)
    return ws.name if ws is not None else workspace_id
