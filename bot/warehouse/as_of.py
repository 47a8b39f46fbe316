"""The embedded warehouse as it was at a past moment, for `jobs-bot replay`: every query file
runs unchanged, but no row from the future is seen.

How: a fresh in-memory DuckDB database attaches the warehouse file read-only (as `src`) and
defines each system table as a view of it filtered by the replay's clock, kept in a one-row
table (`replay_clock.now`, naive UTC like every stored time). A row exists from the moment
the system tables would have it:

- a run's or task run's timeline slice from its `period_end_time` (slices are written when
  they end), a node's minute from its `end_time`;
- a billing row from its `usage_end_time` (usage is billed per finished period);
- a job, task or cluster version from its `change_time` (SCD2: a change is a new row);
- prices, node types and the workspaces list always (prices are published ahead; the others
  are reference data).

Why views and not `:now` params in each query: the queries that feed the scheduled work (and
those other use cases add) then need no replay-only parameter, and one file here states the
visibility rule for every table, so a new query cannot forget it. The real system tables lag
(billing hours, lakeflow minutes); the views show rows as soon as they end, so a replay is
the earliest the bot could have spoken.

Only the embedded warehouse can be replayed this way: against a Databricks SQL warehouse,
`jobs-bot export` a copy first, then replay the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from bot.errors import UserError
from bot.warehouse import schema
from bot.warehouse.duckdb_backend import DuckDBWarehouse, open_db

# The column from which a row of each table exists; None: always visible.
VISIBLE_FROM: dict[str, str | None] = {
    "system.lakeflow.jobs": "change_time",
    "system.lakeflow.job_tasks": "change_time",
    "system.lakeflow.job_run_timeline": "period_end_time",
    "system.lakeflow.job_task_run_timeline": "period_end_time",
    "system.billing.usage": "usage_end_time",
    "system.billing.list_prices": None,
    "system.compute.clusters": "change_time",
    "system.compute.node_timeline": "end_time",
    "system.compute.node_types": None,
    "system.access.workspaces_latest": None,
}


class AsOfWarehouse:
    """A `Warehouse` (run / close) whose system tables stop at `set_now(...)`."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._inner = DuckDBWarehouse(con)
        self.now: datetime | None = None

    @classmethod
    def open(cls, db_path: str) -> AsOfWarehouse:
        if not Path(db_path).is_file():
            raise UserError(f"{db_path}: no such warehouse file (create one with `jobs-bot seed`)")
        con = open_db(None, tables=False)
        try:
            con.execute("ATTACH ? AS src (READ_ONLY)", [db_path])
        except duckdb.Error as e:
            con.close()
            raise UserError(f"{db_path}: not a warehouse file ({str(e).splitlines()[0]})") from e
        con.execute("CREATE TABLE replay_clock (now TIMESTAMP)")
        con.execute("INSERT INTO replay_clock VALUES (TIMESTAMP '1970-01-01 00:00:00')")
        for table in schema.TABLES:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {table.schema}")
            column = VISIBLE_FROM.get(table.full_name)
            where = f" WHERE {column} <= (SELECT now FROM replay_clock)" if column else ""
            con.execute(
                f"CREATE VIEW {table.local_name} AS SELECT * FROM src.{table.local_name}{where}"
            )
        return cls(con)

    def set_now(self, now: datetime) -> None:
        """From now on, queries see the warehouse as it was at `now`."""
        naive = now.astimezone(UTC).replace(tzinfo=None)
        self._con.execute("UPDATE replay_clock SET now = ?", [naive])
        self.now = now

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self._inner.run(name, params)

    def close(self) -> None:
        self._con.close()
