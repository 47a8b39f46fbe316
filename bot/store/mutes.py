"""Mutes: `/jobs mute <job> <duration>` silences a job's alerts until a time; one mute per
job (muting again replaces it), expiring by the clock, removed by `/jobs unmute`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock
from bot.models import JobKey
from bot.store import schema
from bot.store.database import Database
from bot.store.records import Mute

_t = schema.mutes


def _mute(row: Row[Any]) -> Mute:
    return Mute(**row._mapping)


def _is_job(job: JobKey) -> ColumnElement[bool]:
    return (_t.c.workspace_id == job.workspace_id) & (_t.c.job_id == job.job_id)


class Mutes:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def mute(self, job: JobKey, by: str, until: datetime, job_name: str | None = None) -> Mute:
        """Mute `job` until `until`, replacing any mute it had (the latest word counts)."""
        now = self._clock.now()
        values = {
            "workspace_id": job.workspace_id,
            "job_id": job.job_id,
            "job_name": job_name,
            "muted_by": by,
            "until": until,
            "created_at": now,
        }
        changes = {"job_name": job_name, "muted_by": by, "until": until, "created_at": now}
        statement = self._db.upsert(_t, values, ["workspace_id", "job_id"], changes)
        with self._db.transaction() as conn:
            return _mute(conn.execute(statement.returning(*_t.c)).one())

    def unmute(self, job: JobKey) -> Mute | None:
        """Remove the job's mute; returns the mute that was active, None if there was none
        (never muted, or it had already expired)."""
        now = self._clock.now()
        with self._db.transaction() as conn:
            row = conn.execute(delete(_t).where(_is_job(job)).returning(*_t.c)).first()
        if row is None:
            return None
        removed = _mute(row)
        return removed if removed.active_at(now) else None

    def active_mute(self, job: JobKey, now: datetime | None = None) -> Mute | None:
        at = now or self._clock.now()
        with self._db.transaction() as conn:
            row = conn.execute(select(_t).where(_is_job(job) & (_t.c.until > at))).first()
        return None if row is None else _mute(row)

    def active(self, now: datetime | None = None) -> list[Mute]:
        """Mutes in force, soonest to end first."""
        at = now or self._clock.now()
        with self._db.transaction() as conn:
            rows = conn.execute(
                select(_t).where(_t.c.until > at).order_by(_t.c.until, _t.c.job_id)
            ).all()
        return [_mute(row) for row in rows]

    def purge_expired(self, now: datetime | None = None) -> int:
        at = now or self._clock.now()
        with self._db.transaction() as conn:
            return conn.execute(delete(_t).where(_t.c.until <= at)).rowcount
