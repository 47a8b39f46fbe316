"""What an SLA check reads: the jobs a rule names, a job's p90 and its recent runs — from the
system tables (cached for a few minutes: they lag anyway), overlaid on workspaces with the Jobs
API by the job's runs from runs/list (real time: a run that started, is still running, or just
succeeded is seen at once)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.config import SlaRule
from bot.models import ApiRun, JobKey, JobMatch, JobsApiError, RunSummary
from bot.service.lateness import JobLookup, LiveJobsPort
from bot.service.ports import Warehouse
from bot.service.sla import RUNS_LIMIT
from bot.service.sla_days import Target
from bot.warehouse import queries

log = logging.getLogger(__name__)

JOBS_TTL = timedelta(hours=1)  # which jobs a rule names (job_lookup): renames are rare
# A workspace watched through the Jobs API gets its recent runs live from runs/list every
# round; the tables then only add older history, which an hour's cache serves.
LIVE_HISTORY_TTL = timedelta(hours=1)
STATS_TTL = timedelta(hours=1)  # p90 of 30 days of runs moves slowly
API_RUNS = 100  # per job and check: two days of an hourly job, with room


class SlaInputs:
    """The reads behind one SLA check, each cached for its own time-to-live."""

    def __init__(
        self,
        *,
        clock: Clock,
        warehouse: Warehouse,
        jobs: JobLookup,
        jobs_api: LiveJobsPort | None,
        warehouse_ttl: timedelta,
    ) -> None:
        self.clock = clock
        self.warehouse = warehouse
        self.jobs = jobs
        self._api = jobs_api
        self._ttl = warehouse_ttl
        self._cache: dict[tuple[str, ...], tuple[datetime, Any]] = {}

    def jobs_for(self, rule: SlaRule) -> list[JobMatch]:
        needle = rule.job.job_id if rule.job.job_id is not None else rule.job.name
        assert needle is not None  # the config insists on a name or an id
        rows = self._cached(("jobs", needle), JOBS_TTL,
                            lambda: queries.job_lookup(self.warehouse, needle))  # fmt: skip
        return [r for r in rows if rule.job.matches(r.name, r.workspace_id, r.job_id)]

    def p90(self, job: JobMatch, now: datetime) -> float | None:
        key = JobKey(job.workspace_id, job.job_id)
        stats = self._cached(("stats", job.workspace_id, job.job_id), STATS_TTL,
                             lambda: queries.job_run_stats(self.warehouse, key, now=now))  # fmt: skip
        return float(stats.p90_seconds) if stats.p90_seconds is not None else None

    def runs(self, t: Target, now: datetime) -> list[RunSummary]:
        key = JobKey(t.job.workspace_id, t.job.job_id)
        watched = self.jobs.live(key.workspace_id) and self._api is not None
        table: list[RunSummary] = self._cached(
            ("runs", key.workspace_id, key.job_id), LIVE_HISTORY_TTL if watched else self._ttl,
            lambda: queries.job_recent_runs(self.warehouse, key, now=now, limit=RUNS_LIMIT),
        )  # fmt: skip
        if not self.jobs.live(key.workspace_id) or self._api is None:
            return table
        since = now - max(timedelta(days=2), timedelta(hours=(t.spec.every_hours or 0) + 24))
        try:
            live = self._api.list_runs(
                key.workspace_id, job_id=key.job_id, started_from=since, max_runs=API_RUNS
            )
        except JobsApiError as e:  # the tables alone still judge, a little later
            log.info("runs/list %s/%s: %s", key.workspace_id, key.job_id, e)
            return table
        merged = {r.run_id: r for r in table}
        merged.update({r.run_id: s for r in live if (s := _summary(r, now)) is not None})
        return sorted(merged.values(), key=lambda r: r.start_time, reverse=True)

    def _cached(self, key: tuple[str, ...], ttl: timedelta, read: Any) -> Any:
        now = self.clock.now()
        hit = self._cache.get(key)
        if hit is not None and timedelta(0) <= now - hit[0] < ttl:
            return hit[1]
        value = read()
        self._cache[key] = (now, value)
        return value


def _summary(run: ApiRun, now: datetime) -> RunSummary | None:
    """A Jobs API run in the shape of a job_recent_runs row (end = now while it runs)."""
    if run.start_time is None:
        return None
    end = run.end_time if run.state.ended and run.end_time else now
    return RunSummary(
        run_id=run.run_id,
        start_time=run.start_time,
        end_time=end,
        duration_seconds=int(run.duration_seconds or (end - run.start_time).total_seconds()),
        result_state=run.state.state if run.state.ended else None,
        termination_code=run.state.termination_code,
        in_progress=not run.state.ended,
        repairs=run.repairs,
        trigger_type=run.trigger,
        run_type=run.run_type,
    )
