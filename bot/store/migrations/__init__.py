"""Versioned migrations, applied on start by `migrate()`: a `schema_version` table holding one
row per applied step, and the ordered steps (one module each, `vNNNN_*.py`).

Why not Alembic: it brings an ini file, an env.py and a script directory, and autogenerate
misses partial indexes and CHECKs on SQLite anyway; its single-row version table does not say
when each step ran; and it does not stop two processes from migrating at once, which is the
part that matters here. Ordered steps plus a version table are a few dozen lines and as safe:

- the whole run is one transaction, and DDL is transactional on both engines, so a failing
  step leaves the database at the previous version, never half-way;
- two processes starting at once are serialised: PostgreSQL by a transaction-scoped advisory
  lock taken first, SQLite by BEGIN IMMEDIATE (the write lock) — the second one waits, then
  finds the steps recorded and applies nothing; the version primary key is the backstop;
- a database newer than this code (a rolled-back deploy) is refused, not "repaired".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, text

from bot.clock import Clock
from bot.errors import UserError
from bot.store import schema
from bot.store.database import Database
from bot.store.migrations import v0001_initial

# Any fixed 64-bit number; it only has to be the same in every jobs-bot process.
_PG_LOCK_KEY = 0x6A6F62735F626F74  # "jobs_bot"


@dataclass(frozen=True)
class Step:
    version: int
    name: str
    apply: Callable[[Connection], None]


STEPS: tuple[Step, ...] = (Step(1, "initial tables", v0001_initial.apply),)

LATEST = STEPS[-1].version


class SchemaTooNew(UserError):
    """The database was migrated by a newer jobs-bot."""


def migrate(db: Database, clock: Clock, steps: Sequence[Step] = STEPS) -> list[int]:
    """Bring the database to the last step; returns the versions this call applied (usually
    none: another process, or an earlier start, did it)."""
    latest = steps[-1].version
    applied_now: list[int] = []
    with db.transaction() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        schema.schema_version.create(conn, checkfirst=True)
        done = set(conn.execute(select(schema.schema_version.c.version)).scalars())
        if done and max(done) > latest:
            raise SchemaTooNew(
                f"the state store is at schema version {max(done)}, but this jobs-bot knows "
                f"versions up to {latest}: run the newer jobs-bot, or restore a backup"
            )
        for step in steps:
            if step.version in done:
                continue
            step.apply(conn)
            conn.execute(
                insert(schema.schema_version).values(
                    version=step.version, name=step.name, applied_at=clock.now()
                )
            )
            applied_now.append(step.version)
    return applied_now


def current_version(db: Database) -> int:
    with db.transaction() as conn:
        versions = conn.execute(select(schema.schema_version.c.version)).scalars().all()
    return max(versions, default=0)
