"""Incidents: one open incident per key (job + kind + sub-key), opened or bumped by failed
runs, resolved by a success, acknowledged and snoozed from buttons, tied to its Slack message.

Every change is a claim — INSERT … ON CONFLICT DO NOTHING or UPDATE … WHERE <condition> —
whose returned row says whether this caller won; nothing reads first and writes after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Text, case, literal, select, true, update
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock
from bot.store import schema
from bot.store.database import Database, UtcDateTime
from bot.store.records import (
    ClaimOutcome,
    FailureOutcome,
    Incident,
    IncidentKey,
    IncidentState,
)

_t = schema.incidents
_runs = schema.incident_runs
_OPEN = IncidentState.OPEN.value

# PostgreSQL only: between our INSERT losing to an open incident and our UPDATE of it, another
# replica may resolve it; then we start over (a fresh incident is right then). SQLite runs one
# writer at a time, so the first pass always settles it.
_ATTEMPTS = 3


def _is_open_key(key: IncidentKey) -> ColumnElement[bool]:
    return (
        (_t.c.workspace_id == key.workspace_id)
        & (_t.c.job_id == key.job_id)
        & (_t.c.kind == key.kind)
        & (_t.c.key == key.key)
        & (_t.c.state == _OPEN)
    )


def _incident(row: Row[Any]) -> Incident:
    values = dict(row._mapping)
    values["state"] = IncidentState(values["state"])
    return Incident(**values)


def _newer(at: datetime, new: ColumnElement[Any], old: ColumnElement[Any]) -> ColumnElement[Any]:
    # A run reported late (the fallback path) still counts in the streak, but must not
    # replace the newer run as "the last failure".
    return case((_t.c.last_failure_at <= literal(at, UtcDateTime()), new), else_=old)


class Incidents:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def open_or_bump_failure(
        self,
        key: IncidentKey,
        run_id: str,
        at: datetime,
        error: str | None,
        *,
        job_name: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> FailureOutcome:
        """Count one failed run (or breach, or anomaly) ending at `at` into the key's open
        incident, opening it if there is none. Idempotent per run id: the same run reported
        again changes nothing and comes back with `is_new_run=False`."""
        now = self._clock.now()
        with self._db.transaction() as conn:
            run_values = {
                "workspace_id": key.workspace_id,
                "job_id": key.job_id,
                "kind": key.kind,
                "key": key.key,
                "run_id": run_id,
                "incident_id": None,
                "failed_at": at,
                "recorded_at": now,
            }
            claimed = conn.execute(
                self._db.insert_ignore(
                    _runs, run_values, list(_runs.primary_key.columns.keys())
                ).returning(_runs.c.run_id)
            ).first()
            if claimed is None:
                return FailureOutcome(self._incident_of_run(conn, key, run_id), False, False)
            incident, created = self._open_or_bump(conn, key, run_id, at, error, job_name, detail)
            conn.execute(
                update(_runs)
                .where(
                    (_runs.c.workspace_id == key.workspace_id)
                    & (_runs.c.job_id == key.job_id)
                    & (_runs.c.kind == key.kind)
                    & (_runs.c.key == key.key)
                    & (_runs.c.run_id == run_id)
                )
                .values(incident_id=incident.id)
            )
            return FailureOutcome(incident, created, True)

    def _open_or_bump(
        self,
        conn: Connection,
        key: IncidentKey,
        run_id: str,
        at: datetime,
        error: str | None,
        job_name: str | None,
        detail: dict[str, Any] | None,
    ) -> tuple[Incident, bool]:
        now = self._clock.now()
        fresh = {
            "workspace_id": key.workspace_id,
            "job_id": key.job_id,
            "kind": key.kind,
            "key": key.key,
            "job_name": job_name,
            "state": _OPEN,
            "first_failure_at": at,
            "last_failure_at": at,
            "streak": 1,
            "last_run_id": run_id,
            "last_error": error,
            "detail": detail,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        bump: dict[str, Any] = {
            "streak": _t.c.streak + 1,
            "last_run_id": _newer(at, literal(run_id, Text()), _t.c.last_run_id),
            "last_error": _newer(at, literal(error, Text()), _t.c.last_error),
            "last_failure_at": _newer(at, literal(at, UtcDateTime()), _t.c.last_failure_at),
            "version": _t.c.version + 1,
            "updated_at": now,
        }
        if job_name is not None:
            bump["job_name"] = job_name
        if detail is not None:
            bump["detail"] = detail
        for _ in range(_ATTEMPTS):
            inserted = conn.execute(
                self._db.insert_ignore(
                    _t,
                    fresh,
                    ["workspace_id", "job_id", "kind", "key"],
                    where=_t.c.state == _OPEN,
                ).returning(*_t.c)
            ).first()
            if inserted is not None:
                return _incident(inserted), True
            bumped = conn.execute(
                update(_t).where(_is_open_key(key)).values(**bump).returning(*_t.c)
            ).first()
            if bumped is not None:
                return _incident(bumped), False
        raise RuntimeError(f"incident {key} kept being resolved while a failure was counted")

    def _incident_of_run(self, conn: Connection, key: IncidentKey, run_id: str) -> Incident:
        incident_id = (
            select(_runs.c.incident_id)
            .where(
                (_runs.c.workspace_id == key.workspace_id)
                & (_runs.c.job_id == key.job_id)
                & (_runs.c.kind == key.kind)
                & (_runs.c.key == key.key)
                & (_runs.c.run_id == run_id)
            )
            .scalar_subquery()
        )
        row = conn.execute(select(_t).where(_t.c.id == incident_id)).one()
        return _incident(row)

    def resolve(self, key: IncidentKey, at: datetime, run_id: str | None = None) -> Incident | None:
        """Close the key's open incident because things were fine again at `at` (a successful
        run, an SLA met). Only a success newer than the last failure counts, so a late-reported
        older success cannot close a newer failure. Returns the resolved incident, or None when
        there was nothing to resolve (or another caller resolved it first)."""
        with self._db.transaction() as conn:
            row = conn.execute(
                update(_t)
                .where(_is_open_key(key) & (_t.c.last_failure_at <= at))
                .values(
                    state=IncidentState.RESOLVED.value,
                    resolved_at=at,
                    resolved_run_id=run_id,
                    version=_t.c.version + 1,
                    updated_at=self._clock.now(),
                )
                .returning(*_t.c)
            ).first()
        return None if row is None else _incident(row)

    def ack(self, incident_id: int, user: str, at: datetime | None = None) -> ClaimOutcome:
        """Acknowledge: the first click wins; a second click (or a second person) gets
        `won=False` and the incident naming who acknowledged it."""
        return self._claim(
            incident_id,
            (_t.c.acked_by.is_(None)),
            {"acked_by": user, "acked_at": at or self._clock.now()},
        )

    def unack(self, incident_id: int, user: str) -> ClaimOutcome:
        """Take the acknowledgement back (`user` is who clicked; the audit log keeps it)."""
        del user  # who may unacknowledge is the service's rule, not the store's
        return self._claim(
            incident_id, _t.c.acked_by.is_not(None), {"acked_by": None, "acked_at": None}
        )

    def snooze(self, incident_id: int, user: str, until: datetime) -> ClaimOutcome:
        """No repeats of this incident's alert before `until`; the last snooze wins."""
        return self._claim(incident_id, true(), {"snoozed_by": user, "snoozed_until": until})

    def _claim(
        self, incident_id: int, condition: ColumnElement[bool], values: dict[str, Any]
    ) -> ClaimOutcome:
        with self._db.transaction() as conn:
            row = conn.execute(
                update(_t)
                .where((_t.c.id == incident_id) & (_t.c.state == _OPEN) & condition)
                .values(**values, version=_t.c.version + 1, updated_at=self._clock.now())
                .returning(*_t.c)
            ).first()
            if row is not None:
                return ClaimOutcome(True, _incident(row))
            current = conn.execute(select(_t).where(_t.c.id == incident_id)).first()
        return ClaimOutcome(False, None if current is None else _incident(current))

    def set_message(
        self, incident_id: int, channel: str, ts: str, thread_ts: str | None = None
    ) -> bool:
        """Remember the incident's Slack message, once: False if it already has one (the
        outbox does this itself when it marks the alert's post sent)."""
        with self._db.transaction() as conn:
            return set_message(conn, incident_id, channel, ts, thread_ts or ts, self._clock.now())

    def set_detail(self, incident_id: int, detail: dict[str, Any]) -> Incident | None:
        """Replace the facts shown in the incident's message (e.g. the failed run's cost once
        billing has it); returns the incident as it now is."""
        with self._db.transaction() as conn:
            row = conn.execute(
                update(_t)
                .where(_t.c.id == incident_id)
                .values(detail=detail, version=_t.c.version + 1, updated_at=self._clock.now())
                .returning(*_t.c)
            ).first()
        return None if row is None else _incident(row)

    def get(self, incident_id: int) -> Incident | None:
        with self._db.transaction() as conn:
            row = conn.execute(select(_t).where(_t.c.id == incident_id)).first()
        return None if row is None else _incident(row)

    def find_open(self, key: IncidentKey) -> Incident | None:
        with self._db.transaction() as conn:
            row = conn.execute(select(_t).where(_is_open_key(key))).first()
        return None if row is None else _incident(row)

    def open_incidents(self, kind: str | None = None) -> list[Incident]:
        """Open incidents, oldest first (what `/jobs alerts` and the digest list)."""
        query = select(_t).where(_t.c.state == _OPEN)
        if kind is not None:
            query = query.where(_t.c.kind == kind)
        with self._db.transaction() as conn:
            rows = conn.execute(query.order_by(_t.c.first_failure_at, _t.c.id)).all()
        return [_incident(row) for row in rows]

    def open_or_resolved_since(self, kind: str, since: datetime) -> list[Incident]:
        """Open incidents of `kind` and those resolved at or after `since`, newest failure
        first (what still may learn a fact that arrives late, like a failed run's cost)."""
        query = select(_t).where(
            (_t.c.kind == kind)
            & ((_t.c.state == _OPEN) | (_t.c.resolved_at >= literal(since, UtcDateTime())))
        )
        with self._db.transaction() as conn:
            rows = conn.execute(query.order_by(_t.c.last_failure_at.desc(), _t.c.id.desc())).all()
        return [_incident(row) for row in rows]


def set_message(
    conn: Connection, incident_id: int, channel: str, ts: str, thread_ts: str, now: datetime
) -> bool:
    result = conn.execute(
        update(_t)
        .where((_t.c.id == incident_id) & _t.c.message_ts.is_(None))
        .values(
            channel=channel,
            message_ts=ts,
            thread_ts=thread_ts,
            version=_t.c.version + 1,
            updated_at=now,
        )
    )
    return result.rowcount == 1
