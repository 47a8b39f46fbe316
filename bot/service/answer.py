"""What a command answer is (`Answer`), the short-lived result cache, and the guarded read path
to the warehouse (`Reader.read` around the typed queries of `bot.warehouse.queries`) that turns
its failures into one clear `WarehouseUnavailable`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from bot.errors import UserError, new_error_id
from bot.service.ports import Warehouse
from bot.warehouse.queries import RowShapeError

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A rendered answer: `text` is the notification/fallback, `blocks` the Block Kit body."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    data_as_of: datetime | None = None
    cache_key: str | None = None
    # The "now" the answer was computed for: answering again `at` it gives the same answer
    # (Share in channel posts what the user saw, not what the data says a minute later).
    asked_at: datetime | None = None

    def payload(self) -> dict[str, Any]:
        """The message as Slack wants it: `{"text": …, "blocks": […]}`."""
        return {"text": self.text, "blocks": self.blocks}


class WarehouseUnavailable(UserError):
    """The warehouse failed or timed out. The message is for people; details go to the log."""

    def __init__(self, query: str, error_id: str) -> None:
        super().__init__(
            "I couldn't read the Databricks system tables just now (the SQL warehouse did not "
            f"answer). Try again in a minute. If it keeps failing, tell the bot's operator: "
            f"error id `{error_id}`."
        )
        self.query = query
        self.error_id = error_id


class Reader:
    """Calls the typed queries on the warehouse; any warehouse failure becomes
    WarehouseUnavailable, logged once with the query name, its argument names and the cause so
    the operator can find it by error id.

    A RowShapeError (a query's columns and its model disagree) is a bug, not an outage: it
    passes through to the answer's unexpected-error path, which logs it with its own error id.
    """

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def read(
        self,
        query: Callable[Concatenate[Warehouse, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`query(warehouse, *args, **kwargs)`, guarded; `query` is a bot.warehouse.queries
        function, named after its query file."""
        name = getattr(query, "__name__", repr(query))
        try:
            return query(self.warehouse, *args, **kwargs)
        except RowShapeError:
            raise
        except Exception as e:  # any driver error: the person gets one clear message
            error_id = new_error_id()
            log.error(
                "warehouse query %s failed (error id %s, params %s): %s: %s",
                name,
                error_id,
                sorted(kwargs),
                type(e).__name__,
                e,
                exc_info=True,
            )
            raise WarehouseUnavailable(name, error_id) from e


class ResultCache:
    """Answers for a few seconds, keyed by the normalised request.

    Why: a channel often asks the same question twice in a row (two people, or one person
    re-typing); system tables lag minutes anyway, so a 60 s old answer is as fresh as a new one
    and spares the SQL warehouse. Entries expire by the injected clock's time (so `--at` and
    tests behave) and also by the monotonic clock (so a FixedClock cannot keep them forever).
    """

    def __init__(self, ttl_seconds: float, *, max_entries: int = 256) -> None:
        self.ttl = float(ttl_seconds)
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, float, Answer]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: datetime) -> Answer | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stamp, mono, answer = entry
            age = now.timestamp() - stamp
            if age < 0 or age >= self.ttl or time.monotonic() - mono >= self.ttl:
                del self._entries[key]
                return None
            return answer

    def put(self, key: str, now: datetime, answer: Answer) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                oldest = min(self._entries, key=lambda k: self._entries[k][1])
                del self._entries[oldest]
            self._entries[key] = (now.timestamp(), time.monotonic(), answer)

    def get_or_compute(self, key: str, now: datetime, compute: Callable[[], Answer]) -> Answer:
        cached = self.get(key, now)
        if cached is not None:
            return cached
        answer = compute()
        self.put(key, now, answer)
        return answer
