"""`/jobs running` in real time: every active run from the Jobs API of each workspace (asked in
parallel, each within the interactive bound, so one stuck workspace is named and the others
still answer), compared with the job's usual p90 from the warehouse (one query for every job,
cached). Workspaces without Jobs API access are answered from the system tables, marked so;
when the warehouse fails, those workspaces are named as unreachable and the live answers still
shown."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Protocol

from bot.config import Config
from bot.errors import UserError
from bot.models import ApiRun, JobsApiError
from bot.service.answer import Reader
from bot.service.common import job_name, workspace_label
from bot.service.jobs import running_view
from bot.service.views import RunningRunView, RunningView
from bot.warehouse import queries

log = logging.getLogger(__name__)

# The usual durations (p90 over 30 days) move slowly; one warehouse query per half hour at most.
DURATIONS_TTL = timedelta(minutes=30)


class LiveRuns(Protocol):
    """What `/jobs running` needs from the Jobs API (bot.jobs_api.JobsApi has it)."""

    def list_active_runs(self, workspace_id: str, *, interactive: bool = False) -> list[ApiRun]: ...


class Durations:
    """p90 per job, from the warehouse, cached for DURATIONS_TTL by the injected clock."""

    def __init__(self, reader: Reader) -> None:
        self._reader = reader
        self._lock = threading.Lock()
        self._at: datetime | None = None
        self._p90: dict[tuple[str, str], float] = {}

    def p90(self, now: datetime) -> dict[tuple[str, str], float] | None:
        """None when the warehouse cannot say (the runs are still shown, without "usually")."""
        with self._lock:
            if self._at is not None and timedelta(0) <= now - self._at < DURATIONS_TTL:
                return self._p90
        try:
            rows = self._reader.read(queries.job_durations, now=now)
        except UserError as e:
            log.info("usual durations unavailable: %s", e)
            return None
        table = {(r.workspace_id, r.job_id): r.p90_seconds for r in rows}
        with self._lock:
            self._at, self._p90 = now, table
        return table


def live_running_view(
    reader: Reader, config: Config, live: LiveRuns, durations: Durations, now: datetime
) -> RunningView:
    api_ws = [w for w in config.workspaces if w.jobs_api]
    table_ws = [w for w in config.workspaces if not w.jobs_api]
    runs: list[RunningRunView] = []
    unreachable: list[str] = []

    def ask(workspace_id: str) -> list[ApiRun] | JobsApiError:
        try:
            return live.list_active_runs(workspace_id, interactive=True)
        except JobsApiError as e:
            return e

    with ThreadPoolExecutor(max_workers=max(1, len(api_ws))) as pool:
        answers = list(pool.map(ask, [w.id for w in api_ws]))
    p90 = durations.p90(now)
    for ws, answer in zip(api_ws, answers, strict=True):
        if isinstance(answer, JobsApiError):
            unreachable.append(f"{ws.name} ({_reason(answer)})")
            continue
        runs.extend(_live(config, run, (p90 or {}), now) for run in answer)
    tables_read: list[str] = []
    if table_ws:
        ids = {w.id for w in table_ws}
        try:
            from_tables = running_view(reader, config, now)
        except UserError as e:
            # The warehouse failed: those workspaces are named, the live answers still shown.
            log.info("running runs from the system tables unavailable: %s", e)
            unreachable.extend(f"{w.name} (system tables unreachable)" for w in table_ws)
        else:
            tables_read = [w.name for w in table_ws]
            names = set(tables_read)
            runs.extend(r for r in from_tables.runs if r.workspace in names or r.workspace in ids)
    runs.sort(key=lambda r: (r.queued, not r.long, -(r.ratio or 0), -(r.elapsed or 0)))
    return RunningView(
        runs=tuple(runs),
        count=len(runs),
        long_count=sum(1 for r in runs if r.long),
        live=True,
        from_tables=tuple(tables_read),
        unreachable=tuple(unreachable),
        no_history=p90 is None,
    )


def _live(
    config: Config, run: ApiRun, p90: dict[tuple[str, str], float], now: datetime
) -> RunningRunView:
    usual = p90.get((run.workspace_id, run.job_id or ""))
    queued = run.state.state == "QUEUED" or run.state.status_state == "QUEUED"
    start = run.start_time or now
    elapsed = max(0.0, (now - start).total_seconds())
    long = not queued and usual is not None and elapsed > usual
    owner = run.creator_user_name
    return RunningRunView(
        name=job_name(run.run_name, run.job_id or run.run_id),
        workspace=workspace_label(config, run.workspace_id),
        run_id=run.run_id,
        url=run.run_page_url,
        start=start,
        elapsed=elapsed,
        p90=usual,
        long=long,
        ratio=(elapsed / usual) if usual else None,
        owner=owner,
        owner_id=config.owner_slack_id(owner),
        queued=queued,
        queue_reason=_queue_reason(run.state.queue_reason),
    )


def _queue_reason(code: str | None) -> str | None:
    # status.queue_details.code of Jobs API 2.2.
    reasons = {
        "ACTIVE_RUNS_LIMIT_REACHED": "workspace active-runs limit reached",
        "MAX_CONCURRENT_RUNS_REACHED": "the job's max concurrent runs reached",
        "ACTIVE_RUN_JOB_TASKS_LIMIT_REACHED": "active run-job tasks limit reached",
    }
    if code is None:
        return None
    return reasons.get(code, code.replace("_", " ").lower())


def _reason(error: JobsApiError) -> str:
    reason = getattr(error, "reason", None)
    return str(reason) if reason else "not answering"
