"""The state store: incidents, outbox, watermarks, mutes, audit, anomaly feedback and leases
in SQLAlchemy Core — a SQLite file by default, PostgreSQL by URL. The only package that
imports sqlalchemy."""

from bot.store.migrations import SchemaTooNew
from bot.store.records import (
    AnomalyFeedback,
    AuditEntry,
    ClaimOutcome,
    FailureOutcome,
    Incident,
    IncidentKey,
    IncidentKind,
    IncidentState,
    Mute,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    Verdict,
    Watermark,
)
from bot.store.store import Store

__all__ = [
    "AnomalyFeedback",
    "AuditEntry",
    "ClaimOutcome",
    "FailureOutcome",
    "Incident",
    "IncidentKey",
    "IncidentKind",
    "IncidentState",
    "Mute",
    "OutboxKind",
    "OutboxMessage",
    "OutboxState",
    "SchemaTooNew",
    "Store",
    "Verdict",
    "Watermark",
]
