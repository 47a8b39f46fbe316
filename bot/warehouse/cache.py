"""A short in-process cache in front of a warehouse, for the few lookups that barely change
and that many answers repeat (the workspace names every job lookup joins in Python). The
composition root decides which query files it covers and for how long; everything else goes
straight through."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.warehouse import Warehouse


class CachedQueries:
    def __init__(
        self,
        inner: Warehouse,
        ttl_seconds: Mapping[str, float],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self._ttl = dict(ttl_seconds)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str], tuple[float, list[dict[str, Any]]]] = {}

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        ttl = self._ttl.get(name)
        if ttl is None:
            return self.inner.run(name, params)
        key = (name, repr(sorted(params.items())))
        now = self._monotonic()
        with self._lock:
            hit = self._hits.get(key)
        if hit is not None and 0 <= now - hit[0] < ttl:
            return [dict(row) for row in hit[1]]  # copies: callers may add keys to rows
        rows = self.inner.run(name, params)  # a failure is not cached: asked again next time
        with self._lock:
            self._hits[key] = (now, [dict(row) for row in rows])
        return rows

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, attr: str) -> Any:
        # The backend's extras (the DuckDB connection for the demo and the benchmarks).
        return getattr(self.inner, attr)
