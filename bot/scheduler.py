"""The bot's clockwork: APScheduler 3.x interval (and later cron) jobs, each one call into a use
case. `coalesce` and `max_instances=1`: a poll that overruns its interval is not stacked, and
polls missed while the process was busy become one. Each workspace has its own job, so a
stuck workspace delays only itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Every:
    """A job run every `seconds`, first at `first` (default: now)."""

    name: str
    seconds: float
    call: Callable[[], object]
    first: datetime | None = None


class Scheduler:
    """Runs `Every` jobs on background threads; `start()` / `stop()`."""

    def __init__(self, jobs: list[Every], *, timezone: str = "UTC", threads: int = 4) -> None:
        self._jobs = jobs
        self._scheduler = BackgroundScheduler(
            timezone=timezone,
            executors={"default": ThreadPoolExecutor(max_workers=threads)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        )
        for job in jobs:
            self._scheduler.add_job(
                _guarded(job),
                "interval",
                seconds=job.seconds,
                id=job.name,
                name=job.name,
                next_run_time=job.first or datetime.now().astimezone(),
            )

    @property
    def job_names(self) -> list[str]:
        return [j.name for j in self._jobs]

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)


def _guarded(job: Every) -> Callable[[], None]:
    """A job that logs its own failure: one bad tick must not stop the schedule."""

    def run() -> None:
        try:
            job.call()
        except Exception:
            log.exception("scheduled job %s failed", job.name)

    return run
