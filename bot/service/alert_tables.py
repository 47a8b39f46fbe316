"""The system-table path of the failure alerts: run ends read from the system tables over a
sliding window, for workspaces without Jobs API access (their only source) and, as the
reconcile, for the others (failures the Jobs API path never saw — a restart, a workspace
outage — alerted late, marked so). Each row is handed to the ended-run handler
(FailureAlerts.handle_ended) in the shape of a Jobs API run; the store counts each run end once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock
from bot.config import Config
from bot.errors import UserError
from bot.models import ApiRun, ApiRunState, EndedRun, JobInfo
from bot.service.alert_feed import PollOutcome

log = logging.getLogger(__name__)

# The system tables are read over a sliding window this long: their rows land minutes (the
# lakeflow lag is undocumented) after the run ended, so each poll looks back far enough to
# see late rows, and the store counts each run end once.
TABLE_LOOKBACK = timedelta(hours=6)
# A failure the system tables show for a workspace the Jobs API watches is "missed" only if
# the API path had this long to see it first (it polls every 30 s by default).
API_HEAD_START = timedelta(minutes=10)


class EndedRunsPort(Protocol):
    """The system tables' run ends (bot.warehouse.queries.runs_ended over the warehouse)."""

    def __call__(self, *, now: datetime, since: datetime, until: datetime) -> list[EndedRun]: ...


class HandlerPort(Protocol):
    """FailureAlerts.handle_ended by shape: 'alert', 'resolved' or None."""

    def __call__(self, run: ApiRun, *, late: bool, job: JobInfo) -> str | None: ...


class TablePath:
    """Reads the system tables' run ends and hands each one that speaks to `handle`."""

    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        ended_runs: EndedRunsPort | None,
        handle: HandlerPort,
    ) -> None:
        self.config = config
        self.clock = clock
        self._ended_runs = ended_runs
        self._handle = handle

    def poll(self) -> PollOutcome:
        """Run ends of the last TABLE_LOOKBACK; a job's latest end alone speaks."""
        out = PollOutcome("system tables")
        if self._ended_runs is None:
            return out
        now = self.clock.now()
        try:
            rows = self._ended_runs(now=now, since=now - TABLE_LOOKBACK, until=now)
        except UserError as e:
            out.errors.append(str(e))
            log.warning("system-table run ends: %s", e)
            return out
        out.calls = 1
        watched = {w.id for w in self.config.workspaces if w.jobs_api}
        known = {w.id for w in self.config.workspaces}
        # Only a job's latest end speaks: an older failure under a newer success is history.
        latest: dict[tuple[str, str], datetime] = {}
        for row in rows:
            key = (row.workspace_id, row.job_id)
            latest[key] = max(latest.get(key, row.end_time), row.end_time)
        for row in rows:
            if known and row.workspace_id not in known:
                continue  # a workspace this bot is not configured for
            late = row.workspace_id in watched
            if late and row.end_time > now - API_HEAD_START:
                continue  # the Jobs API path sees it first
            if row.end_time < latest[(row.workspace_id, row.job_id)]:
                continue
            out.ended += 1
            kind = self._handle(_run_of(row), late=late, job=_job_of(row))
            out.alerted += kind == "alert"
            out.resolved += kind == "resolved"
        return out


def _run_of(row: EndedRun) -> ApiRun:
    """A system-table run end in the shape of a Jobs API run (no tasks: the tables' task
    rows carry no error messages; the alert then shows the termination code)."""
    state = ApiRunState(
        state=row.result_state,
        ended=True,
        status_state="TERMINATED",
        life_cycle_state=None,
        result_state=row.result_state,
        termination_code=row.termination_code,
        termination_type=None,
        message=None,
    )
    duration = (row.end_time - row.start_time).total_seconds() if row.start_time else None
    return ApiRun(
        workspace_id=row.workspace_id,
        job_id=row.job_id,
        run_id=row.run_id,
        run_name=row.name,
        state=state,
        start_time=row.start_time,
        end_time=row.end_time,
        duration_seconds=duration,
        queue_seconds=None,
        run_page_url=None,
        run_type=None,
        trigger=row.trigger_type,
        creator_user_name=None,
        tasks_complete=True,
    )


def _job_of(row: EndedRun) -> JobInfo:
    tags = {k: v for k, v in (("team", row.team), ("owner", row.owner)) if v}
    return JobInfo(
        workspace_id=row.workspace_id,
        job_id=row.job_id,
        name=row.name,
        tags=tags,
        creator_user_name=None,
        run_as_user_name=None,
        quartz_cron=None,
        timezone=None,
        paused=False,
    )
