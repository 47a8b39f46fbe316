"""Raw Jobs API JSON → bot.models: run and task states in both spellings (the API's raw value
kept beside the normalised system-table spelling), durations, repair history. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.models import (
    ApiRun,
    ApiRunState,
    JobInfo,
    RepairEntry,
    TaskRun,
)

_RESULT = {
    "SUCCESS": "SUCCEEDED",
    "SUCCESS_WITH_FAILURES": "SUCCEEDED",  # allowed failures (run_if); raw value kept
    "FAILED": "FAILED",
    "TIMEDOUT": "TIMED_OUT",
    "CANCELED": "CANCELLED",
    "UPSTREAM_FAILED": "SKIPPED",  # the task never ran
    "UPSTREAM_CANCELED": "SKIPPED",
    "EXCLUDED": "SKIPPED",
    "DISABLED": "SKIPPED",
    "MAXIMUM_CONCURRENT_RUNS_REACHED": "SKIPPED",
}
_CODE = {
    "SUCCESS": "SUCCEEDED",
    "SUCCESS_WITH_FAILURES": "SUCCEEDED",
    "USER_CANCELED": "CANCELLED",
    "CANCELED": "CANCELLED",  # also a run over its timeout: only result_state says TIMEDOUT
    "SKIPPED": "SKIPPED",
    "DISABLED": "SKIPPED",
    "MAX_CONCURRENT_RUNS_EXCEEDED": "SKIPPED",
    "MAX_JOB_QUEUE_SIZE_EXCEEDED": "SKIPPED",
    "INTERNAL_ERROR": "ERROR",
}
_TYPE = {"SUCCESS": "SUCCEEDED", "INTERNAL_ERROR": "ERROR", "CLIENT_ERROR": "FAILED"}
_TYPE["CLOUD_FAILURE"] = "FAILED"
_ACTIVE = {"WAITING_FOR_RETRY": "WAITING"}
_TERMINAL_LIFE_CYCLE = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})


def text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _time(ms: object) -> datetime | None:
    # The API sends 0 for "not yet" (end_time of a running run).
    return datetime.fromtimestamp(ms / 1000, UTC) if isinstance(ms, int | float) and ms else None


def _seconds(ms: object) -> float | None:
    return ms / 1000 if isinstance(ms, int | float) else None


def parse_state(obj: Mapping[str, Any]) -> ApiRunState:
    """Normalise a run's or task's `status` (2.2) and deprecated `state` into one state.

    2.2 decides (status.state TERMINATED, termination_details.type INTERNAL_ERROR → ERROR);
    the deprecated result_state is still the only field that tells a timeout from a cancel."""
    legacy = obj.get("state") or {}
    status = obj.get("status") or {}
    details = status.get("termination_details") or {}
    queue = status.get("queue_details") or {}
    status_state, life = text(status.get("state")), text(legacy.get("life_cycle_state"))
    result, code, kind = (
        text(legacy.get("result_state")),
        text(details.get("code")),
        text(details.get("type")),
    )
    ended = status_state == "TERMINATED" or (status_state is None and life in _TERMINAL_LIFE_CYCLE)
    if not ended:
        raw = status_state or life or "PENDING"
        state = _ACTIVE.get(raw, raw)
    elif kind == "INTERNAL_ERROR" or life == "INTERNAL_ERROR":
        state = "ERROR"
    else:
        state = (
            _RESULT.get(result or "")
            or _CODE.get(code or "")
            or ("FAILED" if code else None)  # every other known code is a failure
            or _TYPE.get(kind or "")
            or ("SKIPPED" if life == "SKIPPED" else "UNKNOWN")
        )
    return ApiRunState(
        state=state,
        ended=ended,
        status_state=status_state,
        life_cycle_state=life,
        result_state=result,
        termination_code=code,
        termination_type=kind,
        message=text(details.get("message")) or text(legacy.get("state_message")),
        queue_reason=text(queue.get("code")) or text(legacy.get("queue_reason")),
    )


def _duration(obj: Mapping[str, Any]) -> float | None:
    if obj.get("run_duration"):
        return _seconds(obj["run_duration"])
    parts = [obj.get(k) for k in ("setup_duration", "execution_duration", "cleanup_duration")]
    if any(parts):
        return sum(p for p in parts if isinstance(p, int | float)) / 1000
    start, end = obj.get("start_time"), obj.get("end_time")
    return (end - start) / 1000 if start and end else None


def parse_task(obj: Mapping[str, Any]) -> TaskRun:
    return TaskRun(
        task_key=str(obj.get("task_key", "")),
        run_id=str(obj.get("run_id", "")),
        attempt_number=int(obj.get("attempt_number") or 0),
        state=parse_state(obj),
        start_time=_time(obj.get("start_time")),
        end_time=_time(obj.get("end_time")),
        duration_seconds=_duration(obj),
        run_page_url=text(obj.get("run_page_url")),
        depends_on=tuple(str(d.get("task_key")) for d in obj.get("depends_on") or ()),
        # RunTask carries the task's settings as run, max_retries among them (-1: no limit).
        max_retries=_retries(obj.get("max_retries")),
    )


def _retries(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def parse_run(workspace_id: str, obj: Mapping[str, Any], *, tasks_complete: bool) -> ApiRun:
    history = tuple(
        RepairEntry(
            kind=str(h.get("type", "")),
            repair_id=text(h.get("id")) if h.get("type") == "REPAIR" else None,
            start_time=_time(h.get("start_time")),
            end_time=_time(h.get("end_time")),
            state=parse_state(h),
            task_run_ids=tuple(str(i) for i in h.get("task_run_ids") or ()),
        )
        for h in obj.get("repair_history") or ()
    )
    return ApiRun(
        workspace_id=workspace_id,
        job_id=text(obj.get("job_id")),
        run_id=str(obj["run_id"]),
        run_name=text(obj.get("run_name")),
        state=parse_state(obj),
        start_time=_time(obj.get("start_time")),
        end_time=_time(obj.get("end_time")),
        duration_seconds=_duration(obj),
        queue_seconds=_seconds(obj.get("queue_duration")),
        run_page_url=text(obj.get("run_page_url")),
        run_type=text(obj.get("run_type")),
        trigger=text(obj.get("trigger")),
        creator_user_name=text(obj.get("creator_user_name")),
        attempt_number=int(obj.get("attempt_number") or 0),
        original_attempt_run_id=text(obj.get("original_attempt_run_id")),
        tasks=tuple(parse_task(t) for t in obj.get("tasks") or ()),
        tasks_complete=tasks_complete and not obj.get("has_more"),
        repair_history=history,
    )


def ms(ts: datetime) -> int:
    return round(ts.timestamp() * 1000)


# --- the client ------------------------------------------------------------------------------


def parse_job(workspace_id: str, obj: Mapping[str, Any]) -> JobInfo:
    """jobs/get → JobInfo. `run_as_user_name` is the job's identity; the owner is who it runs as
    (or, failing that, who created it)."""
    settings = obj.get("settings") or {}
    schedule = settings.get("schedule") or {}
    tags = settings.get("tags") or {}
    return JobInfo(
        workspace_id=workspace_id,
        job_id=str(obj.get("job_id")),
        name=text(settings.get("name")),
        tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {},
        creator_user_name=text(obj.get("creator_user_name")),
        run_as_user_name=text(obj.get("run_as_user_name")),
        quartz_cron=text(schedule.get("quartz_cron_expression")),
        timezone=text(schedule.get("timezone_id")),
        paused=str(schedule.get("pause_status") or "") == "PAUSED",
        task_max_retries=tuple(
            (str(t.get("task_key", "")), n)
            for t in settings.get("tasks") or ()
            if isinstance(t, Mapping) and (n := _retries(t.get("max_retries"))) is not None
        ),
    )
