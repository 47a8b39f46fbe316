"""The simulator's account: each job's profile (schedule, tasks, duration, failure and flakiness,
compute and price) read from a warehouse's system tables, and `install`, which creates the
same workspaces, users and jobs (same ids and names) in a `World`.

Reading the tables rather than the generator's plan means any warehouse works, the demo's or
one loaded from a real export, and the Jobs API and the tables cannot disagree about a job.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.databricks.world import World

if TYPE_CHECKING:
    import duckdb

# The failure modes a run can end with, in the system-table spelling, weighted as they occur.
# (result_state, termination_code, termination_type, message, weight)
FAILURE_MODES: tuple[tuple[str, str, str, str, int], ...] = (
    ("FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
     "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw.events` cannot be found.", 50),
    ("FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
     "Py4JJavaError: An error occurred while calling o412.save: NullPointerException in UDF", 12),
    ("ERROR", "CLUSTER_ERROR", "CLOUD_FAILURE",
     "Cluster failed to start: cloud provider capacity (AllocationFailed)", 10),
    ("ERROR", "DRIVER_ERROR", "INTERNAL_ERROR",
     "The Spark driver has stopped unexpectedly and is restarting", 8),
    ("FAILED", "STORAGE_ACCESS_ERROR", "CLIENT_ERROR",
     "Failed to access storage: 403 This request is not authorized", 4),
    ("TIMED_OUT", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
     "Run timed out after the job's timeout_seconds", 4),
)  # fmt: skip
SKU_JOBS = "PREMIUM_JOBS_COMPUTE"


@dataclass(frozen=True)
class SimTask:
    key: str
    depends_on: tuple[str, ...] = ()
    flaky: bool = False  # on a flaky run: fails attempts 0 and 1, succeeds on attempt 2


@dataclass(frozen=True)
class Compute:
    """How a job's runs are billed. `sku` None: all-purpose compute, billed per cluster and
    never per job, as in the real usage table."""

    kind: str = "job_cluster"  # job_cluster | serverless | all_purpose
    sku: str | None = SKU_JOBS
    dbu_per_hour: float = 4.5
    node_type: str | None = "Standard_DS3_v2"
    custom_tags: Mapping[str, str] = field(default_factory=dict)
    product_features: Mapping[str, Any] = field(
        default_factory=lambda: {"jobs_tier": "CLASSIC", "is_serverless": False}
    )


@dataclass(frozen=True)
class SimJob:
    workspace_id: int
    job_id: int
    name: str
    tasks: tuple[SimTask, ...] = (SimTask("main"),)
    cron: str | None = None  # Quartz expression; None with `continuous` False: manual only
    timezone: str = "UTC"
    continuous: bool = False
    paused: bool = False
    median_s: float = 600.0  # a whole run's median wall time
    sigma: float = 0.2  # log-normal spread of durations
    fail_rate: float = 0.02
    flaky_rate: float = 0.0  # share of runs on which the flaky task needs its retries
    modes: tuple[tuple[str, str, str, str, int], ...] = FAILURE_MODES
    creator: str | None = None
    run_as: str | None = None
    owner: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    compute: Compute = field(default_factory=Compute)

    @property
    def layers(self) -> int:
        """Length of the longest dependency chain: a run's median splits over it."""
        depth: dict[str, int] = {}
        by_key = {t.key: t for t in self.tasks}

        def level(key: str, seen: frozenset[str] = frozenset()) -> int:
            if key not in depth:
                ups = [d for d in by_key[key].depends_on if d in by_key and d not in seen]
                depth[key] = 1 + max((level(d, seen | {key}) for d in ups), default=0)
            return depth[key]

        return max((level(t.key) for t in self.tasks), default=1)


@dataclass(frozen=True)
class SimWorkspace:
    workspace_id: int
    name: str


@dataclass(frozen=True)
class SimAccount:
    account_id: str
    workspaces: tuple[SimWorkspace, ...]
    jobs: tuple[SimJob, ...]

    def job(self, workspace_id: int, job_id: int) -> SimJob | None:
        for j in self.jobs:
            if j.workspace_id == workspace_id and j.job_id == job_id:
                return j
        return None

    def named(self, name: str) -> SimJob:
        for j in self.jobs:
            if j.name == name:
                return j
        raise KeyError(f"no job named {name!r}")


# -- reading a warehouse -----------------------------------------------------------------------

_JOBS = """
SELECT workspace_id, job_id, name, "trigger".schedule.quartz_cron_expression AS cron,
       "trigger".schedule.timezone_id AS tz, trigger_type, paused, delete_time, tags,
       creator_user_name, run_as_user_name, account_id
FROM lakeflow.jobs
QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
ORDER BY workspace_id, job_id
"""
# The latest row per task; a row with delete_time set means the task was removed.
_TASKS = """
SELECT workspace_id, job_id, task_key, depends_on_keys, delete_time
FROM lakeflow.job_tasks
QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id, task_key
                           ORDER BY change_time DESC) = 1
ORDER BY workspace_id, job_id, change_time, task_key
"""
# Terminal rows only: one per run (and one more per repair), oldest first.
_RUNS = """
SELECT workspace_id, job_id, result_state, run_duration_seconds,
       epoch(period_end_time) - epoch(min_start) AS wall
FROM (SELECT *, min(period_start_time) OVER (PARTITION BY workspace_id, job_id, run_id)
                AS min_start
      FROM lakeflow.job_run_timeline)
WHERE result_state IS NOT NULL
ORDER BY workspace_id, job_id, period_end_time
"""
_USAGE = """
SELECT workspace_id, usage_metadata.job_id AS job_id, any_value(sku_name) AS sku,
       sum(usage_quantity)::DOUBLE AS dbus, any_value(usage_metadata.node_type) AS node_type,
       any_value(product_features) AS features, any_value(custom_tags) AS tags
FROM billing.usage
WHERE usage_metadata.job_id IS NOT NULL AND record_type = 'ORIGINAL'
GROUP BY ALL
"""
_WORKSPACES = "SELECT workspace_id, workspace_name FROM access.workspaces_latest ORDER BY 1"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.cursor()
    try:
        cur.execute(sql)
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        cur.close()


def from_warehouse(con: duckdb.DuckDBPyConnection, *, seed: int = 7) -> SimAccount:
    """Every live job of the warehouse with a profile drawn from its own history."""
    tasks: dict[tuple[str, str], list[SimTask]] = {}
    for t in _rows(con, _TASKS):
        if t["delete_time"] is None:
            deps = tuple(t["depends_on_keys"] or ())
            tasks.setdefault((t["workspace_id"], t["job_id"]), []).append(
                SimTask(t["task_key"], deps)
            )
    history: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for r in _rows(con, _RUNS):
        secs = r["run_duration_seconds"] or r["wall"] or 0
        history.setdefault((r["workspace_id"], r["job_id"]), []).append((r["result_state"], secs))
    tasks = {k: _topological(v) for k, v in tasks.items()}
    usage = {(u["workspace_id"], u["job_id"]): u for u in _rows(con, _USAGE)}
    names = {w["workspace_id"]: w["workspace_name"] for w in _rows(con, _WORKSPACES)}
    jobs: list[SimJob] = []
    account_id = ""
    for j in _rows(con, _JOBS):
        if j["delete_time"] is not None:
            continue
        account_id = account_id or j["account_id"] or ""
        key = (j["workspace_id"], j["job_id"])
        names.setdefault(j["workspace_id"], f"workspace-{j['workspace_id']}")
        jobs.append(_profile(j, tasks.get(key, [SimTask("main")]), history.get(key, []),
                             usage.get(key)))  # fmt: skip
    workspaces = tuple(SimWorkspace(int(k), v) for k, v in sorted(names.items()))
    return SimAccount(account_id, workspaces, tuple(with_flaky_tasks(jobs, seed)))


def _topological(tasks: list[SimTask]) -> list[SimTask]:
    """Upstream tasks first, as a job's settings list them; ties keep their order."""
    keys = {t.key for t in tasks}
    placed: list[SimTask] = []
    done: set[str] = set()
    while len(placed) < len(tasks):
        ready = [t for t in tasks if t.key not in done
                 and all(d in done or d not in keys for d in t.depends_on)]  # fmt: skip
        if not ready:  # a cycle: keep the rest as they are rather than loop
            ready = [t for t in tasks if t.key not in done]
        placed.extend(ready)
        done.update(t.key for t in ready)
    return placed


def _profile(
    j: Mapping[str, Any],
    tasks: list[SimTask],
    runs: list[tuple[str, float]],
    usage: Mapping[str, Any] | None,
) -> SimJob:
    ok = [secs for state, secs in runs if state == "SUCCEEDED" and secs > 0]
    median = statistics.median(ok) if ok else 600.0
    sigma = 0.2
    if len(ok) >= 3:
        sigma = min(0.6, max(0.05, statistics.stdev(math.log(s) for s in ok)))
    failures = sum(1 for state, _ in runs if state in ("FAILED", "ERROR", "TIMED_OUT"))
    fail_rate = failures / len(runs) if runs else 0.02
    modes = FAILURE_MODES
    if runs and runs[-1][0] in ("FAILED", "ERROR", "TIMED_OUT"):
        # A job whose latest run failed is broken: it keeps failing the same way, as a
        # failure streak does until someone fixes it.
        fail_rate = max(fail_rate, 0.8)
        modes = tuple(m for m in FAILURE_MODES if m[0] == runs[-1][0]) or FAILURE_MODES
    tags = dict(j["tags"] or {})
    return SimJob(
        workspace_id=int(j["workspace_id"]),
        job_id=int(j["job_id"]),
        name=j["name"],
        tasks=tuple(tasks),
        cron=j["cron"],
        timezone=j["tz"] or "UTC",
        continuous=j["trigger_type"] == "CONTINUOUS",
        paused=bool(j["paused"]),
        median_s=float(median),
        sigma=sigma,
        fail_rate=min(fail_rate, 0.9),
        modes=modes,
        creator=j["creator_user_name"],
        run_as=j["run_as_user_name"],
        owner=tags.get("owner"),
        tags=tags,
        compute=_compute(usage, median, len(runs)),
    )


def _compute(usage: Mapping[str, Any] | None, median_s: float, runs: int) -> Compute:
    if usage is None:
        return Compute(kind="all_purpose", sku=None, dbu_per_hour=0.0, node_type=None)
    hours = max(median_s * max(runs, 1) / 3600, 1e-6)
    features = dict(usage["features"] or {})
    serverless = bool(features.get("is_serverless"))
    return Compute(
        kind="serverless" if serverless else "job_cluster",
        sku=usage["sku"],
        dbu_per_hour=round(max(0.5, float(usage["dbus"]) / hours), 3),
        node_type=usage["node_type"],
        custom_tags=dict(usage["tags"] or {}),
        product_features={k: v for k, v in features.items() if v is not None},
    )


def with_flaky_tasks(jobs: Iterable[SimJob], seed: int) -> list[SimJob]:
    """Give about one job in five a flaky task (max_retries 2), and at least one job, so the
    account always shows a task that fails twice and succeeds on its third attempt."""
    out = list(jobs)
    picked: list[int] = []
    for i, job in enumerate(out):
        rng = random.Random(f"{seed}/flaky/{job.workspace_id}/{job.job_id}")
        if not job.continuous and job.fail_rate < 0.5 and rng.random() < 0.2:
            picked.append(i)
    if not picked:
        healthy = [i for i, j in enumerate(out) if not j.continuous and j.fail_rate < 0.5]
        picked = healthy[:1]
    for i in picked:
        job = out[i]
        rng = random.Random(f"{seed}/flaky-task/{job.workspace_id}/{job.job_id}")
        flaky = rng.choice(job.tasks).key
        tasks = tuple(SimTask(t.key, t.depends_on, t.key == flaky) for t in job.tasks)
        out[i] = _replace(job, tasks=tasks, flaky_rate=max(job.flaky_rate, 0.35))
    return out


def _replace(job: SimJob, **changes: Any) -> SimJob:
    from dataclasses import replace

    return replace(job, **changes)


# -- the same account in a World ---------------------------------------------------------------


def install(world: World, account: SimAccount) -> None:
    """Create the account's workspaces, people and jobs in the world; what exists is kept."""
    with world.lock:
        for w in account.workspaces:
            if w.workspace_id not in world.workspaces:
                world.add_workspace(w.name, workspace_id=w.workspace_id)
        for job in account.jobs:
            ws = world.workspace(job.workspace_id)
            people = [p for p in (job.creator, job.run_as, job.owner) if p and "@" in p]
            for person in dict.fromkeys(people):
                if person not in ws.users:
                    world.add_user(job.workspace_id, person)
            if job.job_id in ws.jobs:
                continue
            schedule = None
            if job.cron is not None:
                pause = "PAUSED" if job.paused else "UNPAUSED"
                schedule = {"quartz_cron_expression": job.cron, "timezone_id": job.timezone,
                            "pause_status": pause}  # fmt: skip
            creator = job.creator if job.creator in ws.users else None
            world.add_job(
                job.workspace_id,
                job.name,
                [_task_spec(t) for t in job.tasks],
                schedule=schedule,
                tags=job.tags,
                creator_user_name=creator,
                run_as_user_name=job.run_as,
                job_id=job.job_id,
            )
            if job.owner and job.owner in ws.users and job.owner != creator:
                world.set_permissions(job.workspace_id, job.job_id, users={job.owner: "IS_OWNER"})


def _task_spec(task: SimTask) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "task_key": task.key,
        "depends_on": [{"task_key": d} for d in task.depends_on],
        "notebook_task": {"notebook_path": f"/Repos/pipelines/{task.key}"},
    }
    if task.flaky:
        spec.update(max_retries=2, min_retry_interval_millis=0, retry_on_timeout=False)
    return spec
