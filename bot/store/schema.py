"""The tables as the queries see them: the current shape of the state database.

This is the query-side picture only; the database is built by the ordered steps in
`migrations.py`, and a test checks that the migrated database matches these tables on both
engines. Change both together: add a migration step, then change the table here.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
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

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("workspace_id", Text, nullable=False),
    Column("job_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    # Not NULL: NULLs never collide in a unique index, so '' is the "no sub-key" value.
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
    # The one-open-incident rule, enforced by the database itself (partial unique index; both
    # engines have them), so racing pollers and replicas cannot open a second one.
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

# Every failed run counted into an incident, keyed without the incident: a run reported twice
# (two pollers, a restart, the system-table fallback after the API) is counted once, ever.
incident_runs = Table(
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

outbox = Table(
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
    CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')", name="ck_outbox_state"),
    Index("ix_outbox_due", "state", "next_attempt_at"),
)

watermarks = Table(
    "watermarks",
    metadata,
    Column("name", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("value", JsonValue, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

mutes = Table(
    "mutes",
    metadata,
    Column("workspace_id", Text, primary_key=True),
    Column("job_id", Text, primary_key=True),
    Column("job_name", Text),
    Column("muted_by", Text, nullable=False),
    Column("until", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

audit = Table(
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
    # No foreign key: the audit log must accept a record even for an id that never existed
    # (a forged or stale button).
    Column("incident_id", Integer),
    Column("detail", JsonValue),
    Index("ix_audit_at", "at"),
    Index("ix_audit_job", "workspace_id", "job_id", "at"),
)

anomaly_feedback = Table(
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

leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
)
