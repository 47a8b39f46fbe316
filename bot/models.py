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

FAILURE_STATES = frozenset({"ERROR", "FAILED", "TIMED_OUT"})


class MatchKind(StrEnum):
    ID = "id"
    EXACT = "exact"
    SUBSTRING = "substring"
    FUZZY = "fuzzy"


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


@dataclass(frozen=True)
class JobRef:
    workspace_id: str
    job_id: str
    name: str | None
    match_kind: MatchKind
    score: float
    deleted: bool
    owner: str | None
    workspace_name: str | None


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
        return self.result_state in FAILURE_STATES


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
    avg_cost_7d: Decimal
    change_pct: float | None
