"""The embedded warehouse: DuckDB holding tables shaped like the Databricks system tables
(bot.warehouse.schema), running the query files after transpiling them to DuckDB SQL."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from bot.warehouse import schema, sql


class DuckDBWarehouse:
    """One DuckDB database; each `run` uses its own cursor so threads can share it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._lock = threading.Lock()

    @classmethod
    def open(cls, db_path: str | None = None) -> DuckDBWarehouse:
        if db_path is None:
            con = duckdb.connect(":memory:")
            schema.create_all(con)
        elif Path(db_path).exists():
            # Read-only: a demo or benchmark may hold the file open for writing elsewhere,
            # and the bot never writes to the system tables.
            con = duckdb.connect(db_path, read_only=True)
        else:
            con = duckdb.connect(db_path)
            schema.create_all(con)
        return cls(con)

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
            cur.execute(sql.duckdb_sql(query), values)
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
