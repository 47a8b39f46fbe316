"""`jobs-bot run` with a slow embedded warehouse, for tests that need an answer in flight.

    python -m tests.delivery.slow_run SECONDS --config FILE --http 0

Every warehouse query made for a Slack answer (called from bot/slack/app.py) waits SECONDS
first, the way a cold SQL warehouse does (as tests/support/warehouse.py ProbeWarehouse does
in-process); the watchers and the digest are left at full speed so that only answers are in
flight. Everything else is the real `jobs-bot run` entry point, signals included.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

from bot.cli import main
from bot.warehouse.duckdb_backend import DuckDBWarehouse


def _for_an_answer() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.replace("\\", "/").endswith("bot/slack/app.py"):
            return True
        frame = frame.f_back
    return False


def _slowed(delay: float) -> None:
    real = DuckDBWarehouse.run

    def run(self: DuckDBWarehouse, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        if _for_an_answer():
            time.sleep(delay)
        return real(self, name, params)

    DuckDBWarehouse.run = run  # type: ignore[method-assign]


if __name__ == "__main__":
    _slowed(float(sys.argv[1]))
    sys.exit(main(["run", *sys.argv[2:]]))
