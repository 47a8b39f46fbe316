"""The Jobs REST API of each configured workspace, through databricks-sdk (the only module in
bot/ that imports it): runs, task errors, repair, run-now and job permissions, as the typed
results of bot.models; SDK errors become JobsApiUnavailable / JobsApiRefused / RunNotFound /
JobNotFound, so callers never see the SDK.

Every call is bounded in wall-clock time and runs on its own thread, so a stuck workspace
costs its caller the bound and never blocks a call to another workspace. Run payloads are read
as raw JSON through the SDK's ApiClient (same auth, retries and error mapping as the typed
API) because the SDK's typed objects turn enum values they do not know into None
(`service/_internal._enum`), and a new termination code must still reach the alert.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk import errors as sdk_errors
from databricks.sdk.clock import Clock as SdkClock
from databricks.sdk.core import ApiClient, Config, DatabricksError

from bot.config.secrets import Secrets
from bot.config.sections import WorkspaceConfig
from bot.jobs_api import access, wire
from bot.jobs_api.oauth import m2m_settings
from bot.jobs_api.parse import ms, parse_job, parse_run, text
from bot.models import (
    ApiRun,
    JobAccess,
    JobInfo,
    JobNotFound,
    JobsApiError,
    JobsApiRefused,
    JobsApiUnavailable,
    RepairStarted,
    RunNotFound,
    RunStarted,
    TaskError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# SDK v0.162 paths (service/jobs.py); 2.2 pages the arrays of a run past 100 elements.
_RUNS_LIST = "/api/2.2/jobs/runs/list"
_RUNS_GET = "/api/2.2/jobs/runs/get"
_JOBS_GET = "/api/2.2/jobs/get"
_RUNS_OUTPUT = "/api/2.2/jobs/runs/get-output"
_RUNS_REPAIR = "/api/2.2/jobs/runs/repair"
_RUN_NOW = "/api/2.2/jobs/run-now"

# runs/list page size: the sources disagree on the maximum (the SDK 0.162 docstring and the
# API docs: "greater than 0 and less than 25"; the 2.1 docs: 25; a 2022 server error: "no more
# than 26"), so the largest value all of them allow.
PAGE_SIZE = 24
_DOES_NOT_EXIST = re.compile(r"\b(Run|Job) .* does not exist")


@dataclass(frozen=True)
class JobsApiSettings:
    """Time bounds. `background_seconds` is also the SDK's `retry_timeout_seconds` (its own
    default, 300 s, would hang a Slack click for five minutes); `interactive_seconds` bounds a
    call made for a person waiting in Slack; `http_timeout_seconds` bounds one HTTP request."""

    background_seconds: float = 20.0
    interactive_seconds: float = 6.0
    http_timeout_seconds: float = 10.0
    # Config() probes {host}/.well-known/databricks-config once; it is best effort.
    probe_seconds: float = 2.0
    max_in_flight: int = 8  # per workspace; more waiting calls mean the workspace is stuck
    max_trace_chars: int = 4000


class Timer(Protocol):
    """time() and sleep() of the SDK's retry loop; tests pass a fake one."""

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class _RealTimer:
    def time(self) -> float:
        import time

        return time.time()

    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(seconds)


class _OutOfTime(Exception):
    """Raised from the SDK's retry sleep when the call's own bound would pass."""


_call_deadline = threading.local()
_caller = threading.local()  # the request tallies counting on the calling thread


class _BoundedClock(SdkClock):
    # The SDK sleeps a full Retry-After (plus up to 1 s jitter) even past its own
    # retry_timeout_seconds (retries.retried checks the deadline only before an attempt), so
    # the sleep itself refuses to cross the bound of the call on this thread.
    def __init__(self, timer: Timer) -> None:
        self._timer = timer

    def time(self) -> float:
        return self._timer.time()

    def sleep(self, seconds: float) -> None:
        deadline: float | None = getattr(_call_deadline, "at", None)
        if deadline is not None and self._timer.time() + seconds > deadline:
            raise _OutOfTime(f"next retry in {seconds:.1f} s would pass the bound")
        self._timer.sleep(seconds)


class _Slot:
    """One workspace: its config, its lazily built client, and its in-flight limit."""

    def __init__(self, ws: WorkspaceConfig, max_in_flight: int) -> None:
        self.ws = ws
        self.in_flight = threading.BoundedSemaphore(max_in_flight)
        self.lock = threading.Lock()
        self.client: ApiClient | None = None


class JobsApi:
    """The Jobs API of every configured workspace with `jobs_api: true`, keyed by workspace id.

    Auth per workspace (unified auth, host from the config, secrets only from the
    environment): the workspace's own PAT (`pat_env`), else the OAuth M2M service principal
    (DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET; one principal can serve every
    workspace), else DATABRICKS_TOKEN, else the DATABRICKS_CONFIG_PROFILE profile."""

    def __init__(
        self,
        workspaces: Sequence[WorkspaceConfig],
        secrets: Secrets,
        *,
        env: Mapping[str, str] | None = None,
        settings: JobsApiSettings | None = None,
        timer: Timer | None = None,
    ) -> None:
        self.settings = settings or JobsApiSettings()
        # Told each call's outcome per workspace ("ok", "unavailable", "refused",
        # "not_found"): the bot's /metrics.
        self.on_call: Callable[[str, str], None] | None = None
        self._secrets = secrets
        self._env = dict(env or {})  # only read for the `pat_env` names
        self._timer: Timer = timer or _RealTimer()
        self._clock = _BoundedClock(self._timer)
        self._slots = {
            w.id: _Slot(w, self.settings.max_in_flight) for w in workspaces if w.jobs_api
        }

    @property
    def workspace_ids(self) -> tuple[str, ...]:
        return tuple(self._slots)

    # -- runs ----------------------------------------------------------------------------

    def list_runs(
        self,
        workspace_id: str,
        *,
        started_from: datetime | None = None,
        active_only: bool = False,
        completed_only: bool = False,
        job_id: str | None = None,
        max_runs: int | None = None,
        interactive: bool = False,
    ) -> list[ApiRun]:
        """runs/list, every page (one bounded call per page), newest start first.

        With `started_from` the server filters on start_time (epoch ms, inclusive), so the
        pages hold exactly the runs needed and paging ends with them."""
        query: dict[str, Any] = {"limit": PAGE_SIZE}
        if started_from is not None:
            query["start_time_from"] = ms(started_from)
        if active_only:
            query["active_only"] = True
        if completed_only:
            query["completed_only"] = True
        if job_id is not None:
            query["job_id"] = int(job_id)
        runs: list[ApiRun] = []
        while True:
            page = self._call(
                workspace_id, wire.getter(_RUNS_LIST, dict(query)), interactive=interactive
            )
            runs.extend(
                parse_run(workspace_id, r, tasks_complete=False) for r in page.get("runs") or ()
            )
            token = page.get("next_page_token")
            if not token or (max_runs is not None and len(runs) >= max_runs):
                break
            query["page_token"] = token
        if started_from is not None:  # a guard, should a server ignore the filter
            runs = [r for r in runs if r.start_time is None or r.start_time >= started_from]
        runs.sort(key=lambda r: r.start_time or datetime.max.replace(tzinfo=UTC), reverse=True)
        return runs if max_runs is None else runs[:max_runs]

    def list_active_runs(self, workspace_id: str, *, interactive: bool = False) -> list[ApiRun]:
        """QUEUED/PENDING/RUNNING/TERMINATING runs (runs/list active_only leaves out BLOCKED
        and WAITING_FOR_RETRY)."""
        return self.list_runs(workspace_id, active_only=True, interactive=interactive)

    def get_run(
        self,
        workspace_id: str,
        run_id: str,
        *,
        include_history: bool = True,
        interactive: bool = False,
    ) -> ApiRun:
        """runs/get with every page of tasks and repair history (2.2 pages them past 100)."""
        raw = self._call(
            workspace_id,
            lambda api: _fetch_run(api, run_id, include_history=include_history),
            interactive=interactive,
            not_found=lambda w: RunNotFound(w, run_id),
        )
        return parse_run(workspace_id, raw, tasks_complete=True)

    def get_job(self, workspace_id: str, job_id: str, *, interactive: bool = False) -> JobInfo:
        """jobs/get: the job's name, tags, owners and schedule (for routing and mentions)."""
        raw = self._call(
            workspace_id,
            wire.getter(_JOBS_GET, {"job_id": int(job_id)}),
            interactive=interactive,
            not_found=lambda w: JobNotFound(w, job_id),
        )
        return parse_job(workspace_id, raw)

    def get_task_error(
        self, workspace_id: str, task_run_id: str, *, interactive: bool = False
    ) -> TaskError:
        """runs/get-output of one task run: its error and trace (cut to a Slack-friendly
        size). A job run with several tasks has no output of its own: pass a task's run id."""
        raw = self._call(
            workspace_id,
            lambda api: wire.get(api, _RUNS_OUTPUT, query={"run_id": int(task_run_id)}),
            interactive=interactive,
            not_found=lambda w: RunNotFound(w, task_run_id),
        )
        trace = text(raw.get("error_trace"))
        cut = trace is not None and len(trace) > self.settings.max_trace_chars
        if trace is not None and cut:
            # Keep the end: the exception is at the bottom of a Python or JVM trace.
            trace = "…" + trace[-self.settings.max_trace_chars :]
        notebook = raw.get("notebook_output") or {}
        return TaskError(
            run_id=task_run_id,
            error=text(raw.get("error")),
            error_trace=trace,
            truncated=cut or bool(raw.get("logs_truncated")) or bool(notebook.get("truncated")),
        )

    # -- actions -------------------------------------------------------------------------

    def repair_failed_tasks(self, workspace_id: str, run_id: str) -> RepairStarted:
        """Rerun every failed task of an ended run. Every repair after the first must name
        the latest repair id (the API keeps repairs sequential), so the run's repair history
        is read first; both requests share one interactive bound."""

        def repair(api: ApiClient) -> dict[str, Any]:
            # Every page: past 100 entries the latest repair is not on the first one.
            raw = _fetch_run(api, run_id, include_history=True)
            run = parse_run(workspace_id, raw, tasks_complete=True)
            if run.in_progress:
                raise JobsApiRefused(self._name(workspace_id), "the run is still in progress")
            body: dict[str, Any] = {"run_id": int(run_id), "rerun_all_failed_tasks": True}
            if run.latest_repair_id is not None:
                body["latest_repair_id"] = int(run.latest_repair_id)
            return dict(wire.post(api, _RUNS_REPAIR, body))

        raw = self._call(
            workspace_id, repair, interactive=True, not_found=lambda w: RunNotFound(w, run_id)
        )
        return RepairStarted(workspace_id, run_id, str(raw["repair_id"]))

    def run_now(
        self,
        workspace_id: str,
        job_id: str,
        *,
        idempotency_token: str,
        job_parameters: Mapping[str, str] | None = None,
    ) -> RunStarted:
        """Start a new run. The SDK retries a POST that timed out, and the bot may retry a
        click: the same `idempotency_token` makes the API return the first run, not a second."""
        body: dict[str, Any] = {"job_id": int(job_id), "idempotency_token": idempotency_token}
        if job_parameters:
            body["job_parameters"] = dict(job_parameters)
        raw = self._call(
            workspace_id,
            lambda api: wire.post(api, _RUN_NOW, body),
            interactive=True,
            not_found=lambda w: JobNotFound(w, job_id),
        )
        number = raw.get("number_in_job")
        return RunStarted(workspace_id, job_id, str(raw["run_id"]), text(number))

    # -- permissions ---------------------------------------------------------------------

    def job_access(self, workspace_id: str, job_id: str, email: str) -> JobAccess:
        """Whether the Databricks user with this email has CAN_MANAGE_RUN or higher on the
        job, directly or through a group (nested groups included). Usually two requests:
        the SCIM user (with its direct groups) and the job's ACL; groups in the ACL that the
        user is not directly in are then walked downwards through their members."""

        return self._call(
            workspace_id,
            lambda api: access.check(api, workspace_id, job_id, email),
            interactive=True,
            not_found=lambda w: JobNotFound(w, job_id),
        )

    # -- counting ------------------------------------------------------------------------

    @contextmanager
    def count_requests(self) -> Iterator[wire.Tally]:
        """Count the HTTP requests (each page one) of the calls this thread makes meanwhile;
        calls from other threads (another workspace's poll, a click) are not counted."""
        tally = wire.Tally()
        before: tuple[wire.Tally, ...] = getattr(_caller, "tallies", ())
        _caller.tallies = (*before, tally)
        try:
            yield tally
        finally:
            _caller.tallies = before

    # -- plumbing ------------------------------------------------------------------------

    def _name(self, workspace_id: str) -> str:
        slot = self._slots.get(workspace_id)
        return slot.ws.name if slot else workspace_id

    def _call(
        self,
        workspace_id: str,
        fn: Callable[[ApiClient], T],
        *,
        interactive: bool,
        not_found: Callable[[str], JobsApiError] | None = None,
    ) -> T:
        slot = self._slots.get(workspace_id)
        if slot is None:
            raise JobsApiRefused(workspace_id, "no such workspace with jobs_api in the config")
        name = slot.ws.name
        bound = (
            self.settings.interactive_seconds if interactive else self.settings.background_seconds
        )
        if not slot.in_flight.acquire(blocking=False):
            raise JobsApiUnavailable(name, "too many earlier calls still waiting for it")
        box: dict[str, Any] = {}
        done = threading.Event()
        tallies: tuple[wire.Tally, ...] = getattr(_caller, "tallies", ())

        def work() -> None:
            _call_deadline.at = self._timer.time() + bound
            try:
                with wire.counted(tallies):
                    box["value"] = fn(self._client(slot))
            except Exception as e:  # noqa: BLE001  handed to the caller's thread, translated there
                box["error"] = e
            finally:
                _call_deadline.at = None
                slot.in_flight.release()
                done.set()

        threading.Thread(target=work, name=f"jobs-api-{workspace_id}", daemon=True).start()
        # A request stuck past the bound is left to finish on its own (daemon) thread; its
        # in-flight slot frees when it does.
        if not done.wait(bound + 0.5):
            self._count(workspace_id, "unavailable")
            raise JobsApiUnavailable(name, f"no answer within {bound:g} s")
        if "error" in box:
            error = _translate(name, box["error"], bound, not_found)
            self._count(workspace_id, _outcome(error))
            raise error from box["error"]
        if "value" not in box:
            self._count(workspace_id, "unavailable")
            raise JobsApiUnavailable(name, "the call was interrupted")
        self._count(workspace_id, "ok")
        return box["value"]  # type: ignore[no-any-return]

    def _count(self, workspace_id: str, outcome: str) -> None:
        if self.on_call is not None:
            try:
                self.on_call(workspace_id, outcome)
            except Exception:  # counting must never fail a call
                log.exception("jobs api on_call hook failed")

    def _client(self, slot: _Slot) -> ApiClient:
        with slot.lock:
            if slot.client is None:
                slot.client = self._build(slot.ws).api_client
            return slot.client

    def _build(self, ws: WorkspaceConfig) -> WorkspaceClient:
        s = self._secrets
        common: dict[str, Any] = {
            "host": ws.host,
            "http_timeout_seconds": self.settings.http_timeout_seconds,
            "retry_timeout_seconds": max(1, round(self.settings.probe_seconds)),
            "clock": self._clock,
            "product": "jobs-bot",
            "product_version": "0.1.0",
        }
        pat = self._env.get(ws.pat_env, "").strip() if ws.pat_env else ""
        if ws.pat_env and not pat:
            raise JobsApiRefused(ws.name, f"{ws.pat_env} is not set in the environment")
        if pat:
            cfg = Config(**common, token=pat, auth_type="pat")
        elif s.databricks_client_id and s.databricks_client_secret:
            # The discovery URL given explicitly (bot.jobs_api.oauth): v0.162 would look for
            # it in /.well-known/databricks-config, which not every host serves.
            secret = s.databricks_client_secret.get_secret_value()
            m2m = m2m_settings(ws.host, s.databricks_client_id, secret)
            cfg = Config(**{**common, **m2m})
        elif s.databricks_token:
            cfg = Config(**common, token=s.databricks_token.get_secret_value(), auth_type="pat")
        elif s.databricks_profile:
            cfg = Config(**common, profile=s.databricks_profile)
        else:
            raise JobsApiRefused(
                ws.name, "no Databricks credentials (DATABRICKS_TOKEN or an OAuth client)"
            )
        # Construction used the short probe bound (Config() probes the host); calls get the
        # background bound. ApiClient reads it when the WorkspaceClient is built.
        cfg.retry_timeout_seconds = max(1, round(self.settings.background_seconds))
        return WorkspaceClient(config=cfg)


def _fetch_run(api: ApiClient, run_id: str, *, include_history: bool) -> dict[str, Any]:
    """runs/get and its further pages (2.2 pages tasks, repair_history, job_clusters and
    job_parameters past 100 elements), merged into one run."""
    query: dict[str, Any] = {"run_id": int(run_id), "include_history": include_history}
    run = dict(wire.get(api, _RUNS_GET, query=query))
    while run.get("next_page_token"):
        more = wire.get(api, _RUNS_GET, {**query, "page_token": run["next_page_token"]})
        for key in ("tasks", "repair_history", "job_clusters", "job_parameters"):
            if more.get(key):
                run[key] = [*(run.get(key) or ()), *more[key]]
        run["next_page_token"] = more.get("next_page_token")
    return run


def _translate(
    name: str,
    err: BaseException,
    bound: float,
    not_found: Callable[[str], JobsApiError] | None,
) -> JobsApiError:
    if isinstance(err, JobsApiError):
        return err
    cause = err.__cause__ or err.__context__
    if isinstance(err, _OutOfTime | TimeoutError):
        why = f": {_short(cause)}" if cause is not None else ""
        return JobsApiUnavailable(name, f"still failing after retrying for up to {bound:g} s{why}")
    if not_found is not None and (
        isinstance(err, sdk_errors.NotFound)
        # runs/repair and run-now answer 400 "Run 1 does not exist." / "Job 2 does not
        # exist."; the SDK's overrides turn that into NotFound only for jobs/get and runs/get*.
        or (isinstance(err, sdk_errors.BadRequest) and _DOES_NOT_EXIST.search(str(err)))
    ):
        return not_found(name)
    if isinstance(
        err,
        sdk_errors.TooManyRequests
        | sdk_errors.TemporarilyUnavailable
        | sdk_errors.InternalError
        | sdk_errors.DeadlineExceeded,
    ):
        return JobsApiUnavailable(name, _short(err))
    if isinstance(err, DatabricksError):
        return JobsApiRefused(name, _short(err), getattr(err, "error_code", None))
    if isinstance(err, requests.RequestException):
        return JobsApiUnavailable(name, _short(err))
    if isinstance(err, ValueError):  # Config(): the sign-in could not be set up
        return JobsApiUnavailable(name, f"cannot sign in: {_short(err)}")
    log.exception("unexpected error from the Jobs API of %s", name, exc_info=err)
    return JobsApiUnavailable(name, type(err).__name__)


def _short(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    # Config errors append a long debug string ("Config: host=…, …"); keep the first line.
    return text.split(". Config:")[0].splitlines()[0][:300]


def _outcome(error: JobsApiError) -> str:
    """The metrics label of a failed call."""
    if isinstance(error, RunNotFound | JobNotFound):
        return "not_found"
    if isinstance(error, JobsApiUnavailable):
        return "unavailable"
    return "refused"
