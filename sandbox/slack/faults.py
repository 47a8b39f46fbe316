"""Fault switches: make the sandbox misbehave the way Slack sometimes does.

Web API faults apply to one method (or ``*``): ``ratelimit`` (429 + Retry-After),
``server_error`` (5xx), ``slow`` (answer after a delay), ``drop`` (close the connection
without an answer). The same four apply to the response_url endpoint with the method name
``response_url`` (exactly: ``*`` means every Web API method, and a response_url is not one, so
existing Web API faults never spoil answers by accident); a refused post there does not count
as one of the URL's 5 uses. Delivery faults apply to requests sent to the app: ``stale_signature``
(timestamp 10 minutes old), ``forged_signature`` (signed with the wrong secret),
``redeliver`` (send the same body a second time). Each fault fires `times` times
(None = until cleared); with `every` = k it fires on one matching call in k (the
`offset`-th of each k, counted per fault), so "a third of the calls" is deterministic.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

API_KINDS = ("ratelimit", "server_error", "slow", "drop")
RESPONSE_URL = "response_url"  # the "method" of faults on the response_url endpoint
DELIVERY_KINDS = ("stale_signature", "forged_signature", "redeliver")
KINDS = API_KINDS + DELIVERY_KINDS


@dataclass
class Fault:
    kind: str
    method: str = "*"
    times: int | None = None
    retry_after: int = 1
    status: int = 500
    seconds: float = 1.0
    every: int = 1
    offset: int = 0
    seen: int = 0  # matching calls so far (for `every`)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[Fault] = []

    def add(self, kind: str, method: str = "*", times: int | None = None, **opts: Any) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(KINDS)}")
        allowed = {"retry_after", "status", "seconds", "every", "offset"}
        unknown = set(opts) - allowed
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        fault = Fault(kind=kind, method=method, times=times, **opts)
        with self._lock:
            self._active.append(fault)
        return fault

    # Friendly spellings for tests and the demo.
    def ratelimit(
        self, method: str, retry_after: int = 1, times: int | None = None, **opts: Any
    ) -> Fault:
        return self.add("ratelimit", method, times, retry_after=retry_after, **opts)

    def server_error(
        self, method: str, status: int = 500, times: int | None = None, **opts: Any
    ) -> Fault:
        return self.add("server_error", method, times, status=status, **opts)

    def slow(self, method: str, seconds: float, times: int | None = None) -> Fault:
        return self.add("slow", method, times, seconds=seconds)

    def drop(self, method: str, times: int | None = None) -> Fault:
        return self.add("drop", method, times)

    def clear(self) -> None:
        with self._lock:
            self._active.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._active)

    def take(self, kind: str, method: str = "*", *, exact: bool = False) -> Fault | None:
        """The first matching fault, counting one use of it. `exact`: a ``*`` fault does not
        match (the response_url endpoint, which is not a Web API method)."""
        with self._lock:
            for fault in self._active:
                if fault.kind == kind and (
                    fault.method == method or (fault.method == "*" and not exact)
                ):
                    fault.seen += 1
                    if fault.every > 1 and (fault.seen - 1) % fault.every != fault.offset:
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._active.remove(fault)
                    return fault
        return None
