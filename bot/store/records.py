"""The frozen rows the state store hands out, and the small outcomes of its claims.

Incident, IncidentKey, Mute and AuditEntry are domain facts the service and the renderer use;
they live here until they move to `bot.models`. The others (OutboxMessage, Watermark,
AnomalyFeedback) are the store's own rows, read by the notifier, the pollers and the detector.
Timestamps are timezone-aware UTC; JSON values are plain dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple


class IncidentKind(StrEnum):
    FAILURE = "failure"
    SLA = "sla"
    MISSED_RUN = "missed_run"
    COST_ANOMALY = "cost_anomaly"
    MONITORING = "monitoring"


class IncidentState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class IncidentKey:
    """What makes an incident "the same one": at most one is open per key.

    `key` tells apart incidents of one kind on one job: the SLA rule name, the missed
    schedule's day, the anomaly's day; empty for plain failures.
    """

    workspace_id: str
    job_id: str
    kind: str = IncidentKind.FAILURE
    key: str = ""


@dataclass(frozen=True)
class Incident:
    id: int
    workspace_id: str
    job_id: str
    kind: str
    key: str
    job_name: str | None
    state: IncidentState
    first_failure_at: datetime
    last_failure_at: datetime
    streak: int
    last_run_id: str | None
    last_error: str | None
    detail: dict[str, Any] | None
    channel: str | None
    message_ts: str | None
    thread_ts: str | None
    acked_by: str | None
    acked_at: datetime | None
    snoozed_by: str | None
    snoozed_until: datetime | None
    resolved_at: datetime | None
    resolved_run_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def incident_key(self) -> IncidentKey:
        return IncidentKey(self.workspace_id, self.job_id, self.kind, self.key)

    @property
    def is_open(self) -> bool:
        return self.state is IncidentState.OPEN

    def snoozed_at(self, now: datetime) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > now


class FailureOutcome(NamedTuple):
    """What `open_or_bump_failure` did: `created` a new incident, or bumped the open one;
    `is_new_run` is False when this run was already counted (nothing changed then)."""

    incident: Incident
    created: bool
    is_new_run: bool


class ClaimOutcome(NamedTuple):
    """A button claim (ack, unack): `won` says whether this click changed the incident;
    the loser gets the incident as the winner left it, so it can say who was first."""

    won: bool
    incident: Incident | None


class OutboxKind(StrEnum):
    POST = "post"
    UPDATE = "update"
    THREAD_REPLY = "thread_reply"
    EPHEMERAL = "ephemeral"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    incident_id: int | None
    channel: str
    kind: OutboxKind
    payload: dict[str, Any]
    dedupe_key: str
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    claimed_until: datetime | None
    slack_ts: str | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Watermark:
    name: str
    workspace_id: str
    value: dict[str, Any]
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class Mute:
    workspace_id: str
    job_id: str
    job_name: str | None
    muted_by: str
    until: datetime
    created_at: datetime

    def active_at(self, now: datetime) -> bool:
        return self.until > now


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: str | None
    actor_email: str | None
    action: str
    result: str
    workspace_id: str | None
    job_id: str | None
    run_id: str | None
    incident_id: int | None
    detail: dict[str, Any] | None


class Verdict(StrEnum):
    EXPECTED = "expected"
    NOT_ANOMALY = "not_anomaly"


@dataclass(frozen=True)
class AnomalyFeedback:
    """A person's verdict on one cost anomaly: `scope` is job / workspace / sku and
    `subject` the id within it ("<workspace_id>:<job_id>" for a job)."""

    scope: str
    subject: str
    day: date
    verdict: Verdict
    given_by: str
    at: datetime
