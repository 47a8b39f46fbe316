"""The Jobs API 2.2 handlers: jobs/list, jobs/get, runs/list, runs/get, runs/get-output,
run-now, runs/cancel, runs/cancel-all, runs/delete and runs/repair, with Databricks'
validation.

Each handler takes a `Call` (under the world's lock) and returns the JSON body, or raises
`ApiError`. Callers who are not workspace admins see and act only on the jobs their ACL allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.databricks.call import Call, decode_token, encode_token
from sandbox.databricks.errors import ApiError, invalid, no_run
from sandbox.databricks.model import Job, Run
from sandbox.databricks.runs import Key
from sandbox.databricks.wire import attempt_as_run, job_json, run_json

Handler = Callable[[Call], dict[str, Any]]

# runs/list: "0 means the maximum"; 25 per the 2.1 docs (the SDK docstring says "less than 25",
# a 2022 server "no more than 26"). jobs/list: "greater than 0 and less or equal to 100".
RUNS_MAX_LIMIT = 25
JOBS_MAX_LIMIT = 100
RUN_TYPES = ("JOB_RUN", "WORKFLOW_RUN", "SUBMIT_RUN")


def _too_many(limit: int, most: int) -> ApiError:
    # The wording of a real answer (databricks-cli issue #464): "Invalid limit 27 - it has to
    # be no more than 26."
    return invalid(f"Invalid limit {limit} - it has to be no more than {most}.")


def _can_view(call: Call) -> Callable[[Job], bool] | None:
    if call.ws.is_admin(call.principal):
        return None  # no filtering at all for admins: keeps list pages O(page)
    return lambda job: call.ws.level(call.principal, job) >= 1


def jobs_list(call: Call) -> dict[str, Any]:
    limit = call.get_int("limit", 20)
    assert limit is not None
    # Documented "greater than 0": unlike runs/list, 0 is no shorthand for the maximum.
    if limit < 1:
        raise invalid(f"Invalid limit {limit} - it has to be at least 1.")
    if limit > JOBS_MAX_LIMIT:
        raise _too_many(limit, JOBS_MAX_LIMIT)
    token = decode_token(call.get_str("page_token"))
    after = token.get("after") if token else None
    visible = _can_view(call)
    offset = call.get_int("offset", 0) or 0  # deprecated since June 2023, still honoured
    jobs: list[Job] = []
    more = True
    cursor = after
    while more and len(jobs) < limit + offset:
        page, more = call.ws.job_page(cursor, limit + offset - len(jobs), call.get_str("name"))
        if not page:
            break
        cursor = page[-1].job_id
        jobs += [j for j in page if visible is None or visible(j)]
    jobs = jobs[offset:]
    expand = call.get_bool("expand_tasks")
    out: dict[str, Any] = {"has_more": more}
    if jobs:
        out["jobs"] = [job_json(call.ws, j, tasks=expand) for j in jobs]
    if more and jobs:
        out["next_page_token"] = encode_token({"after": jobs[-1].job_id})
    if after is not None and jobs:
        out["prev_page_token"] = encode_token({"before": jobs[0].job_id})
    return out


def jobs_get(call: Call) -> dict[str, Any]:
    job = call.ws.job(call.need_int("job_id"))
    call.ws.require(call.principal, job, "CAN_VIEW")
    token = decode_token(call.get_str("page_token"))
    page = int(token.get("page", 0)) if token else 0
    out = job_json(call.ws, job, tasks=True, page=page)
    if out["has_more"]:
        out["next_page_token"] = encode_token({"page": page + 1})
    return out


def runs_list(call: Call) -> dict[str, Any]:
    limit = call.get_int("limit", 20)
    assert limit is not None
    if limit < 0:
        raise invalid(f"Invalid limit {limit} - it has to be at least 0.")
    if limit > RUNS_MAX_LIMIT:
        raise _too_many(limit, RUNS_MAX_LIMIT)
    limit = limit or RUNS_MAX_LIMIT
    active_only, completed_only = call.get_bool("active_only"), call.get_bool("completed_only")
    if active_only and completed_only:
        raise invalid("active_only and completed_only cannot both be true.")
    job_id = call.get_int("job_id")
    if job_id is not None:
        call.ws.require(call.principal, call.ws.job(job_id), "CAN_VIEW")
    run_type = call.get_str("run_type")
    if run_type is not None and run_type not in RUN_TYPES:
        raise invalid(f"Invalid run_type {run_type!r}.")
    token = decode_token(call.get_str("page_token"))
    after, before = _key(token, "after"), _key(token, "before")
    can_view = _can_view(call)
    visible = None
    if can_view is not None:

        def visible(run: Run) -> bool:
            job = call.ws.jobs.get(run.job_id)
            return job is not None and can_view(job)

    runs, older, newer = call.ws.runs.page(
        job_id=job_id,
        active_only=active_only,
        completed_only=completed_only,
        start_from=call.get_int("start_time_from"),
        start_to=call.get_int("start_time_to"),
        run_type=run_type,
        after=after,
        before=before,
        limit=limit,
        visible=visible,
    )
    expand = call.get_bool("expand_tasks")
    out: dict[str, Any] = {"has_more": older}
    if runs:
        items = []
        for run in runs:
            item = run_json(call.ws, run, call.now, tasks=expand)
            if not expand:
                item.pop("has_more")  # only meaningful with expand_tasks
            items.append(item)
        out["runs"] = items
        if older:
            out["next_page_token"] = encode_token({"after": [runs[-1].start_time, runs[-1].run_id]})
        if newer:
            out["prev_page_token"] = encode_token({"before": [runs[0].start_time, runs[0].run_id]})
    return out


def _key(token: dict[str, Any] | None, name: str) -> Key | None:
    if not token or name not in token:
        return None
    value = token[name]
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise invalid("Invalid page_token.")
    return (value[0], value[1])


def _run_or_attempt(call: Call, run_id: int) -> tuple[Run, Any]:
    """A job run, or a task run (Run, TaskAttempt): both are runs to the API."""
    if run_id in call.ws.runs.runs:
        return call.ws.runs.runs[run_id], None
    if run_id in call.ws.runs.attempts:
        return call.ws.runs.attempts[run_id]
    raise no_run(run_id)


def _require_on_run(call: Call, run: Run, level: str) -> None:
    job = call.ws.jobs.get(run.job_id)
    if job is None:
        if not call.ws.is_admin(call.principal):
            raise no_run(run.run_id)
        return
    call.ws.require(call.principal, job, level)


def runs_get(call: Call) -> dict[str, Any]:
    run_id = call.need_int("run_id")
    run, attempt = _run_or_attempt(call, run_id)
    _require_on_run(call, run, "CAN_VIEW")
    if attempt is not None:
        return attempt_as_run(call.ws, run, attempt, call.now)
    token = decode_token(call.get_str("page_token"))
    page = int(token.get("page", 0)) if token else 0
    out = run_json(
        call.ws, run, call.now, tasks=True, history=call.get_bool("include_history"), page=page
    )
    # The SDK loops while next_page_token is present (even if empty), so omit it at the end.
    if out["has_more"]:
        out["next_page_token"] = encode_token({"page": page + 1})
    if page > 0:
        out["prev_page_token"] = encode_token({"page": page - 1})
    return out


def _cut(text: str | None, limit: int) -> tuple[str | None, bool]:
    if text is None or len(text.encode()) <= limit:
        return text, False
    return text.encode()[:limit].decode(errors="ignore"), True


def runs_get_output(call: Call) -> dict[str, Any]:
    run_id = call.need_int("run_id")
    run, attempt = _run_or_attempt(call, run_id)
    _require_on_run(call, run, "CAN_VIEW")
    if attempt is None:
        raise invalid(
            "Retrieving the output of runs with multiple tasks is not supported. "
            "Please retrieve the output of each individual task run instead."
        )
    out: dict[str, Any] = {"metadata": attempt_as_run(call.ws, run, attempt, call.now)}
    if attempt.error is not None:
        out["error"] = attempt.error
    if attempt.error_trace is not None:
        out["error_trace"] = _cut(attempt.error_trace, call.output_limit)[0]
    if attempt.notebook_result is not None:
        result, truncated = _cut(attempt.notebook_result, call.output_limit)
        out["notebook_output"] = {"result": result, "truncated": truncated}
    if attempt.logs is not None:
        out["logs"], out["logs_truncated"] = _cut(attempt.logs, call.output_limit)
    return out


def run_now(call: Call) -> dict[str, Any]:
    job = call.ws.job(call.need_int("job_id"))
    call.ws.require(call.principal, job, "CAN_MANAGE_RUN")
    token = call.get_str("idempotency_token")
    if token is not None:
        if len(token) > 64:
            raise invalid("idempotency_token must be at most 64 characters.")
        existing = call.ws.runs.by_token(token)
        if existing is not None:  # the same token returns the run it started, never a second
            return {"run_id": existing.run_id, "number_in_job": existing.run_id}
    only = call.body.get("only")
    if only is not None:
        unknown = [k for k in only if k not in {t.task_key for t in job.tasks}]
        if unknown:
            raise invalid(f"Task keys {unknown} do not exist in job {job.job_id}.")
    run = call.ws.runs.start(
        job,
        trigger="ONE_TIME",
        now=call.now,
        creator=call.principal,
        params=call.body.get("job_parameters") or {},
        token=token,
        only=only,
    )
    return {"run_id": run.run_id, "number_in_job": run.run_id}


def runs_cancel(call: Call) -> dict[str, Any]:
    run = call.ws.runs.get(call.need_int("run_id"))
    _require_on_run(call, run, "CAN_MANAGE_RUN")
    call.ws.runs.cancel(run, call.now)
    return {}


def runs_cancel_all(call: Call) -> dict[str, Any]:
    job_id = call.get_int("job_id")
    queued_only = call.get_bool("all_queued_runs")
    if job_id is None and not queued_only:
        raise invalid("Either job_id or all_queued_runs must be set.")
    if job_id is not None:
        call.ws.require(call.principal, call.ws.job(job_id), "CAN_MANAGE_RUN")
    targets = [
        r
        for r in list(call.ws.runs.runs.values())
        if r.active
        and (job_id is None or r.job_id == job_id)
        and (not queued_only or r.state == "QUEUED")
    ]
    for run in targets:
        call.ws.runs.cancel(run, call.now)
    return {}


def runs_delete(call: Call) -> dict[str, Any]:
    """Delete a non-active run (an active one is refused): runs/get then says it does not
    exist."""
    run = call.ws.runs.get(call.need_int("run_id"))
    _require_on_run(call, run, "CAN_MANAGE")
    call.ws.runs.delete(run)
    return {}


def runs_repair(call: Call) -> dict[str, Any]:
    run = call.ws.runs.get(call.need_int("run_id"))
    _require_on_run(call, run, "CAN_MANAGE_RUN")
    rerun_tasks = call.body.get("rerun_tasks")
    if rerun_tasks is not None and not isinstance(rerun_tasks, list):
        raise invalid("rerun_tasks must be a list of task keys.")
    repair_id = call.ws.runs.repair(
        run,
        rerun_tasks=rerun_tasks or None,
        rerun_all_failed=call.get_bool("rerun_all_failed_tasks"),
        rerun_dependents=call.get_bool("rerun_dependent_tasks"),
        latest_repair_id=call.get_int("latest_repair_id"),
        params=call.body.get("job_parameters"),
        now=call.now,
    )
    return {"repair_id": repair_id}


# (method, path after /api/2.x/ = the counter name, handler); served under 2.2 and its 2.1 alias
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "jobs/list", jobs_list),
    ("GET", "jobs/get", jobs_get),
    ("GET", "jobs/runs/list", runs_list),
    ("GET", "jobs/runs/get", runs_get),
    ("GET", "jobs/runs/get-output", runs_get_output),
    ("POST", "jobs/run-now", run_now),
    ("POST", "jobs/runs/cancel", runs_cancel),
    ("POST", "jobs/runs/cancel-all", runs_cancel_all),
    ("POST", "jobs/runs/delete", runs_delete),
    ("POST", "jobs/runs/repair", runs_repair),
]
