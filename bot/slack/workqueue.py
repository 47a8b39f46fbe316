"""The work behind an ack: a bounded queue with its own threads, so an ack never waits for work.

Bolt runs every listener on a pool of 5 threads and answers Slack's HTTP request only once the
listener has called `ack()`. A listener that does its slow work on that pool holds a thread for
as long as the warehouse takes, so the sixth command typed at once waits for a free thread
before it can even ack — past Slack's 3 s, the user sees "operation_timeout". Here a listener
acks and hands its work to this queue, which returns at once; the Bolt pool is free again in
microseconds.

Bounds, so a crowd or one person cannot make the bot hang or starve others:
- `capacity`: work waiting or running at once; beyond it the asker is told "busy".
- `per_user`: questions in flight per person; beyond it "still working on your previous ones".
- `drain(timeout)`: on shutdown, no new work, and what is queued or running gets that long to
  finish (answers in flight are delivered rather than dropped).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from enum import Enum

log = logging.getLogger(__name__)

# Warehouse-bound work mostly waits on I/O (the SQL warehouse or DuckDB's own threads), so a
# few more threads than cores is right; 8 answers 20 simultaneous slow questions in 3 rounds.
DEFAULT_WORKERS = 8
# About a minute of work at a slow warehouse; more would only mean answers nobody waits for.
DEFAULT_CAPACITY = 64
DEFAULT_PER_USER = 2
# Kubernetes waits 30 s between SIGTERM and SIGKILL; leave room for closing the rest.
DEFAULT_DRAIN_SECONDS = 20.0


class Refused(Enum):
    """Why work was not taken."""

    BUSY = "busy"  # the queue is full
    USER_BUSY = "user_busy"  # this person already has `per_user` questions in flight
    CLOSED = "closed"  # shutting down


class WorkQueue:
    """Runs submitted callables on `workers` threads of its own, at most `capacity` at once."""

    def __init__(
        self,
        *,
        workers: int = DEFAULT_WORKERS,
        capacity: int = DEFAULT_CAPACITY,
        per_user: int = DEFAULT_PER_USER,
        name: str = "jobs-work",
    ) -> None:
        if workers < 1 or capacity < workers or per_user < 1:
            raise ValueError("need workers >= 1, capacity >= workers and per_user >= 1")
        self._workers = workers
        self._capacity = capacity
        self._per_user = per_user
        self._name = name
        self._cond = threading.Condition()
        self._waiting: deque[tuple[str | None, Callable[[], None]]] = deque()
        self._running = 0
        self._by_user: dict[str, int] = {}
        self._threads: list[threading.Thread] = []
        self._closed = False

    @property
    def in_flight(self) -> int:
        with self._cond:
            return len(self._waiting) + self._running

    def submit(self, user: str | None, work: Callable[[], None]) -> Refused | None:
        """Queue `work` for `user` (None: not counted per person); None when taken."""
        with self._cond:
            if self._closed:
                return Refused.CLOSED
            if len(self._waiting) + self._running >= self._capacity:
                return Refused.BUSY
            if user is not None and self._by_user.get(user, 0) >= self._per_user:
                return Refused.USER_BUSY
            if user is not None:
                self._by_user[user] = self._by_user.get(user, 0) + 1
            self._waiting.append((user, work))
            # Threads start with the first work, not at construction: building an app (in a
            # test, `jobs-bot check-config`) must not leave threads behind.
            if len(self._threads) < self._workers and self._running + len(self._waiting) > len(
                self._threads
            ):
                self._spawn()
            self._cond.notify()
        return None

    def _spawn(self) -> None:
        thread = threading.Thread(
            target=self._loop, name=f"{self._name}-{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if not self._waiting:
                    return  # closed and nothing left
                user, work = self._waiting.popleft()
                self._running += 1
            try:
                work()
            except Exception:
                log.exception("work after an ack failed")
            finally:
                with self._cond:
                    self._running -= 1
                    if user is not None:
                        left = self._by_user.get(user, 1) - 1
                        if left > 0:
                            self._by_user[user] = left
                        else:
                            self._by_user.pop(user, None)
                    self._cond.notify_all()

    def drain(self, timeout: float = DEFAULT_DRAIN_SECONDS) -> bool:
        """Take no new work and wait up to `timeout` for what was taken; True if all finished."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            while self._waiting or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.warning(
                        "shutting down with %d answer(s) still queued and %d being worked on",
                        len(self._waiting),
                        self._running,
                    )
                    return False
                self._cond.wait(left)
        return True
