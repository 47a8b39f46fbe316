"""Anomaly feedback: the Expected / Not an anomaly buttons on a cost anomaly alert, one
verdict per subject and day (a second click replaces the first), read back by the detector."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Row, select

from bot.clock import Clock
from bot.store import schema
from bot.store.database import Database
from bot.store.records import AnomalyFeedback, Verdict

_t = schema.anomaly_feedback


def _feedback(row: Row[Any]) -> AnomalyFeedback:
    values = dict(row._mapping)
    values["verdict"] = Verdict(values["verdict"])
    return AnomalyFeedback(**values)


class Feedback:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def give(
        self, scope: str, subject: str, day: date, verdict: Verdict, by: str
    ) -> AnomalyFeedback:
        now = self._clock.now()
        values = {
            "scope": scope,
            "subject": subject,
            "day": day,
            "verdict": Verdict(verdict).value,
            "given_by": by,
            "at": now,
        }
        changes = {"verdict": values["verdict"], "given_by": by, "at": now}
        statement = self._db.upsert(_t, values, ["scope", "subject", "day"], changes)
        with self._db.transaction() as conn:
            return _feedback(conn.execute(statement.returning(*_t.c)).one())

    def for_subject(
        self, scope: str, subject: str, since: date | None = None
    ) -> list[AnomalyFeedback]:
        """Verdicts on one subject, oldest day first."""
        query = select(_t).where((_t.c.scope == scope) & (_t.c.subject == subject))
        if since is not None:
            query = query.where(_t.c.day >= since)
        with self._db.transaction() as conn:
            return [_feedback(row) for row in conn.execute(query.order_by(_t.c.day)).all()]
