"""The Store: one state database (SQLite file by default, PostgreSQL by URL), migrated on
open, and its parts — incidents, outbox, watermarks, mutes, audit, anomaly feedback, leases.

Each part is its own small object, so a use case can be handed just the part it needs
(the notifier gets `store.outbox`, the ack handler `store.incidents` and `store.audit`).
"""

from __future__ import annotations

from types import TracebackType

from bot.clock import Clock
from bot.store.audit import AuditLog
from bot.store.database import Database
from bot.store.feedback import Feedback
from bot.store.incidents import Incidents
from bot.store.leases import Leases
from bot.store.migrations import migrate
from bot.store.mutes import Mutes
from bot.store.outbox import Outbox
from bot.store.watermarks import Watermarks


class Store:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.incidents = Incidents(db, clock)
        self.outbox = Outbox(db, clock)
        self.watermarks = Watermarks(db, clock)
        self.mutes = Mutes(db, clock)
        self.audit = AuditLog(db, clock)
        self.feedback = Feedback(db, clock)
        self.leases = Leases(db, clock)

    @classmethod
    def open(cls, url: str, clock: Clock) -> Store:
        """Connect and bring the schema up to date (safe when several processes start at
        once: only one applies each migration)."""
        db = Database(url)
        try:
            migrate(db, clock)
        except BaseException:
            db.dispose()
            raise
        return cls(db, clock)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
