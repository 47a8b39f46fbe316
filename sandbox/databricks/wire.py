"""Wire shapes: jobs, runs, task runs and repair history as Jobs API 2.2 JSON.

Both spellings of a run's state are written: the 2.2 `status` (state + termination_details /
queue_details) and the deprecated `state` (life_cycle_state, result_state, state_message),
because clients still read either.
"""

from __future__ import annotations

from typing import Any

from sandbox.databricks.model import Job, Outcome, RepairEntry, Run, TaskAttempt
from sandbox.databricks.workspace import DatabricksWorkspace

PAGE = 100  # 2.2 pages every array of runs/get and jobs/get past 100 elements

_LEGACY = {"WAITING": "WAITING_FOR_RETRY"}


def _legacy_state(
    state: str, how: Outcome | None, queue_reason: str | None = None
) -> dict[str, Any]:
    life = _LEGACY.get(state, state)
    if state == "TERMINATED" and how is not None and how.type == "INTERNAL_ERROR":
        life = "INTERNAL_ERROR"  # platform failures keep their legacy life cycle state
    out: dict[str, Any] = {
        "life_cycle_state": life,
        "state_message": "",
        "user_cancelled_or_timedout": False,
    }
    if state == "TERMINATED" and how is not None:
        out["result_state"] = "FAILED" if how.result_state == "INTERNAL_ERROR" else how.result_state
        out["state_message"] = how.message
        out["user_cancelled_or_timedout"] = how.result_state in ("CANCELED", "TIMEDOUT")
    if queue_reason:
        out["queue_reason"] = "Queued due to reaching maximum concurrent runs."
        out["state_message"] = out["queue_reason"]
    return out


def _status(state: str, how: Outcome | None, queue_reason: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"state": state}
    if state == "TERMINATED" and how is not None:
        out["termination_details"] = {"code": how.code, "type": how.type, "message": how.message}
    if queue_reason:
        out["queue_details"] = {
            "code": queue_reason,
            "message": "Queued due to reaching maximum concurrent runs.",
        }
    return out


def _page_url(ws: DatabricksWorkspace, job_id: int, run_id: int) -> str:
    return f"{ws.host}/?o={ws.workspace_id}#job/{job_id}/run/{run_id}"


def task_json(ws: DatabricksWorkspace, run: Run, a: TaskAttempt, now: int) -> dict[str, Any]:
    end = a.end_time or (now if a.start_time else 0)
    execution = max(0, end - a.start_time - a.setup_duration) if a.start_time else 0
    out: dict[str, Any] = {
        "task_key": a.task_key,
        "run_id": a.run_id,
        "attempt_number": a.attempt_number,
        "original_attempt_run_id": a.original_attempt_run_id,
        "depends_on": [{"task_key": d} for d in a.depends_on],
        "run_if": "ALL_SUCCESS",
        "state": _legacy_state(a.state, a.outcome),
        "status": _status(a.state, a.outcome),
        "start_time": a.start_time,
        "end_time": a.end_time,
        "setup_duration": a.setup_duration if a.start_time else 0,
        "execution_duration": execution,
        "cleanup_duration": 0,
        "run_duration": (a.setup_duration + execution) if a.start_time else 0,
        "run_page_url": _page_url(ws, run.job_id, a.run_id),
    }
    job = ws.jobs.get(run.job_id)
    task = next((t for t in job.tasks if t.task_key == a.task_key), None) if job else None
    if task is not None:
        out.update(task.extra)
    return out


def history_json(entry: RepairEntry, now: int) -> dict[str, Any]:
    state = "TERMINATED" if entry.end_time else "RUNNING"
    return {
        "type": entry.type,
        "id": entry.id,
        "start_time": entry.start_time,
        "end_time": entry.end_time,
        "state": _legacy_state(state, entry.outcome),
        "status": _status(state, entry.outcome),
        "task_run_ids": list(entry.task_run_ids),
    }


def run_duration(run: Run, now: int) -> int:
    """A multitask run's duration covers the original run and all its repairs."""
    total = 0
    for i, entry in enumerate(run.history):
        start = entry.start_time + (run.queue_duration if i == 0 else 0)
        if run.state == "QUEUED" and i == 0:
            continue
        total += max(0, (entry.end_time or now) - start)
    return total


def run_json(
    ws: DatabricksWorkspace,
    run: Run,
    now: int,
    *,
    tasks: bool,
    history: bool = False,
    page: int = 0,
) -> dict[str, Any]:
    """A run (BaseRun for runs/list, Run for runs/get). `page` picks the 100-task slice."""
    out: dict[str, Any] = {
        "job_id": run.job_id,
        "run_id": run.run_id,
        "number_in_job": run.run_id,
        "original_attempt_run_id": run.run_id,
        "attempt_number": 0,
        "run_name": run.run_name,
        "run_type": run.run_type,
        "trigger": run.trigger,
        "creator_user_name": run.creator_user_name,
        "run_page_url": _page_url(ws, run.job_id, run.run_id),
        "start_time": run.start_time,
        "end_time": run.end_time,
        # multitask job runs report 0 for the phases and put the total in run_duration
        "setup_duration": 0,
        "execution_duration": 0,
        "cleanup_duration": 0,
        "run_duration": run_duration(run, now),
        "queue_duration": run.queue_duration,
        "format": "MULTI_TASK",
        "state": _legacy_state(run.state, run.outcome, run.queue_reason),
        "status": _status(run.state, run.outcome, run.queue_reason),
        "job_parameters": [{"name": k, "value": v} for k, v in run.job_parameters.items()],
        "job_clusters": [],
    }
    job = ws.jobs.get(run.job_id)
    if run.trigger == "PERIODIC" and job is not None and job.schedule:
        out["schedule"] = dict(job.schedule)
    more = False
    if tasks:
        latest = run.latest()
        out["tasks"] = [task_json(ws, run, a, now) for a in latest[page * PAGE : (page + 1) * PAGE]]
        more = len(latest) > (page + 1) * PAGE
    if history:
        entries = run.history[page * PAGE : (page + 1) * PAGE]
        out["repair_history"] = [history_json(e, now) for e in entries]
        more = more or len(run.history) > (page + 1) * PAGE
    if page > 0:  # later pages carry only the rest of the arrays
        out["job_parameters"] = []
    out["has_more"] = more
    return out


def attempt_as_run(ws: DatabricksWorkspace, run: Run, a: TaskAttempt, now: int) -> dict[str, Any]:
    """A task run seen as a run of its own (runs/get on a task run_id, get-output metadata)."""
    t = task_json(ws, run, a, now)
    t.update(
        {
            "job_id": run.job_id,
            "run_name": run.run_name,
            "run_type": run.run_type,
            "trigger": run.trigger,
            "creator_user_name": run.creator_user_name,
            "number_in_job": run.run_id,
            "job_run_id": run.run_id,
            "format": "SINGLE_TASK",
        }
    )
    return t


def job_json(ws: DatabricksWorkspace, job: Job, *, tasks: bool, page: int = 0) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "name": job.name,
        "format": "MULTI_TASK",
        "max_concurrent_runs": job.max_concurrent_runs,
        "timeout_seconds": 0,
        "email_notifications": {},
        "queue": {"enabled": True},
        "tags": dict(job.tags),
        "job_clusters": [],
        "parameters": [],
        "environments": [],
    }
    if job.schedule is not None:
        settings["schedule"] = dict(job.schedule)
    out: dict[str, Any] = {
        "job_id": job.job_id,
        "creator_user_name": job.creator_user_name,
        "run_as_user_name": job.run_as_user_name,
        "created_time": job.created_time,
        "settings": settings,
    }
    if tasks:
        chunk = job.tasks[page * PAGE : (page + 1) * PAGE]
        settings["tasks"] = [
            {
                "task_key": t.task_key,
                "depends_on": [{"task_key": d} for d in t.depends_on],
                "run_if": "ALL_SUCCESS",
                **t.extra,
            }
            for t in chunk
        ]
        out["has_more"] = len(job.tasks) > (page + 1) * PAGE
    return out
