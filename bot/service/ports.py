"""What the service needs from the outside world, as Protocols it owns. Adapters (the DuckDB and
Databricks SQL backends in bot.warehouse) satisfy them by shape; the service never imports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Warehouse(Protocol):
    """Runs a named query file (`queries/<name>.sql`) with its params; read only through the
    typed functions of `bot.warehouse.queries`, which map the rows into `bot.models`."""

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...
