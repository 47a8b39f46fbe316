"""The embedded warehouse: DuckDB holding tables shaped like the Databricks system tables
(bot.warehouse.schema), running the query files after transpiling them to DuckDB SQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from bot.errors import UserError
from bot.warehouse import schema, sql, transpile

# DuckDB's own defaults are 80% of the machine's memory and one thread per core: in the bot,
# next to the Slack listeners and the watchers, one heavy query could take the whole container
# (OOM-killed) or every core (acks late). Beyond the memory limit DuckDB spills to disk or
# fails that one query, which the user is told about.
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2
MEMORY_LIMIT_RE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def open_db(
    path: str | None,
    read_only: bool = False,
    *,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    threads: int = DEFAULT_THREADS,
    tables: bool = True,
) -> duckdb.DuckDBPyConnection:
    """The one way jobs-bot opens DuckDB: a warehouse file (created with every system table
    unless `read_only` or not `tables`), or an in-memory one for ``None``; memory and threads
    bounded.

    The session time zone is UTC because timestamps are stored naive-in-UTC; a local zone
    would shift every ``CAST(... AS TIMESTAMPTZ)`` and ``current_timestamp`` comparison.
    """
    # SET takes no bound parameters, so the values are checked before they are spelled out.
    if not MEMORY_LIMIT_RE.match(memory_limit):
        raise UserError(f"{memory_limit!r} is not a memory size like 1GB or 512MiB")
    if not isinstance(threads, int) or threads < 1:
        raise UserError(f"DuckDB threads must be a whole number >= 1, not {threads!r}")
    if path is not None and read_only and not Path(path).exists():
        raise UserError(f"{path}: no such warehouse file (create one with `jobs-bot seed`)")
    con = duckdb.connect(path if path is not None else ":memory:", read_only=read_only)
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET threads = {threads}")
    if tables and not read_only:
        schema.create_all(con)
    return con


class QueryFailed(UserError):
    """A query the embedded warehouse could not run; the message is DuckDB's first line."""


class DuckDBWarehouse:
    """One DuckDB database; each `run` uses its own cursor so threads can share it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        db_path: str | None = None,
        *,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        threads: int = DEFAULT_THREADS,
    ) -> DuckDBWarehouse:
        # Read-only when the file exists: a demo or benchmark may hold it open for writing
        # elsewhere, and the bot never writes to the system tables.
        exists = db_path is not None and Path(db_path).exists()
        return cls(open_db(db_path, read_only=exists, memory_limit=memory_limit, threads=threads))

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The raw connection, for fixtures and the benchmark (DuckDB-only callers)."""
        return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            cur = self._con.cursor()
        # Stored timestamps are naive UTC; pin the session zone so nothing depends on the
        # machine's local time.
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        query = sql.load(name)
        values = {k: _to_duckdb(v) for k, v in sql.check_params(query, params).items()}
        cur = self.cursor()
        try:
            try:
                cur.execute(transpile.duckdb_sql(query), values)
            except duckdb.Error as e:
                raise QueryFailed(f"{name} failed: {str(e).splitlines()[0]}") from e
            names = [d[0] for d in cur.description]
            return [dict(zip(names, map(_from_duckdb, row), strict=True)) for row in cur.fetchall()]
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()


def _to_duckdb(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _from_duckdb(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
