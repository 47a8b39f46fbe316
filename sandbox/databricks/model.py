"""The records of the local Databricks: workspaces, identities, jobs, runs and task attempts.

Plain dataclasses, mutated only by `World` and `RunBook` under the world's lock. Times are
epoch milliseconds, as on the wire, so serialising a run never converts anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Permission levels, weakest first. IS_OWNER and CAN_MANAGE both grant everything.
LEVELS = ("CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER")
RANK = {"CAN_VIEW": 1, "CAN_MANAGE_RUN": 2, "CAN_MANAGE": 3, "IS_OWNER": 3}

# Jobs API 2.2 `status.state` values that count as "active" for runs/list active_only.
ACTIVE_STATES = frozenset({"QUEUED", "PENDING", "RUNNING", "TERMINATING"})

# Task results that "rerun_all_failed_tasks" picks up again.
FAILED_RESULTS = frozenset(
    {"FAILED", "TIMEDOUT", "CANCELED", "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "INTERNAL_ERROR"}
)

ADMINS = "admins"  # the built-in workspace group whose members can do anything


@dataclass
class User:
    id: str
    user_name: str  # the email address
    display_name: str
    groups: set[str] = field(default_factory=set)  # names of groups the user is directly in


@dataclass
class Group:
    id: str
    name: str
    members: set[str] = field(default_factory=set)  # user_names
    subgroups: set[str] = field(default_factory=set)  # names of groups nested inside this one


@dataclass
class ServicePrincipal:
    id: str
    application_id: str  # the OAuth client_id; also the principal's "user name"
    display_name: str
    client_secret: str


@dataclass
class Task:
    task_key: str
    depends_on: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. notebook_task, passed through


@dataclass
class Job:
    job_id: int
    name: str
    tasks: list[Task]
    creator_user_name: str
    run_as_user_name: str
    created_time: int
    schedule: dict[str, str] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    max_concurrent_runs: int = 1
    # principal (user_name or group name) -> level; the creator's IS_OWNER is added at creation
    acl_users: dict[str, str] = field(default_factory=dict)
    acl_groups: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """How something ended: legacy `state` spelling plus 2.2 `termination_details`."""

    result_state: str  # SUCCESS / FAILED / TIMEDOUT / CANCELED / UPSTREAM_FAILED / ...
    message: str = ""
    code: str = "SUCCESS"  # TerminationCodeCode
    type: str = "SUCCESS"  # SUCCESS / INTERNAL_ERROR / CLIENT_ERROR / CLOUD_FAILURE


@dataclass
class TaskAttempt:
    task_key: str
    run_id: int
    attempt_number: int
    depends_on: list[str]
    original_attempt_run_id: int
    state: str = "PENDING"  # 2.2 status.state: BLOCKED/PENDING/RUNNING/TERMINATING/TERMINATED
    start_time: int = 0
    end_time: int = 0
    setup_duration: int = 0
    outcome: Outcome | None = None
    error: str | None = None
    error_trace: str | None = None
    notebook_result: str | None = None
    logs: str | None = None
    repair_id: int | None = None  # the repair that created this attempt; None for the original


@dataclass
class RepairEntry:
    type: str  # ORIGINAL / REPAIR
    id: int
    start_time: int
    task_run_ids: list[int]
    end_time: int = 0
    outcome: Outcome | None = None


@dataclass
class Run:
    workspace_id: int
    run_id: int
    job_id: int
    run_name: str
    trigger: str
    creator_user_name: str
    start_time: int
    state: str  # 2.2 status.state
    run_type: str = "JOB_RUN"
    end_time: int = 0
    queue_reason: str | None = None
    queue_duration: int = 0
    outcome: Outcome | None = None
    # task_key -> attempts, oldest first; the dict keeps the job's task order
    tasks: dict[str, list[TaskAttempt]] = field(default_factory=dict)
    history: list[RepairEntry] = field(default_factory=list)
    job_parameters: dict[str, str] = field(default_factory=dict)
    idempotency_token: str | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def latest(self) -> list[TaskAttempt]:
        """The newest attempt of every task, in the job's task order."""
        return [attempts[-1] for attempts in self.tasks.values()]


# Default termination details per result, as Databricks reports them.
_CODES: dict[str, tuple[str, str]] = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "CANCELED": ("USER_CANCELED", "SUCCESS"),
    "UPSTREAM_FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "UPSTREAM_CANCELED": ("CANCELED", "SUCCESS"),
    "INTERNAL_ERROR": ("INTERNAL_ERROR", "INTERNAL_ERROR"),
    "SUCCESS_WITH_FAILURES": ("SUCCESS_WITH_FAILURES", "SUCCESS"),
}


def outcome(
    result: str, message: str = "", code: str | None = None, kind: str | None = None
) -> Outcome:
    default_code, default_type = _CODES.get(result, ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
    return Outcome(result, message, code or default_code, kind or default_type)
