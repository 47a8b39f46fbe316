"""What a failure alert says about its run: the job's settings (jobs/get, cached for ten
minutes), each failed task's error and attempt, the owner and their Slack id, who asked for
the repair that ended — gathered into the incident's `detail`, which the alert renders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import Config
from bot.models import ApiRun, JobInfo, JobKey, JobsApiError, TaskError, TaskRun
from bot.service.alert_view import MAX_ERROR_CHARS
from bot.service.common import run_url

log = logging.getLogger(__name__)

# The trigger of a run whose latest end is a repair (not an API trigger value).
REPAIR_TRIGGER = "REPAIR"


class JobsApiPort(Protocol):
    """bot.jobs_api.JobsApi by shape: the job's settings and a task's error."""

    def get_task_error(self, workspace_id: str, task_run_id: str) -> TaskError: ...

    def get_job(self, workspace_id: str, job_id: str) -> JobInfo: ...


class DirectoryPort(Protocol):
    def user_id_for_email(self, email: str) -> str | None: ...


class RunFacts:
    """The facts of an ended run for its alert; `store` is read for its audit log, if any."""

    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        store: object,
        jobs_api: JobsApiPort | None,
        directory: DirectoryPort | None = None,
        p90_seconds: Callable[[JobKey], float | None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.jobs_api = jobs_api
        self.directory = directory
        self.p90_seconds = p90_seconds
        self._jobs: dict[tuple[str, str], tuple[datetime, JobInfo | None]] = {}

    def job(self, workspace_id: str, job_id: str) -> JobInfo | None:
        """jobs/get, cached for ten minutes (routing tags and owners rarely change)."""
        now = self.clock.now()
        hit = self._jobs.get((workspace_id, job_id))
        if hit is not None and now - hit[0] < timedelta(minutes=10):
            return hit[1]
        if self.jobs_api is None:
            return None
        try:
            job: JobInfo | None = self.jobs_api.get_job(workspace_id, job_id)
        except JobsApiError as e:
            log.info("jobs/get %s/%s: %s", workspace_id, job_id, e)
            job = None
        self._jobs[(workspace_id, job_id)] = (now, job)
        return job

    def detail(self, run: ApiRun, job: JobInfo | None, *, late: bool) -> dict[str, Any]:
        assert run.job_id is not None
        ws_cfg = self.config.workspace(run.workspace_id)
        host = ws_cfg.host.rstrip("/") if ws_cfg else None
        tasks: list[dict[str, Any]] = []
        # The tasks to show: the failed ones, or (a cancelled or skipped run, alerted by
        # monitoring.alert_on_states) the tasks that ended the way the run did.
        shown = run.failed_tasks or tuple(
            t for t in run.latest_attempts() if t.state.state == run.state.state
        )
        for task in shown:
            error: str | None = None
            if len(tasks) < 3 and self.jobs_api is not None:
                try:
                    found = self.jobs_api.get_task_error(run.workspace_id, task.run_id)
                    error = found.error or _tail(found.error_trace)
                except JobsApiError as e:
                    log.info("runs/get-output %s: %s", task.run_id, e)
            tasks.append(
                {
                    "key": task.task_key,
                    "attempts": _attempts(run, task),
                    # attempt x of (max_retries + 1): the run's own copy of the task's
                    # settings, else the job's (jobs/get, cached); None: not known.
                    "max_retries": task.max_retries
                    if task.max_retries is not None
                    else (job.max_retries(task.task_key) if job else None),
                    "error": error[:MAX_ERROR_CHARS] if error else None,
                    "url": task.run_page_url,
                }
            )
        owner = job.owner if job else run.creator_user_name
        p90 = self.p90_seconds(JobKey(run.workspace_id, run.job_id)) if self.p90_seconds else None
        name = (job.name if job else None) or run.run_name or f"job {run.job_id}"
        repaired = run.latest_repair_id is not None
        return {
            "job_name": name,
            "job_url": f"{host}/jobs/{run.job_id}" if host else None,
            "workspace": ws_cfg.name if ws_cfg else run.workspace_id,
            "run_id": run.run_id,
            "run_url": run.run_page_url or run_url(host, run.job_id, run.run_id),
            "state": run.state.state,
            "code": run.state.termination_code,
            "type": run.state.termination_type,
            "message": run.state.message,
            "ended_at": run.end_time.isoformat() if run.end_time else None,
            "duration_seconds": run.duration_seconds,
            "p90_seconds": p90,
            # The run that ended is a repair: say so, and who asked for it when the bot did.
            "trigger": REPAIR_TRIGGER if repaired else run.trigger,
            "trigger_by": self._repaired_by(run) if repaired else None,
            "owner": owner,
            "owner_id": self._owner_id(owner),
            "cost": None,
            "currency": self.config.cost.currency,
            "tasks": tasks,
            "late": late,
        }

    def _repaired_by(self, run: ApiRun) -> str | None:
        """Who started the repair that just ended, from the audit log of the Rerun button
        (None for a repair started in Databricks, or a store without an audit log)."""
        audit = getattr(self.store, "audit", None)
        if audit is None or run.job_id is None:
            return None
        # Newest first: the latest repair of this run is the one that just ended.
        for entry in audit.entries(
            job=JobKey(run.workspace_id, run.job_id), action="rerun", limit=50
        ):
            d = entry.detail or {}
            if (
                entry.result == "ok"
                and d.get("how") == "repair"
                and str(d.get("started_run") or entry.run_id) == run.run_id
            ):
                return str(entry.actor_id) if entry.actor_id else None
        return None

    def _owner_id(self, owner: str | None) -> str | None:
        if not owner:
            return None
        mapped = self.config.owner_slack_id(owner)
        if mapped:
            return mapped
        if self.directory is not None and "@" in owner:
            return self.directory.user_id_for_email(owner)
        return None


def _attempts(run: ApiRun, task: TaskRun) -> int:
    """Which attempt of the task the failed one was: counted from the start of the run, or
    of its latest repair when the run ended in a repair (a repair starts the retries anew)."""
    tries = run.attempts(task.task_key)
    total = max(len(tries), task.attempt_number + 1)
    repairs = [r for r in run.repair_history if r.kind == "REPAIR"]
    if repairs and repairs[-1].task_run_ids:
        ids = set(repairs[-1].task_run_ids)
        began = next((t for t in tries if t.run_id in ids), None)
        if began is not None:
            return max(1, task.attempt_number - began.attempt_number + 1)
    return total


def _tail(trace: str | None, lines: int = 8) -> str | None:
    if not trace:
        return None
    return "\n".join(trace.strip().splitlines()[-lines:])
