"""The connection to the state database: engine set-up per dialect, one `transaction()` for
every unit of work, the column types both engines share, and the insert-or-ignore / upsert
statements the claims are built from.

SQLite: a file (or memory) shared by threads and by other processes on the same host. Every
transaction starts with BEGIN IMMEDIATE, which takes the write lock up front: a deferred
transaction that reads and then writes can fail with "database is locked" when two writers
meet, whereas IMMEDIATE simply waits (busy timeout) and then runs alone. Reads take the same
path: simpler, and the bot's few writes a second do not need more. WAL lets outside readers
(a backup, the sqlite3 shell) read meanwhile.

PostgreSQL: READ COMMITTED; every claim is one conditional statement, which PostgreSQL
re-checks against the row's latest committed version after waiting for a concurrent writer,
so two replicas can never both win.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Insert
from sqlalchemy.types import TypeDecorator, TypeEngine

# How long a writer waits for another one before giving up; claims are short, so a long wait
# means something is stuck, not busy.
SQLITE_BUSY_SECONDS = 30.0


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both engines.

    PostgreSQL stores `timestamptz`. SQLite has no time type: SQLAlchemy writes a fixed-width
    text, so values are stored as naive UTC, which keeps text order equal to time order (the
    `WHERE until > :now` comparisons rely on it).
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(DateTime(timezone=dialect.name == "postgresql"))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (compact, comparable); JSON text on SQLite.
JsonValue = JSON().with_variant(postgresql.JSONB(), "postgresql")


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (the driver we install); SQLAlchemy
    would otherwise pick psycopg2."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _is_memory(url: str) -> bool:
    database = make_url(url).database
    return database in (None, "", ":memory:")


class Database:
    """One engine plus the lock discipline its dialect needs."""

    def __init__(self, url: str) -> None:
        url = normalise_url(url)
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        # An in-memory SQLite database exists once per connection, so every thread must share
        # that one connection, one transaction at a time.
        self._lock: threading.Lock | None = None
        if self.dialect == "sqlite":
            memory = _is_memory(url)
            if memory:
                self._lock = threading.Lock()
            self.engine = _sqlite_engine(url, memory)
        elif self.dialect == "postgresql":
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        else:
            raise ValueError(f"unsupported state store {self.dialect!r}: use sqlite or postgresql")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One unit of work: committed on success, rolled back on any error."""
        guard: AbstractContextManager[Any] = self._lock if self._lock else nullcontext()
        with guard, self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT, which knows ON CONFLICT."""
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)

    def insert_ignore(
        self,
        table: Table,
        values: Mapping[str, Any],
        conflict: Sequence[str],
        where: ColumnElement[bool] | None = None,
    ) -> Insert:
        """INSERT … ON CONFLICT (conflict) [WHERE partial-index predicate] DO NOTHING: the
        claim primitive. Add `.returning(...)`: a row comes back only when this call won."""
        return (
            self.insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=list(conflict), index_where=where)
        )

    def upsert(
        self,
        table: Table,
        values: Mapping[str, Any],
        conflict: Sequence[str],
        update: Mapping[str, Any],
    ) -> Insert:
        """INSERT … ON CONFLICT (conflict) DO UPDATE SET update: last writer wins."""
        return (
            self.insert(table)
            .values(**values)
            .on_conflict_do_update(index_elements=list(conflict), set_=dict(update))
        )


def _sqlite_engine(url: str, memory: bool) -> Engine:
    connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False}
    if memory:
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
    else:
        engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Hand transaction control to the "begin" hook below (the sqlite3 module would
        # otherwise open deferred transactions on its own, and not around DDL).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_SECONDS * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        if not memory:
            _use_wal(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_wal(dbapi_conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (once; the mode is stored in the file). Synchronous stays FULL,
    the default: a "sent" mark lost to a power cut would repeat a message.

    The switch needs the file to itself and, unlike normal locking, does not wait on the busy
    timeout: two processes opening a new file together would see "database is locked". So
    wait here, briefly, for the other one to finish switching.
    """
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            if dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                dbapi_conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
