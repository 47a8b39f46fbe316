"""Where the simulator's system-table rows go: the `Sink` protocol, a DuckDB sink over a
connection the caller owns (the demo shares it with the bot's embedded warehouse), and an
in-memory sink for tests that only count rows.

Rows are dicts keyed by system-table column; timestamps are int epoch seconds, dates int days
since 1970-01-01 and decimals strings, as `bot.warehouse.loader.TableWriter` takes them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import duckdb

Row = Mapping[str, Any]


class Sink(Protocol):
    def append(self, table_full_name: str, rows: Sequence[Row]) -> int:
        """Append rows to one system table (`system.lakeflow.job_run_timeline`, ...)."""
        ...


class MemorySink:
    """Keeps every appended row, per table, in order."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}

    def append(self, table_full_name: str, rows: Sequence[Row]) -> int:
        self.tables.setdefault(table_full_name, []).extend(dict(r) for r in rows)
        return len(rows)


class DuckDBSink:
    """Appends through `TableWriter` on a cursor of the given connection, never opening the
    database file itself: DuckDB lets one process hold a file open read-write only once."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        from bot.warehouse.loader import TableWriter

        # A cursor is DuckDB's per-thread handle on the same database: the runner thread
        # writes through it while the bot reads through its own.
        self._cursor = con.cursor()
        self._cursor.execute("SET TimeZone = 'UTC'")
        self._writer = TableWriter(self._cursor)
        self._lock = threading.Lock()

    def append(self, table_full_name: str, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        names = list(dict.fromkeys(k for r in rows for k in r))
        columns = {n: [r.get(n) for r in rows] for n in names}
        with self._lock:
            return self._writer.append(table_full_name, columns)

    def close(self) -> None:
        with self._lock:
            self._cursor.close()
