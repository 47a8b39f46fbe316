"""The audit log: every action a person takes through the bot (ack, snooze, rerun, mute, a
refused attempt…), with who, what, on what, the result and when. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select

from bot.clock import Clock
from bot.models import JobKey
from bot.store import schema
from bot.store.database import Database
from bot.store.records import AuditEntry

_t = schema.audit


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(**row._mapping)


class AuditLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(
        self,
        action: str,
        result: str,
        *,
        actor_id: str | None = None,
        actor_email: str | None = None,
        workspace_id: str | None = None,
        job_id: str | None = None,
        run_id: str | None = None,
        incident_id: int | None = None,
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        values = {
            "at": at or self._clock.now(),
            "actor_id": actor_id,
            "actor_email": actor_email,
            "action": action,
            "result": result,
            "workspace_id": workspace_id,
            "job_id": job_id,
            "run_id": run_id,
            "incident_id": incident_id,
            "detail": detail,
        }
        with self._db.transaction() as conn:
            return _entry(conn.execute(insert(_t).values(**values).returning(*_t.c)).one())

    def entries(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        job: JobKey | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        incident_id: int | None = None,
        limit: int = 200,
    ) -> list[AuditEntry]:
        """Matching entries, newest first; `since` inclusive, `until` exclusive."""
        query = select(_t)
        if since is not None:
            query = query.where(_t.c.at >= since)
        if until is not None:
            query = query.where(_t.c.at < until)
        if job is not None:
            query = query.where(
                (_t.c.workspace_id == job.workspace_id) & (_t.c.job_id == job.job_id)
            )
        if actor_id is not None:
            query = query.where(_t.c.actor_id == actor_id)
        if action is not None:
            query = query.where(_t.c.action == action)
        if incident_id is not None:
            query = query.where(_t.c.incident_id == incident_id)
        query = query.order_by(_t.c.at.desc(), _t.c.id.desc()).limit(limit)
        with self._db.transaction() as conn:
            return [_entry(row) for row in conn.execute(query).all()]
