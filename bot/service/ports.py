"""What the service needs from the outside world. The warehouse port is the one `Protocol` the
query layer defines (`bot.warehouse.Warehouse`, re-exported here so the service names it in
one place); the DuckDB and Databricks SQL backends satisfy it by shape and the service never
imports them. Narrower ports (the store, the Jobs API, the Slack directory) are declared by the
use case that needs them, next to it, with only the methods it calls.
"""

from __future__ import annotations

from bot.warehouse import Warehouse

__all__ = ["Warehouse"]
