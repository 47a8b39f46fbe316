"""`DemoStory`: what the generated demo account is meant to show, as plain frozen data, so demos
and tests can name the failing jobs, the late job or the cost spike instead of guessing them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class JobRef:
    workspace_id: str
    job_id: str
    name: str  # the job's latest name


@dataclass(frozen=True)
class FailingJob:
    """A job whose latest finished run failed (after any repair)."""

    job: JobRef
    streak: int  # consecutive failed runs, newest first, ending with the latest finished one
    result_state: str
    termination_code: str
    message: str
    last_failure: datetime
    designed: bool  # True when the story put it there (not a random one-off failure)


@dataclass(frozen=True)
class LateJob:
    job: JobRef
    usual_end: str  # "HH:MM" UTC by which it has usually succeeded
    late_dates: tuple[date, ...]  # UTC dates its run finished well after usual_end


@dataclass(frozen=True)
class CostSpike:
    job: JobRef
    day: date
    usual_node_type: str
    spike_node_type: str
    duration_factor: float
    dbu_factor: float  # how many times the usual DBUs per hour (bigger nodes)


@dataclass(frozen=True)
class InProgressRun:
    job: JobRef
    run_id: str
    start: datetime


@dataclass(frozen=True)
class HungRun:
    """A run that went on for most of a day (HUNG_HOURS) until a user cancelled it; the
    schedule's runs in between were skipped (one run at a time)."""

    job: JobRef
    run_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class IdleCluster:
    workspace_id: str
    cluster_id: str
    cluster_name: str


@dataclass(frozen=True)
class DemoWorkspace:
    workspace_id: str
    name: str
    url: str


@dataclass(frozen=True)
class DemoStory:
    seed: int
    start: datetime  # first instant with data (UTC)
    end: datetime  # the "now" the account was generated at (UTC)
    workspaces: tuple[DemoWorkspace, ...]
    jobs: int
    failing: tuple[FailingJob, ...]  # streak desc, then name
    late: tuple[LateJob, ...]
    cost_spike: CostSpike | None
    in_progress: tuple[InProgressRun, ...]
    hung: tuple[HungRun, ...]  # the few long runs (every other run takes minutes to hours)
    all_purpose_jobs: tuple[JobRef, ...]
    idle_clusters: tuple[IdleCluster, ...]
    renamed: tuple[tuple[JobRef, str], ...]  # (job, old name)
    deleted: tuple[JobRef, ...]
    paused: tuple[JobRef, ...]
    shared_job_ids: tuple[str, ...]  # job ids used in more than one workspace (first few)
    price_change: datetime
    repaired_runs: int
    corrections: int  # RETRACTION/RESTATEMENT pairs
    rows: tuple[tuple[str, int], ...]  # (table, rows written)

    def failing_designed(self) -> tuple[FailingJob, ...]:
        return tuple(f for f in self.failing if f.designed)
