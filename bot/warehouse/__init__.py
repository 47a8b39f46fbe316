"""The query layer's front door: the `Warehouse` protocol every backend implements, and
factories that open the embedded DuckDB warehouse or a Databricks SQL warehouse.

Callers hand a query *name* and its params; the backend loads `queries/<name>.sql`, binds the
params natively (never string formatting) and returns rows as dicts. Typed wrappers that map
rows to models live in `bot.warehouse.queries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Warehouse(Protocol):
    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run the named query with its params; one dict per row, keyed by column name."""
        ...

    def close(self) -> None: ...


def open_warehouse(db_path: str | None = None) -> Warehouse:
    """The embedded warehouse: in memory (empty tables) when ``db_path`` is None, the file
    read-only when it exists, or a new file with every system table created."""
    from bot.warehouse.duckdb_backend import DuckDBWarehouse

    return DuckDBWarehouse.open(db_path)


def make_warehouse(
    kind: str = "embedded",
    *,
    db_path: str | None = None,
    server_hostname: str | None = None,
    http_path: str | None = None,
) -> Warehouse:
    """Pick a backend from config-ish values: ``embedded`` (DuckDB file or memory) or
    ``databricks`` (a SQL warehouse; credentials come from the environment)."""
    if kind == "embedded":
        return open_warehouse(db_path)
    if kind == "databricks":
        from bot.warehouse.databricks_backend import DatabricksWarehouse

        return DatabricksWarehouse.from_env(server_hostname=server_hostname, http_path=http_path)
    raise ValueError(f"unknown warehouse kind {kind!r} (embedded or databricks)")
