"""Migration 1: the initial tables. Frozen: once released, this file never changes (a
database stamped version 1 was built by exactly this); later changes are new steps.

The tables are declared here in their own MetaData rather than taken from `schema.py`,
because `schema.py` moves on with every later step and this one must not.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)

from bot.store.database import JsonValue, UtcDateTime


def apply(conn: Connection) -> None:
    metadata = MetaData()
    Table(
        "incidents",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("workspace_id", Text, nullable=False),
        Column("job_id", Text, nullable=False),
        Column("kind", Text, nullable=False),
        Column("key", Text, nullable=False, server_default=""),
        Column("job_name", Text),
        Column("state", Text, nullable=False),
        Column("first_failure_at", UtcDateTime, nullable=False),
        Column("last_failure_at", UtcDateTime, nullable=False),
        Column("streak", Integer, nullable=False),
        Column("last_run_id", Text),
        Column("last_error", Text),
        Column("detail", JsonValue),
        Column("channel", Text),
        Column("message_ts", Text),
        Column("thread_ts", Text),
        Column("acked_by", Text),
        Column("acked_at", UtcDateTime),
        Column("snoozed_by", Text),
        Column("snoozed_until", UtcDateTime),
        Column("resolved_at", UtcDateTime),
        Column("resolved_run_id", Text),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        CheckConstraint("state IN ('open', 'resolved')", name="ck_incidents_state"),
        Index(
            "uq_incidents_open",
            "workspace_id",
            "job_id",
            "kind",
            "key",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
        Index("ix_incidents_job", "workspace_id", "job_id"),
    )

    Table(
        "incident_runs",
        metadata,
        Column("workspace_id", Text, primary_key=True),
        Column("job_id", Text, primary_key=True),
        Column("kind", Text, primary_key=True),
        Column("key", Text, primary_key=True),
        Column("run_id", Text, primary_key=True),
        Column("incident_id", Integer, ForeignKey("incidents.id")),
        Column("failed_at", UtcDateTime, nullable=False),
        Column("recorded_at", UtcDateTime, nullable=False),
    )

    Table(
        "outbox",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("incident_id", Integer, ForeignKey("incidents.id")),
        Column("channel", Text, nullable=False),
        Column("kind", Text, nullable=False),
        Column("payload", JsonValue, nullable=False),
        Column("dedupe_key", Text, nullable=False, unique=True),
        Column("state", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", UtcDateTime, nullable=False),
        Column("claimed_until", UtcDateTime),
        Column("slack_ts", Text),
        Column("created_at", UtcDateTime, nullable=False),
        Column("sent_at", UtcDateTime),
        Column("last_error", Text),
        CheckConstraint(
            "kind IN ('post', 'update', 'thread_reply', 'ephemeral')", name="ck_outbox_kind"
        ),
        CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed')", name="ck_outbox_state"
        ),
        Index("ix_outbox_due", "state", "next_attempt_at"),
    )

    Table(
        "watermarks",
        metadata,
        Column("name", Text, primary_key=True),
        Column("workspace_id", Text, primary_key=True),
        Column("value", JsonValue, nullable=False),
        Column("version", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )

    Table(
        "mutes",
        metadata,
        Column("workspace_id", Text, primary_key=True),
        Column("job_id", Text, primary_key=True),
        Column("job_name", Text),
        Column("muted_by", Text, nullable=False),
        Column("until", UtcDateTime, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
    )

    Table(
        "audit",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("at", UtcDateTime, nullable=False),
        Column("actor_id", Text),
        Column("actor_email", Text),
        Column("action", Text, nullable=False),
        Column("result", Text, nullable=False),
        Column("workspace_id", Text),
        Column("job_id", Text),
        Column("run_id", Text),
        Column("incident_id", Integer),
        Column("detail", JsonValue),
        Index("ix_audit_at", "at"),
        Index("ix_audit_job", "workspace_id", "job_id", "at"),
    )

    Table(
        "anomaly_feedback",
        metadata,
        Column("scope", Text, primary_key=True),
        Column("subject", Text, primary_key=True),
        Column("day", Date, primary_key=True),
        Column("verdict", Text, nullable=False),
        Column("given_by", Text, nullable=False),
        Column("at", UtcDateTime, nullable=False),
        CheckConstraint("verdict IN ('expected', 'not_anomaly')", name="ck_feedback_verdict"),
    )

    Table(
        "leases",
        metadata,
        Column("name", Text, primary_key=True),
        Column("holder", Text, nullable=False),
        Column("expires_at", UtcDateTime, nullable=False),
        Column("acquired_at", UtcDateTime, nullable=False),
    )
    metadata.create_all(conn)
