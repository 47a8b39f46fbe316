"""An SLA rule's days: which incident a status belongs to, and the day's one message.

A rule applied to one job (`Target`) is keyed by what it demands (`rule_id`: "deadline 07:00",
not where it sits in the file) and by the local day it is judged for (`incident_key`): the
judged run's start day (max_duration), the day its success was due (freshness; "never" while
it never succeeded), else the day evaluated. A later breach the same day is another run or
another due (`another_breach`), with its own incident but not its own message: the watermark
per rule and job (`DAY_MARK`, kept by `DayMarks`) names the day's latest incident, and a new
one joins that incident's Slack message when it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import as_utc
from bot.config import SlaRule
from bot.models import JobMatch
from bot.monitors import sla as monitor
from bot.service.lateness import StorePort
from bot.store.records import Incident, IncidentKey, IncidentKind

DAY_MARK = "sla-day"  # watermark per rule and job: the day's latest incident (one message a day)


@dataclass(frozen=True)
class Target:
    """One SLA rule applied to one job it names."""

    rule: SlaRule
    rule_id: str
    spec: monitor.SlaSpec
    job: JobMatch


def rule_id(rule: SlaRule) -> str:
    """A rule's identity in incident keys: what it demands, not where it sits in the file."""
    if rule.kind == "deadline":
        assert rule.deadline is not None
        return f"deadline {rule.deadline:%H:%M}"
    span = rule.max_duration if rule.kind == "max_duration" else rule.freshness
    assert span is not None
    return f"{rule.kind} {int(span.total_seconds() // 60)}m"


def incident_key(t: Target, status: monitor.SlaStatus) -> IncidentKey:
    """One key per rule, job and local day: the judged run's start day (max_duration),
    the day its success was due (freshness; "never" while it never succeeded), else the
    day judged."""
    if t.spec.kind == "freshness" and status.deadline is None:
        part = "never"
    else:
        part = judged_day(t, status).isoformat()
    return IncidentKey(t.job.workspace_id, t.job.job_id, IncidentKind.SLA, f"{t.rule_id}/{part}")


def another_breach(t: Target, incident: Incident, status: monitor.SlaStatus) -> bool:
    """Whether today's open incident is about another run (max_duration) or another due
    time (freshness) than the status now judged."""
    detail = incident.detail or {}
    if t.spec.kind == "max_duration":
        start = run_start(status)
        had = detail.get("run_start")
        return start is not None and had is not None and had != iso(start)
    if t.spec.kind == "freshness":
        due = detail.get("deadline")
        return due is not None and due != iso(status.deadline)
    return False


class DayMarks:
    """The watermark per rule and job naming the day's latest incident: one message a day."""

    def __init__(self, store: StorePort) -> None:
        self.store = store

    def join(self, t: Target, key: IncidentKey, incident: Incident) -> tuple[Incident, bool]:
        """Mark a newly opened `incident` as its rule and job's latest for the day, joining it
        to the day's message (the same channel and ts) when the rule already broke earlier that
        day and that incident has one. Returns the incident as it now stands and whether it
        joined an earlier message."""
        mark_key = f"{key.workspace_id}/{key.job_id}/{t.rule_id}"
        mark = self.store.watermarks.get(DAY_MARK, mark_key)
        value = dict(mark.value) if mark is not None else {}
        joined = False
        if value.get("key") == key.key and value.get("incident_id") != incident.id:
            prior = self.store.incidents.get(int(value["incident_id"]))
            if prior is not None and prior.message_ts and prior.channel:
                self.store.incidents.set_message(
                    incident.id, prior.channel, prior.message_ts, prior.thread_ts
                )
                incident = self.store.incidents.get(incident.id) or incident
                joined = True
        self.store.watermarks.set(DAY_MARK, {"key": key.key, "incident_id": incident.id}, mark_key)
        return incident, joined


def run_start(status: monitor.SlaStatus) -> datetime | None:
    if status.running_since is not None:
        return status.running_since
    if status.deadline is not None and status.limit is not None:
        return status.deadline - status.limit  # TOOK: the judged run's start
    return None


def judged_day(t: Target, status: monitor.SlaStatus) -> date:
    """The local day a status is about: the judged run's start day (max_duration), the day
    the success was due (freshness), else the day evaluated."""
    zone = ZoneInfo(t.spec.tz)
    if t.spec.kind == "max_duration" and (start := run_start(status)) is not None:
        return as_utc(start).astimezone(zone).date()
    if t.spec.kind == "freshness" and status.deadline is not None:
        return as_utc(status.deadline).astimezone(zone).date()
    return status.day


def token_instant(t: Target, status: monitor.SlaStatus) -> str:
    if t.spec.kind == "max_duration":
        start = run_start(status)
        return start.isoformat() if start else status.day.isoformat()
    if t.spec.kind == "freshness":
        return status.deadline.isoformat() if status.deadline else "never"
    return status.day.isoformat()


def iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def parse_day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None
