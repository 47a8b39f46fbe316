"""DuckDB's defaults (80% of the machine's memory, a thread per core) let one heavy query take
the bot's container; the embedded warehouse now opens with bounds, from the config."""

from __future__ import annotations

import pytest

from bot import wiring
from bot.config import load_config
from bot.errors import UserError
from bot.warehouse import open_warehouse
from bot.warehouse.duckdb_backend import open_db
from sandbox import DEMO_CONFIG
from tests.support.demo import Demo


def _settings(wh: object) -> tuple[str, int]:
    con = wh.connection  # type: ignore[attr-defined]
    memory, threads = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads')"
    ).fetchone()
    return str(memory), int(threads)


def _spelled(limit: str) -> str:
    # How DuckDB shows a limit (e.g. 1GB -> "953.6 MiB"), from a connection set by hand.
    con = open_db(None)
    con.execute(f"SET memory_limit = '{limit}'")
    shown = con.execute("SELECT current_setting('memory_limit')").fetchone()
    con.close()
    return str(shown[0])


def test_the_configured_memory_limit_and_threads_are_applied(demo: Demo) -> None:
    cfg = load_config(DEMO_CONFIG)
    embedded = {"path": demo.path, "memory_limit": "256MiB", "threads": 1}
    cfg = cfg.model_copy(update={"warehouse": cfg.warehouse.model_validate({"embedded": embedded})})
    wh = wiring.open_configured_warehouse(cfg)
    try:
        assert _settings(wh) == ("256.0 MiB", 1)
    finally:
        wh.close()


def test_the_defaults_bound_memory_and_threads(demo: Demo) -> None:
    wh = open_warehouse(demo.path)
    try:
        assert _settings(wh) == (_spelled("1GB"), 2)
    finally:
        wh.close()


def test_bad_values_are_refused_before_they_reach_sql() -> None:
    with pytest.raises(UserError):
        open_db(None, memory_limit="1GB'; DROP TABLE x; --")
    with pytest.raises(UserError):
        open_db(None, threads=0)
    cfg = load_config(DEMO_CONFIG)
    with pytest.raises(ValueError, match="memory size"):
        cfg.warehouse.model_validate({"embedded": {"memory_limit": "lots"}})
