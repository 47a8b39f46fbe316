"""World: the whole local Databricks account — its workspaces and everything in them — behind
one lock, with an injected clock.

The simulator and the tests change it only through these mutators; the HTTP server reads and
changes it through the same object, so a test sees exactly what the SDK would.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from bot.clock import Clock, SystemClock
from sandbox.databricks.model import (
    ADMINS,
    Group,
    Job,
    Outcome,
    Run,
    Task,
    TaskAttempt,
    User,
    outcome,
)
from sandbox.databricks.workspace import DatabricksWorkspace

TaskSpec = str | tuple[str, Iterable[str]] | Task | Mapping[str, Any]


def to_ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def _task(spec: TaskSpec) -> Task:
    """A task from "key", ("key", ["upstream", ...]), a Task, or a Jobs-API task dict."""
    if isinstance(spec, Task):
        return spec
    if isinstance(spec, str):
        return Task(spec)
    if isinstance(spec, tuple):
        return Task(spec[0], list(spec[1]))
    extra = {k: v for k, v in spec.items() if k not in ("task_key", "depends_on")}
    deps = [d["task_key"] if isinstance(d, Mapping) else d for d in spec.get("depends_on", [])]
    return Task(spec["task_key"], deps, extra)


class World:
    def __init__(self, clock: Clock | Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        source = clock or SystemClock()
        self._now: Callable[[], datetime] = source.now if hasattr(source, "now") else source
        self.workspaces: dict[int, DatabricksWorkspace] = {}
        self._ws_ids = itertools.count(1_000_000_000_000_001)
        # Task results longer than this are cut in runs/get-output, as Databricks cuts at 5 MB.
        self.output_limit = 5 * 1024 * 1024

    def now_ms(self) -> int:
        return to_ms(self._now())

    def _at(self, at: datetime | None) -> int:
        return self.now_ms() if at is None else to_ms(at)

    def workspace(self, workspace_id: int) -> DatabricksWorkspace:
        return self.workspaces[workspace_id]

    # -- identities ----------------------------------------------------------------------
    def add_workspace(self, name: str, workspace_id: int | None = None) -> DatabricksWorkspace:
        """A workspace with an admin service principal (OAuth M2M `sp.application_id` /
        `sp.client_secret`) and a PAT of that principal (`token`)."""
        with self.lock:
            ws_id = workspace_id if workspace_id is not None else next(self._ws_ids)
            if ws_id in self.workspaces:
                raise ValueError(f"workspace {ws_id} exists")
            ws = DatabricksWorkspace(ws_id, name)
            self.workspaces[ws_id] = ws
            return ws

    def add_user(
        self,
        workspace_id: int,
        user_name: str,
        display_name: str | None = None,
        groups: Iterable[str] = (),
        *,
        admin: bool = False,
    ) -> User:
        with self.lock:
            ws = self.workspace(workspace_id)
            user = User(str(ws.new_id()), user_name, display_name or user_name.split("@")[0])
            ws.users[user_name] = user
            for name in [*groups, *([ADMINS] if admin else [])]:
                self._group(ws, name).members.add(user_name)
            return user

    def add_group(
        self,
        workspace_id: int,
        name: str,
        members: Iterable[str] = (),
        subgroups: Iterable[str] = (),
    ) -> Group:
        """A group of users (by user_name) and nested groups (by name, created if missing)."""
        with self.lock:
            ws = self.workspace(workspace_id)
            group = self._group(ws, name)
            group.members.update(members)
            for inner in subgroups:
                self._group(ws, inner)
                group.subgroups.add(inner)
            return group

    @staticmethod
    def _group(ws: DatabricksWorkspace, name: str) -> Group:
        if name not in ws.groups:
            ws.groups[name] = Group(str(ws.new_id()), name)
        return ws.groups[name]

    def issue_token(self, workspace_id: int, user_name: str) -> str:
        """A personal access token of a user, to call the API as that user."""
        with self.lock:
            return self.workspace(workspace_id).issue_token(user_name)

    # -- jobs ----------------------------------------------------------------------------
    def add_job(
        self,
        workspace_id: int,
        name: str,
        tasks: Iterable[TaskSpec] = ("main",),
        *,
        schedule: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        creator_user_name: str | None = None,
        run_as_user_name: str | None = None,
        max_concurrent_runs: int = 1,
        job_id: int | None = None,
        created_at: datetime | None = None,
    ) -> Job:
        """A job; `schedule` is {quartz_cron_expression, timezone_id, pause_status}. The creator
        (default: the workspace's service principal) owns it (IS_OWNER)."""
        with self.lock:
            ws = self.workspace(workspace_id)
            creator = creator_user_name or ws.sp.application_id
            sched = None
            if schedule is not None:
                sched = {"timezone_id": "UTC", "pause_status": "UNPAUSED", **schedule}
            job = Job(
                job_id=job_id if job_id is not None else ws.new_id(),
                name=name,
                tasks=[_task(t) for t in tasks],
                creator_user_name=creator,
                run_as_user_name=run_as_user_name or creator,
                created_time=self._at(created_at),
                schedule=sched,
                tags=dict(tags or {}),
                max_concurrent_runs=max_concurrent_runs,
                acl_users={creator: "IS_OWNER"},
            )
            if job.job_id in ws.jobs:
                raise ValueError(f"job {job.job_id} exists in workspace {workspace_id}")
            return ws.add_job(job)

    def set_permissions(
        self,
        workspace_id: int,
        job_id: int,
        users: Mapping[str, str] | None = None,
        groups: Mapping[str, str] | None = None,
    ) -> None:
        """Replace the job's ACL: {user_name: level}, {group name: level}. The owner stays
        unless `users` names a new IS_OWNER."""
        with self.lock:
            ws = self.workspace(workspace_id)
            ws.set_acl(ws.job(job_id), dict(users or {}), dict(groups or {}))

    def delete_job(self, workspace_id: int, job_id: int) -> None:
        with self.lock:
            self.workspace(workspace_id).delete_job(job_id)

    def pause(self, workspace_id: int, job_id: int, paused: bool = True) -> None:
        with self.lock:
            job = self.workspace(workspace_id).job(job_id)
            if job.schedule is None:
                raise ValueError(f"job {job_id} has no schedule")
            job.schedule["pause_status"] = "PAUSED" if paused else "UNPAUSED"

    # -- runs ----------------------------------------------------------------------------
    def start_run(
        self,
        workspace_id: int,
        job_id: int,
        trigger: str = "PERIODIC",
        at: datetime | None = None,
        *,
        creator_user_name: str | None = None,
        job_parameters: Mapping[str, str] | None = None,
    ) -> Run:
        """Trigger a run (PERIODIC, ONE_TIME, RETRY, ...). It is QUEUED when the job already
        has `max_concurrent_runs` runs going, else RUNNING with its root tasks started."""
        with self.lock:
            ws = self.workspace(workspace_id)
            job = ws.job(job_id)
            creator = creator_user_name or job.creator_user_name
            return ws.runs.start(
                job,
                trigger=trigger,
                now=self._at(at),
                creator=creator,
                params=dict(job_parameters or {}),
            )

    def run(self, workspace_id: int, run_id: int) -> Run:
        with self.lock:
            return self.workspace(workspace_id).runs.get(run_id)

    def set_task_outcome(
        self,
        workspace_id: int,
        run_id: int,
        task_key: str,
        result: str = "SUCCESS",
        message: str = "",
        *,
        code: str | None = None,
        type: str | None = None,
        error: str | None = None,
        error_trace: str | None = None,
        notebook_result: str | None = None,
        logs: str | None = None,
        retry: bool = False,
        at: datetime | None = None,
    ) -> TaskAttempt:
        """End a task's latest attempt with a result (SUCCESS, FAILED, TIMEDOUT, ...). Tasks
        below a failure end UPSTREAM_FAILED; when every task has ended the run ends. With
        `retry`, the task's next attempt starts at once (its retry policy) and is returned."""
        with self.lock:
            runs = self.workspace(workspace_id).runs
            return runs.task_outcome(
                runs.get(run_id),
                task_key,
                outcome(result, message, code, type),
                self._at(at),
                retry=retry,
                error=error,
                error_trace=error_trace,
                notebook_result=notebook_result,
                logs=logs,
            )

    def retry_task(
        self, workspace_id: int, run_id: int, task_key: str, at: datetime | None = None
    ) -> TaskAttempt:
        """Start a new attempt of an ended task inside a still-active run."""
        with self.lock:
            runs = self.workspace(workspace_id).runs
            return runs.retry_task(runs.get(run_id), task_key, self._at(at))

    def finish_run(
        self,
        workspace_id: int,
        run_id: int,
        result: str | None = None,
        message: str = "",
        *,
        code: str | None = None,
        type: str | None = None,
        at: datetime | None = None,
    ) -> Run:
        """End the run. Running tasks take `result` (None: SUCCESS and the run's result is
        derived from its tasks); tasks below a failure end UPSTREAM_FAILED."""
        with self.lock:
            runs = self.workspace(workspace_id).runs
            how: Outcome | None = None if result is None else outcome(result, message, code, type)
            return runs.finish(runs.get(run_id), how, self._at(at))

    def cancel_run(self, workspace_id: int, run_id: int, at: datetime | None = None) -> None:
        with self.lock:
            runs = self.workspace(workspace_id).runs
            runs.cancel(runs.get(run_id), self._at(at))

    def delete_run(self, workspace_id: int, run_id: int) -> None:
        """Delete an ended run as runs/delete does: runs/get then says it does not exist."""
        with self.lock:
            runs = self.workspace(workspace_id).runs
            runs.delete(runs.get(run_id))

    def repair(
        self,
        workspace_id: int,
        run_id: int,
        rerun_tasks: Iterable[str] | None = None,
        *,
        rerun_all_failed_tasks: bool = False,
        rerun_dependent_tasks: bool = False,
        latest_repair_id: int | None = None,
        at: datetime | None = None,
    ) -> int:
        """Repair a terminated run exactly as runs/repair does (same validation); returns the
        repair_id. The rerun tasks get new attempts; the run is RUNNING again."""
        with self.lock:
            runs = self.workspace(workspace_id).runs
            return runs.repair(
                runs.get(run_id),
                rerun_tasks=list(rerun_tasks) if rerun_tasks else None,
                rerun_all_failed=rerun_all_failed_tasks,
                rerun_dependents=rerun_dependent_tasks,
                latest_repair_id=latest_repair_id,
                params=None,
                now=self._at(at),
            )
