"""Faults and the call counter of one workspace's server: throttling (429 + Retry-After),
unavailability (503), slow answers, and how many calls each endpoint got.

Faults apply to /api/ calls only: the SDK's discovery and token requests have no retry of
their own (a 429 there fails client construction), and tests inject faults to exercise the
retry path of real API calls.
"""

from __future__ import annotations

import threading
from collections import Counter

from sandbox.databricks.errors import ApiError


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._throttle = 0
        self._throttle_after = 1
        self._unavailable = 0
        self._unavailable_after: int | None = None
        self._delay = 0.0
        self._delay_calls: int | None = None

    # -- injecting -----------------------------------------------------------------------
    def throttle(self, calls: int, retry_after: int = 1) -> None:
        """Answer the next `calls` API calls 429 REQUEST_LIMIT_EXCEEDED with Retry-After."""
        with self._lock:
            self._throttle, self._throttle_after = calls, retry_after

    def unavailable(self, calls: int, retry_after: int | None = None) -> None:
        """Answer the next `calls` API calls 503 TEMPORARILY_UNAVAILABLE (Retry-After optional:
        the SDK then waits its default 1 s)."""
        with self._lock:
            self._unavailable, self._unavailable_after = calls, retry_after

    def slow(self, seconds: float, calls: int | None = None) -> None:
        """Delay the next `calls` API answers (None: every answer until `clear`)."""
        with self._lock:
            self._delay, self._delay_calls = seconds, calls

    def clear(self) -> None:
        with self._lock:
            self._throttle = self._unavailable = 0
            self._delay, self._delay_calls = 0.0, None

    # -- counting ------------------------------------------------------------------------
    def count(self, endpoint: str) -> None:
        with self._lock:
            self._calls[endpoint] += 1

    def calls(self) -> dict[str, int]:
        """Calls received per endpoint (e.g. "jobs/runs/list"), including refused ones."""
        with self._lock:
            return dict(self._calls)

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    # -- serving -------------------------------------------------------------------------
    def take(self) -> tuple[float, ApiError | None, dict[str, str]]:
        """What this call suffers: (delay seconds, error to answer, extra headers)."""
        with self._lock:
            delay = 0.0
            if self._delay and (self._delay_calls is None or self._delay_calls > 0):
                delay = self._delay
                if self._delay_calls is not None:
                    self._delay_calls -= 1
            if self._throttle > 0:
                self._throttle -= 1
                error = ApiError(
                    429, "REQUEST_LIMIT_EXCEEDED", "Too many requests. Please try again later."
                )
                return delay, error, {"Retry-After": str(self._throttle_after)}
            if self._unavailable > 0:
                self._unavailable -= 1
                error = ApiError(
                    503, "TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable."
                )
                headers = {}
                if self._unavailable_after is not None:
                    headers["Retry-After"] = str(self._unavailable_after)
                return delay, error, headers
            return delay, None, {}
