"""One wrapper around the real warehouse for every test that needs to watch or spoil it: it
records the query names run (`calls`, `ran`), can be `delay`ed like a cold SQL warehouse, and
fails like a dropped connection while `fail_with` is set. It only delegates otherwise."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from bot.warehouse import Warehouse


class ProbeWarehouse:
    def __init__(
        self,
        inner: Warehouse,
        *,
        delay: float = 0.0,
        fail_with: Exception | None = None,
    ) -> None:
        self.inner = inner
        self.delay = delay
        self.fail_with = fail_with
        self.calls: list[str] = []

    @property
    def ran(self) -> set[str]:
        return set(self.calls)

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.calls.append(name)
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        return self.inner.run(name, params)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # The DuckDB backend's extras (connection, cursor) for the fixtures that use them.
        return getattr(self.inner, name)
