"""The bot's clockwork: APScheduler 3.x interval jobs (`Every`) and cron jobs (`At`, a 5-field
crontab in the configured time zone), each one call into a use case. `coalesce` and `max_instances=1`: a poll that overruns its interval is not stacked, and
polls missed while the process was busy become one. Each workspace has its own job, so a
stuck workspace delays only itself."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

log = logging.getLogger(__name__)

# How long stop() waits for the scheduled work under way (a shutdown must fit in the grace
# period a supervisor gives: Kubernetes sends SIGKILL 30 s after SIGTERM by default).
STOP_SECONDS = 10.0


class LeasesPort(Protocol):
    def acquire(self, name: str, holder: str, ttl: timedelta) -> bool: ...

    def release(self, name: str, holder: str) -> bool: ...


class Leadership:
    """Two replicas, one voice: of the processes sharing a store, the one holding the lease
    does the scheduled work (polls, scans, digests); the others stand by and take over within
    `ttl` when it dies (its lease runs out). Renewed every ttl/3 by its own job. Every message
    claim stays atomic anyway, so even a split-brain moment sends nothing twice."""

    def __init__(
        self, leases: LeasesPort, *, name: str = "scheduled-work", ttl: float = 30.0
    ) -> None:
        self._leases = leases
        self.name = name
        self.ttl = timedelta(seconds=ttl)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def renew(self) -> bool:
        try:
            held = self._leases.acquire(self.name, self.holder, self.ttl)
        except Exception:  # the store is down: stand by rather than risk two leaders
            log.warning("leader lease %s: the store did not answer", self.name, exc_info=True)
            held = False
        if held != self._held:
            log.info(
                "leader lease %s %s by %s", self.name, "taken" if held else "lost", self.holder
            )
        self._held = held
        return held

    def release(self) -> None:
        if self._held:
            self._leases.release(self.name, self.holder)
            self._held = False


@dataclass(frozen=True)
class Every:
    """A job run every `seconds`, first at `first` (default: now)."""

    name: str
    seconds: float
    call: Callable[[], object]
    first: datetime | None = None


@dataclass(frozen=True)
class At:
    """A job run on a cron schedule (`trigger`: an APScheduler trigger, e.g. from
    bot.config.cron_trigger, which reads 5-field crontab in the configured zone)."""

    name: str
    trigger: BaseTrigger
    call: Callable[[], object]


class Scheduler:
    """Runs `Every` and `At` jobs on background threads; `start()` / `stop()`."""

    def __init__(
        self,
        jobs: list[Every | At],
        *,
        timezone: str = "UTC",
        threads: int = 4,
        leadership: Leadership | None = None,
    ) -> None:
        self._leadership = leadership
        # What is running now, by job name: stop() waits for it, within a bound.
        self._busy = threading.Condition()
        self._running: dict[str, int] = {}
        self.unfinished: tuple[str, ...] = ()
        if leadership is not None:
            # The lease first, then every job only while this process holds it.
            leadership.renew()
            renew = Every("leader-lease", leadership.ttl.total_seconds() / 3, leadership.renew)
            jobs = [renew, *(_as_leader(j, leadership) for j in jobs)]
        self._jobs = jobs
        self._scheduler = BackgroundScheduler(
            timezone=timezone,
            executors={"default": ThreadPoolExecutor(max_workers=threads)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        for job in jobs:
            if isinstance(job, At):
                self._scheduler.add_job(self._guarded(job), job.trigger, id=job.name, name=job.name)
                continue
            self._scheduler.add_job(
                self._guarded(job),
                "interval",
                seconds=job.seconds,
                id=job.name,
                name=job.name,
                next_run_time=job.first or datetime.now().astimezone(),
            )

    @property
    def job_names(self) -> list[str]:
        return [j.name for j in self._jobs]

    @property
    def jobs(self) -> tuple[Every | At, ...]:
        """The jobs as scheduled (leader-only ones wrapped): a benchmark can run them on
        simulated time instead of start()ing the real timer."""
        return tuple(self._jobs)

    def start(self) -> None:
        self._scheduler.start()

    def stop(self, timeout: float = STOP_SECONDS) -> bool:
        """No new runs; wait up to `timeout` for the runs under way. True if they all ended;
        else `unfinished` names them (a poll stuck on a dead Slack or workspace): the caller
        may exit anyway, since every claim is atomic and a half-done tick is done again by the
        next start or by the standby, as after a crash."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        with self._busy:
            while self._running and (left := deadline - time.monotonic()) > 0:
                self._busy.wait(left)
            self.unfinished = tuple(sorted(self._running))
        if self.unfinished:
            log.warning(
                "stopping with scheduled work still running after %.0f s: %s; it is done "
                "again on the next start",
                timeout,
                ", ".join(self.unfinished),
            )
        if self._leadership is not None:
            self._leadership.release()  # the standby need not wait out the lease
        return not self.unfinished

    def _guarded(self, job: Every | At) -> Callable[[], None]:
        """A job that logs its own failure (one bad tick must not stop the schedule) and is
        counted while it runs, for stop()."""
        call = _guarded(job)

        def run() -> None:
            with self._busy:
                self._running[job.name] = self._running.get(job.name, 0) + 1
            try:
                call()
            finally:
                with self._busy:
                    left = self._running.pop(job.name) - 1
                    if left:
                        self._running[job.name] = left
                    self._busy.notify_all()

        return run


def _as_leader(job: Every | At, leadership: Leadership) -> Every | At:
    def only_if_leading() -> object:
        return job.call() if leadership.held else None

    return replace(job, call=only_if_leading)


def _guarded(job: Every | At) -> Callable[[], None]:
    """A job that logs its own failure: one bad tick must not stop the schedule."""

    def run() -> None:
        try:
            job.call()
        except Exception:
            log.exception("scheduled job %s failed", job.name)

    return run
