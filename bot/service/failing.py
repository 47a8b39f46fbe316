"""`/jobs failing [window]`: jobs whose latest run in the window failed, worst first, as the
`FailingView` for `templates/failing.json.j2`."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import actions
from bot.config import Config
from bot.grammar import Window
from bot.models import FailingJob
from bot.service.answer import Reader
from bot.service.common import as_int, job_name, run_url, workspace_host, workspace_label
from bot.service.phrases import window_phrase, window_title
from bot.service.views import FailingJobView, FailingView
from bot.warehouse import queries

# An empty window shorter than this also looks this far back for what is failing now.
FAILING_NOW_LOOKBACK = timedelta(days=7)


def failing_view(reader: Reader, config: Config, window: Window, now: datetime) -> FailingView:
    # A window that ends in the past (yesterday) is answered as of its end, not as of now.
    until = min(now, window.until)
    rows = reader.read(queries.failing_jobs, now=until, since=window.since)
    jobs = [failing_job(config, row) for row in rows]
    # Worst first: the longest streak, then most failures in the window, then the most recent.
    jobs.sort(key=lambda j: (-j.streak, -j.failures, -j.when.timestamp()))
    failing_now: list[str] = []
    if not jobs and until == now and window.length < FAILING_NOW_LOOKBACK:
        earlier = reader.read(queries.failing_jobs, now=now, since=now - FAILING_NOW_LOOKBACK)
        earlier.sort(key=lambda r: (-r.streak, r.name or ""))
        failing_now = [job_name(r.name, r.job_id) for r in earlier]
    return FailingView(
        window=window.label,
        window_phrase=window_phrase(window),
        window_title=window_title(window),
        jobs=tuple(jobs),
        count=len(jobs),
        failing_now=tuple(failing_now[:5]),
        failing_now_count=len(failing_now),
    )


def failing_job(config: Config, row: FailingJob) -> FailingJobView:
    host = workspace_host(config, row.workspace_id, row.workspace_url)
    ws_id, job_id, run_id = (as_int(v) for v in (row.workspace_id, row.job_id, row.last_run_id))
    rerun_value = None
    if ws_id is not None and job_id is not None and run_id is not None:
        rerun_value = actions.encode(workspace_id=ws_id, job_id=job_id, run_id=run_id)
    return FailingJobView(
        name=job_name(row.name, row.job_id),
        job_id=row.job_id,
        run_id=row.last_run_id,
        workspace=workspace_label(config, row.workspace_id, row.workspace_name),
        streak=row.streak,
        failures=row.failures_in_window,
        runs=row.runs_in_window,
        state=row.result_state or "FAILED",
        code=row.termination_code,
        # System tables carry only the termination code; the message comes with the Jobs API.
        error=None,
        when=row.last_failure_time,
        url=run_url(host, row.job_id, row.last_run_id),
        rerun_value=rerun_value,
        owner=row.owner,
        owner_id=config.owner_slack_id(row.owner),
        failed_tasks=row.failed_tasks,
    )
