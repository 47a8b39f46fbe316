"""Watermarks: how far each watcher (failure poller, SLA scanner, cost scan…) has got, per
workspace, as a small JSON value — so a restart resumes where it stopped instead of
re-alerting or skipping. `compare_and_set` lets two replicas advance one safely."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update

from bot.clock import Clock
from bot.store import schema
from bot.store.database import Database
from bot.store.records import Watermark

_t = schema.watermarks


def _watermark(row: Row[Any]) -> Watermark:
    return Watermark(**row._mapping)


class Watermarks:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def get(self, name: str, workspace_id: str = "") -> Watermark | None:
        with self._db.transaction() as conn:
            row = conn.execute(
                select(_t).where((_t.c.name == name) & (_t.c.workspace_id == workspace_id))
            ).first()
        return None if row is None else _watermark(row)

    def set(self, name: str, value: dict[str, Any], workspace_id: str = "") -> Watermark:
        """Overwrite (last writer wins)."""
        now = self._clock.now()
        values = {
            "name": name,
            "workspace_id": workspace_id,
            "value": value,
            "version": 1,
            "updated_at": now,
        }
        statement = self._db.upsert(
            _t,
            values,
            ["name", "workspace_id"],
            {"value": value, "version": _t.c.version + 1, "updated_at": now},
        ).returning(*_t.c)
        with self._db.transaction() as conn:
            return _watermark(conn.execute(statement).one())

    def compare_and_set(
        self, name: str, expected: Watermark | None, value: dict[str, Any], workspace_id: str = ""
    ) -> bool:
        """Write only if the watermark is still `expected` (None: still absent), so two
        pollers cannot both advance it from the same point. True if this call wrote."""
        now = self._clock.now()
        with self._db.transaction() as conn:
            if expected is None:
                values = {
                    "name": name,
                    "workspace_id": workspace_id,
                    "value": value,
                    "version": 1,
                    "updated_at": now,
                }
                statement = self._db.insert_ignore(_t, values, ["name", "workspace_id"])
                return conn.execute(statement.returning(_t.c.name)).first() is not None
            result = conn.execute(
                update(_t)
                .where(
                    (_t.c.name == name)
                    & (_t.c.workspace_id == workspace_id)
                    & (_t.c.version == expected.version)
                )
                .values(value=value, version=_t.c.version + 1, updated_at=now)
            )
            return result.rowcount == 1

    def prune(self, names: tuple[str, ...], older_than: datetime) -> int:
        """Forget the marks of these names last written before `older_than` (one-per-item
        marks, e.g. which alerts went into a roll-up, that would otherwise pile up for ever);
        returns how many. A watcher's own watermark is never named here."""
        if not names:
            return 0
        old = _t.c.name.in_(names) & (_t.c.updated_at < older_than)
        with self._db.transaction() as conn:
            return int(conn.execute(delete(_t).where(old)).rowcount or 0)
