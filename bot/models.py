"""Plain, frozen result types of the query layer (one per query shape), shared by the
monitors, the service and the renderer. No behaviour beyond small derived properties.

Money is Decimal (list-price cost from SQL DECIMAL), durations are seconds, timestamps are
timezone-aware UTC datetimes, and every job is keyed by (workspace_id, job_id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

# The one definition of a failed final run, in the system-table spelling (the Jobs API's
# states are normalised to it; a platform failure, INTERNAL_ERROR, arrives as ERROR). The
# queries' `IN (...)` lists must say the same; tests/warehouse/test_wh_failed_states.py checks.
FAILED_STATES = frozenset({"ERROR", "FAILED", "TIMED_OUT"})


class MatchKind(StrEnum):
    ID = "id"
    EXACT = "exact"
    SUBSTRING = "substring"
    FUZZY = "fuzzy"
    RENAMED = "renamed"  # the text is a name the job had before (SCD2 history), not its name now


class CostGroup(StrEnum):
    JOB = "job"
    WORKSPACE = "workspace"
    SKU = "sku"
    OWNER = "owner"
    TAG = "tag"


class WasteKind(StrEnum):
    FAILED_RUNS = "failed_runs"
    RETRIED_ATTEMPTS = "retried_attempts"
    ALL_PURPOSE_JOB = "all_purpose_job"
    IDLE_CLUSTER = "idle_cluster"


@dataclass(frozen=True)
class JobKey:
    workspace_id: str
    job_id: str


@dataclass(frozen=True)
class FailingJob:
    workspace_id: str
    job_id: str
    name: str | None
    streak: int
    failures_in_window: int
    runs_in_window: int
    last_run_id: str
    last_failure_time: datetime
    result_state: str
    termination_code: str | None
    owner: str | None
    workspace_name: str | None
    workspace_url: str | None
    # The latest run's failed task keys (its last attempt and last repair win); () if unknown.
    failed_tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobMatch:
    """A job the lookup query found for what a person typed, and how well it matched."""

    workspace_id: str
    job_id: str
    name: str | None
    match_kind: MatchKind
    score: float
    deleted: bool
    owner: str | None
    workspace_name: str | None


@dataclass(frozen=True)
class JobFound(JobMatch):
    """A job_lookup row with what `/jobs status` says about the job besides its runs: when it
    lost the name typed (match_kind renamed), when it was deleted, and whether it is paused."""

    renamed_at: datetime | None
    delete_time: datetime | None
    paused: bool


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    start_time: datetime
    end_time: datetime
    duration_seconds: int
    result_state: str | None
    termination_code: str | None
    in_progress: bool
    repairs: int
    trigger_type: str | None
    run_type: str | None

    @property
    def failed(self) -> bool:
        return self.result_state in FAILED_STATES


@dataclass(frozen=True)
class JobStats:
    runs_7d: int
    successes_7d: int
    failures_7d: int
    success_rate_7d: float | None
    runs_30d: int
    successes_30d: int
    failures_30d: int
    success_rate_30d: float | None
    p50_seconds: float | None
    p90_seconds: float | None
    avg_seconds: float | None
    last_success_time: datetime | None


@dataclass(frozen=True)
class DurationPoint:
    day: date
    runs: int
    failures: int
    median_seconds: float
    max_seconds: int


@dataclass(frozen=True)
class JobCost:
    cost_7d: Decimal
    cost_30d: Decimal
    dbus_30d: Decimal
    runs_billed_30d: int
    currency_code: str
    last_usage_end_time: datetime | None
    # Task hours on all-purpose clusters: billing charges those to the cluster, never the job.
    all_purpose_hours_30d: float


@dataclass(frozen=True)
class RunningRun:
    workspace_id: str
    job_id: str
    name: str | None
    run_id: str
    start_time: datetime
    elapsed_seconds: int
    p90_seconds: float | None
    over_p90: bool
    owner: str | None
    workspace_name: str | None


@dataclass(frozen=True)
class JobDurations:
    """A job's usual run length (successful runs of the last 30 days)."""

    workspace_id: str
    job_id: str
    runs: int
    p50_seconds: float
    p90_seconds: float


@dataclass(frozen=True)
class EndedRun:
    """One end of a run as the system tables record it (system-table spellings)."""

    workspace_id: str
    job_id: str
    run_id: str
    name: str | None
    result_state: str
    termination_code: str | None
    start_time: datetime | None
    end_time: datetime
    trigger_type: str | None
    owner: str | None
    team: str | None


@dataclass(frozen=True)
class SlaDay:
    workspace_id: str
    job_id: str
    name: str | None
    day: date
    first_success_end_time: datetime | None
    latest_start_time: datetime | None
    runs_started: int
    runs_finished: int
    failures: int


@dataclass(frozen=True)
class CostRow:
    group_key: str | None
    label: str
    workspace_id: str | None
    job_id: str | None
    cost: Decimal
    prev_cost: Decimal
    change_pct: float | None
    dbus: Decimal
    currency_code: str


@dataclass(frozen=True)
class CostTotal:
    cost: Decimal
    prev_cost: Decimal
    change_pct: float | None
    dbus: Decimal
    currency_code: str
    last_usage_end_time: datetime | None
    billed_until: datetime | None  # the current window's latest usage end (at most its end)
    prev_until: datetime | None  # where the previous window ends (cut like the current one)
    data_from: datetime | None  # earliest usage start from a day before the previous window


@dataclass(frozen=True)
class TagKey:
    tag_key: str
    jobs: int


@dataclass(frozen=True)
class DailyCost:
    day: date
    cost: Decimal
    dbus: Decimal


@dataclass(frozen=True)
class RunCost:
    billed: bool
    cost: Decimal
    dbus: Decimal
    usage_rows: int
    first_usage_start_time: datetime | None
    last_usage_end_time: datetime | None
    currency_code: str


@dataclass(frozen=True)
class CostAnomalyCandidate:
    workspace_id: str
    job_id: str
    name: str | None
    owner: str | None
    cost: Decimal
    baseline_median: float
    baseline_mad: float
    weekday_median: float
    expected_cost: float
    robust_z: float | None
    baseline_days_with_cost: int
    runs: int
    baseline_runs: float
    avg_duration_seconds: float | None
    baseline_avg_duration_seconds: float | None
    new_skus: tuple[str, ...]
    new_node_types: tuple[str, ...]
    repaired_runs: int
    failed_runs: int
    baseline_repaired_runs: float


@dataclass(frozen=True)
class CostScopeCandidate:
    """A workspace's or a SKU's day vs its baseline (cost_scope_anomaly_candidates)."""

    scope: str  # "workspace" or "sku"
    subject: str  # the workspace_id or the sku_name
    cost: Decimal
    baseline_median: float
    baseline_mad: float
    weekday_median: float
    expected_cost: float
    robust_z: float | None
    baseline_days_with_cost: int
    jobs: int
    baseline_jobs: float
    runs: int
    baseline_runs: float
    new_skus: tuple[str, ...]
    new_workspaces: tuple[str, ...]


@dataclass(frozen=True)
class CostMover:
    """One part of a workspace's or SKU's day that cost more than usual (cost_scope_movers)."""

    kind: str  # "job", "sku" or "workspace"
    workspace_id: str | None
    job_id: str | None  # None on a job part: the workspace's usage without a job id
    sku_name: str | None
    name: str | None
    cost: Decimal
    expected_cost: float
    increase: float
    parts: int


@dataclass(frozen=True)
class WasteItem:
    kind: WasteKind
    workspace_id: str
    job_id: str | None
    cluster_id: str | None
    label: str | None
    cost: Decimal
    runs: int | None
    hours: float | None
    avg_cpu_percent: float | None


@dataclass(frozen=True)
class DigestSummary:
    runs: int
    successes: int
    failures: int
    success_rate: float | None
    failed_jobs: int
    cost: Decimal
    avg_cost_7d: float  # an average, not a billed amount
    change_pct: float | None


# --- Jobs API (real time) ---
# Runs as the Jobs REST API 2.2 reports them, read by bot/jobs_api/. Every state keeps the raw
# API string next to a normalised one in the system-table spelling (SUCCEEDED, FAILED,
# TIMED_OUT, CANCELLED, ERROR, SKIPPED, …) so one FAILED_STATES serves both data sources: the
# API says TIMEDOUT/CANCELED/SUCCESS where the tables say TIMED_OUT/CANCELLED/SUCCEEDED, and
# 2.2 reports platform failures as status.termination_details.type INTERNAL_ERROR.

from bot.errors import UserError  # noqa: E402  (kept inside this section: others edit the top)

# Normalised states of a run that has not ended yet.
ACTIVE_STATES = frozenset({"QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING"})


@dataclass(frozen=True)
class ApiRunState:
    """A run's (or task run's) state: `state` is normalised, the rest are the API's own strings.

    `state` is UNKNOWN only when the API sent values this bot has never seen (new enum members
    are kept raw here; the SDK's typed objects would have turned them into None)."""

    state: str
    ended: bool
    status_state: str | None  # 2.2 status.state: QUEUED, PENDING, RUNNING, TERMINATED, …
    life_cycle_state: str | None  # deprecated state.life_cycle_state
    result_state: str | None  # deprecated state.result_state: SUCCESS, FAILED, TIMEDOUT, …
    termination_code: str | None  # status.termination_details.code: RUN_EXECUTION_ERROR, …
    termination_type: str | None  # SUCCESS, INTERNAL_ERROR, CLIENT_ERROR, CLOUD_FAILURE
    message: str | None  # termination_details.message, else state.state_message
    queue_reason: str | None = None  # status.queue_details.code while queued

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES


@dataclass(frozen=True)
class TaskRun:
    """One attempt of one task; a retried task appears once per attempt (new run_id)."""

    task_key: str
    run_id: str
    attempt_number: int
    state: ApiRunState
    start_time: datetime | None
    end_time: datetime | None
    duration_seconds: float | None
    run_page_url: str | None
    depends_on: tuple[str, ...] = ()
    # The task's setting: retries after a failed attempt (-1: without limit); None: not known.
    max_retries: int | None = None


@dataclass(frozen=True)
class RepairEntry:
    """One entry of a run's repair history: the ORIGINAL run or a REPAIR (which has an id)."""

    kind: str  # raw repair_history[].type: ORIGINAL or REPAIR
    repair_id: str | None
    start_time: datetime | None
    end_time: datetime | None
    state: ApiRunState
    task_run_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiRun:
    """A job run from runs/list or runs/get. Ids are strings, times UTC, durations seconds.

    `tasks_complete` is False when the tasks were not asked for (runs/list without
    expand_tasks) or were cut at the API's 100-element page; runs/get pages them all."""

    workspace_id: str
    job_id: str | None  # absent for some one-time (SUBMIT_RUN) runs
    run_id: str
    run_name: str | None
    state: ApiRunState
    start_time: datetime | None
    end_time: datetime | None  # None while running (the API sends 0)
    duration_seconds: float | None  # run_duration: the run and all its repairs
    queue_seconds: float | None
    run_page_url: str | None
    run_type: str | None  # raw: JOB_RUN, SUBMIT_RUN, WORKFLOW_RUN
    trigger: str | None  # raw: PERIODIC, ONE_TIME, RETRY, RUN_JOB_TASK, FILE_ARRIVAL, …
    creator_user_name: str | None
    attempt_number: int = 0
    original_attempt_run_id: str | None = None
    tasks: tuple[TaskRun, ...] = ()
    tasks_complete: bool = False
    repair_history: tuple[RepairEntry, ...] = ()

    @property
    def in_progress(self) -> bool:
        return not self.state.ended

    @property
    def latest_repair_id(self) -> str | None:
        """The id the next repair must name (None before the first repair)."""
        ids = [r.repair_id for r in self.repair_history if r.kind == "REPAIR" and r.repair_id]
        return ids[-1] if ids else None

    @property
    def repairs(self) -> int:
        return sum(1 for r in self.repair_history if r.kind == "REPAIR")

    def latest_attempts(self) -> tuple[TaskRun, ...]:
        """The last attempt of each task, in the API's task order."""
        latest: dict[str, TaskRun] = {}
        for t in self.tasks:
            seen = latest.get(t.task_key)
            if seen is None or t.attempt_number >= seen.attempt_number:
                latest[t.task_key] = t
        return tuple(latest.values())

    def attempts(self, task_key: str) -> tuple[TaskRun, ...]:
        return tuple(
            sorted(
                (t for t in self.tasks if t.task_key == task_key), key=lambda t: t.attempt_number
            )
        )

    @property
    def failed_tasks(self) -> tuple[TaskRun, ...]:
        return tuple(t for t in self.latest_attempts() if t.state.failed)


@dataclass(frozen=True)
class JobInfo:
    """A job's settings as jobs/get gives them: what routing, mentions and schedules need."""

    workspace_id: str
    job_id: str
    name: str | None
    tags: dict[str, str]
    creator_user_name: str | None
    run_as_user_name: str | None
    quartz_cron: str | None
    timezone: str | None
    paused: bool
    # Each task's max_retries from the job's settings, (task key, retries; -1 without limit).
    task_max_retries: tuple[tuple[str, int], ...] = ()

    def max_retries(self, task_key: str) -> int | None:
        """The task's retry setting, or None when the settings did not say."""
        return next((n for key, n in self.task_max_retries if key == task_key), None)

    @property
    def owner(self) -> str | None:
        """Who to mention: the `owner` tag, else who it runs as, else its creator."""
        return self.tags.get("owner") or self.run_as_user_name or self.creator_user_name


@dataclass(frozen=True)
class TaskError:
    """What runs/get-output says about a failed task run (the output of a job run as a whole
    is not available: the API wants a task run id)."""

    run_id: str
    error: str | None
    error_trace: str | None
    truncated: bool  # the API cut the logs/output, or the bot cut the trace to a Slack size


@dataclass(frozen=True)
class RepairStarted:
    workspace_id: str
    run_id: str
    repair_id: str


@dataclass(frozen=True)
class RunStarted:
    workspace_id: str
    job_id: str
    run_id: str
    number_in_job: str | None


@dataclass(frozen=True)
class JobAccess:
    """Whether one person may run (and repair) one job, per the job's Databricks ACL."""

    workspace_id: str
    job_id: str
    email: str
    allowed: bool
    level: str | None  # the highest level found: CAN_VIEW, CAN_MANAGE_RUN, CAN_MANAGE, IS_OWNER
    via: str | None  # "user", or "group:<name>" when the level comes through a group
    user_found: bool  # False: no Databricks user has that email in this workspace


class JobsApiError(UserError):
    """A Jobs API call did not give an answer; the message is meant for a person."""

    def __init__(self, workspace: str, message: str) -> None:
        super().__init__(message)
        self.workspace = workspace


class JobsApiUnavailable(JobsApiError):
    """The workspace did not answer in time: down, throttled past the bound, or timing out."""

    def __init__(self, workspace: str, reason: str) -> None:
        super().__init__(workspace, f"Databricks workspace {workspace} is not answering ({reason})")
        self.reason = reason


class JobsApiRefused(JobsApiError):
    """The workspace answered no: bad credentials, no permission, an invalid request, or a
    state that forbids it (e.g. repairing a run still in progress)."""

    def __init__(self, workspace: str, reason: str, code: str | None = None) -> None:
        super().__init__(workspace, f"Databricks workspace {workspace} refused: {reason}")
        self.reason = reason
        self.code = code  # the API's error_code, e.g. INVALID_PARAMETER_VALUE


class RunNotFound(JobsApiError):
    def __init__(self, workspace: str, run_id: str) -> None:
        super().__init__(workspace, f"run {run_id} does not exist in workspace {workspace}")
        self.run_id = run_id


class JobNotFound(JobsApiError):
    def __init__(self, workspace: str, job_id: str) -> None:
        super().__init__(workspace, f"job {job_id} does not exist in workspace {workspace}")
        self.job_id = job_id


@dataclass(frozen=True)
class JobRouting:
    """A job's latest name, owner and tags (as JSON text) from the system tables, for routing
    the proactive messages that start from the warehouse (cost anomalies, the replay)."""

    workspace_id: str
    job_id: str
    name: str | None
    owner: str | None
    tags_json: str


@dataclass(frozen=True)
class ReportJob:
    """One job's runs and cost in a report window against the window before
    (queries/report_jobs.sql): the rows the daily digest and the weekly report split by
    routing and rank."""

    workspace_id: str
    job_id: str
    name: str | None
    tags_json: str | None
    runs: int
    successes: int
    failures: int
    last_failed_run_id: str | None
    cost: Decimal
    prev_cost: Decimal
    baseline_cost: float
    change_pct: float | None
    cost_rank: int
    growth_rank: int
    mover_rank: int


@dataclass(frozen=True)
class ScheduledJob:
    """A job with a Quartz schedule and the latest run start the timeline shows
    (queries/scheduled_jobs.sql): what the missed-run check judges."""

    workspace_id: str
    job_id: str
    name: str | None
    owner: str | None
    tags_json: str
    quartz_cron: str
    timezone_id: str | None
    paused: bool
    change_time: datetime
    last_run_start: datetime | None


@dataclass(frozen=True)
class Moment:
    """An instant the replay steps to (a run end, from replay_moments)."""

    at: datetime
