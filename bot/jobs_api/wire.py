"""Raw JSON calls through the SDK's ApiClient (same auth, retries and error mapping as its typed
API, without the typed objects that drop enum values they do not know).

Each call counts one request (a page) on the tallies of the thread it runs on (`counted`), so a
caller can learn how many HTTP requests a poll made; the SDK's own retries of a request are not
counted again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from databricks.sdk.core import ApiClient

_counting = threading.local()


class Tally:
    """Requests made while it was counting (thread-safe: calls run on worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    def add(self) -> None:
        with self._lock:
            self._requests += 1


@contextmanager
def counted(tallies: Sequence[Tally]) -> Iterator[None]:
    """Count the requests made on this thread meanwhile on each of `tallies`."""
    before: tuple[Tally, ...] = getattr(_counting, "tallies", ())
    _counting.tallies = (*before, *tallies)
    try:
        yield
    finally:
        _counting.tallies = before


def _count() -> None:
    for tally in getattr(_counting, "tallies", ()):
        tally.add()


def getter(path: str, query: dict[str, Any]) -> Callable[[ApiClient], dict[str, Any]]:
    return lambda api: get(api, path, query)


def get(api: ApiClient, path: str, query: dict[str, Any]) -> dict[str, Any]:
    _count()
    answer = api.do("GET", path, query=query)
    return answer if isinstance(answer, dict) else {}


def post(api: ApiClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    _count()
    answer = api.do("POST", path, body=body)
    return answer if isinstance(answer, dict) else {}
