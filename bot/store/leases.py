"""Leases: a named lock with an expiry, so that of two replicas only one runs the poller and
sends the digest ("two replicas, one voice"). Acquire both takes a free or expired lease and
renews one's own; a holder that stops renewing loses it after its ttl."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.clock import Clock
from bot.store import schema
from bot.store.database import Database

_t = schema.leases


class Leases:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def acquire(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew the lease for `ttl` from now; True if `holder` holds it now."""
        now = self._clock.now()
        values = {"name": name, "holder": holder, "expires_at": now + ttl, "acquired_at": now}
        with self._db.transaction() as conn:
            taken = conn.execute(
                self._db.insert_ignore(_t, values, ["name"]).returning(_t.c.name)
            ).first()
            if taken is not None:
                return True
            renewed = conn.execute(
                update(_t)
                .where((_t.c.name == name) & (_t.c.holder == holder))
                .values(expires_at=now + ttl)
            )
            if renewed.rowcount == 1:
                return True
            # Someone else's lease: ours only if it has run out.
            stolen = conn.execute(
                update(_t)
                .where((_t.c.name == name) & (_t.c.expires_at <= now))
                .values(holder=holder, expires_at=now + ttl, acquired_at=now)
            )
            return stolen.rowcount == 1

    def release(self, name: str, holder: str) -> bool:
        """Give the lease up at once (on a clean stop) so the other replica need not wait."""
        now = self._clock.now()
        with self._db.transaction() as conn:
            result = conn.execute(
                update(_t)
                .where((_t.c.name == name) & (_t.c.holder == holder) & (_t.c.expires_at > now))
                .values(expires_at=now)
            )
        return result.rowcount == 1

    def holder(self, name: str) -> str | None:
        """Who holds the lease now, or None if nobody does."""
        now = self._clock.now()
        with self._db.transaction() as conn:
            return conn.execute(
                select(_t.c.holder).where((_t.c.name == name) & (_t.c.expires_at > now))
            ).scalar_one_or_none()
