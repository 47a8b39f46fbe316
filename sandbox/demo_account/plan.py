"""Who is in the demo account: workspaces, all-purpose clusters and one `JobSpec` per job (its
schedule, duration distribution, compute, tasks, SCD2 history and role in the story).

Every job draws from its own ``random.Random`` seeded with (seed, workspace, index), so a job's
plan and runs do not depend on how many jobs came before it or on the batch size.
All times are int epoch seconds (UTC)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from sandbox.demo_account import catalog as C

DAY = 86_400
HOUR = 3_600
CONTINUOUS_SIGMA = 0.04  # a stream that stops itself on a timer: runs of nearly one length
# Job ids are only unique within a workspace. Each workspace numbers its jobs in its own range
# (15-16 digits, rising with creation as real ones do), so ids rarely repeat across workspaces;
# the few that do are picked on purpose (`account._share_ids`).
JOB_ID_RANGE = 10**14  # workspace i numbers its jobs in [(i + 1) * RANGE, (i + 2) * RANGE)
JOB_ID_STEP = 1_013


@dataclass(frozen=True)
class Window:
    start: int  # midnight UTC, `days` days before the end's day
    end: int  # "now"
    days: int

    def day_of(self, t: int) -> int:
        return (t - self.start) // DAY


@dataclass
class WorkspacePlan:
    index: int
    id: str
    name: str
    url: str
    created: int
    job_id_base: int = 0

    def job_id(self, local: int) -> str:
        # A jitter below the step keeps the ids distinct and not one regular sequence.
        return str(self.job_id_base + local * JOB_ID_STEP + (local * 7_919 + 17) % JOB_ID_STEP)


@dataclass
class ApCluster:
    ws: WorkspacePlan
    cluster_id: str
    name: str
    pattern: str  # always_on (jobs run on it) | idle (forgotten, autotermination off) | business
    node_type: str
    workers: int
    owner: str
    created: int
    team: str | None = None  # its `team` tag (the forgotten cluster has none)
    deleted: int | None = None
    resized: int | None = None  # time of a config change (SCD row)
    timeline: bool = False  # has node_timeline rows (only a bounded set does)


@dataclass
class TaskSpec:
    key: str
    depends_on: tuple[str, ...]
    layer: int
    added: int | None = None
    removed: int | None = None


@dataclass
class JobSpec:
    ws: WorkspacePlan
    local: int
    job_id: str
    name: str
    team: str
    owner: str
    creator: str
    creator_id: str
    run_as: str  # user id / SP application id
    run_as_name: str  # email or SP application id
    kind: str
    hour: int
    minute: int
    weekday: int
    median_s: float
    sigma: float
    compute: str
    node_type: str
    workers: int
    serverless_dbu: float
    tasks: list[TaskSpec]
    layer_weights: list[float]
    fail_rate: float
    created: int
    timeout_s: int
    well_known: bool = False
    role: str = ""
    streak: tuple[str, str, int] | None = None
    old_name: str = ""
    renamed: int | None = None
    deleted: int | None = None
    paused: int | None = None
    changed: int | None = None  # a settings change (timeout/owner/health rule)
    new_owner: str = ""
    late_days: frozenset[int] = frozenset()
    hung_day: int | None = None  # the day of the one run that hung until a user cancelled it
    ap_cluster: ApCluster | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def name_at(self, t: int) -> str:
        if self.renamed is not None and t < self.renamed:
            return self.old_name
        return self.name

    def stop(self, window: Window) -> int:
        """When scheduled runs stop: end of data, deletion or pause."""
        return min(x for x in (window.end, self.deleted, self.paused) if x is not None)


def email(person: str) -> str:
    return f"{person}@{C.EMAIL_DOMAIN}"


def rand_uuid(rng: random.Random) -> str:
    # Formatting by hand is several times faster than uuid.UUID, and this runs per usage row.
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def cluster_id(rng: random.Random, created: int) -> str:
    """Databricks-style id: MMDD-HHMMSS-<8 chars>, from the creation time."""
    import time

    tm = time.gmtime(created)
    tail = f"{rng.getrandbits(32):08x}"  # one draw: this runs once per job-cluster run
    return f"{tm.tm_mon:02d}{tm.tm_mday:02d}-{tm.tm_hour:02d}{tm.tm_min:02d}{tm.tm_sec:02d}-{tail}"


def make_workspaces(rng: random.Random, count: int, window: Window) -> list[WorkspacePlan]:
    out = []
    for i in range(count):
        wid = str(rng.randrange(10**15, 10**16))
        base = C.WORKSPACE_NAMES[i % len(C.WORKSPACE_NAMES)]
        name = base if i < len(C.WORKSPACE_NAMES) else f"{base}-{i // len(C.WORKSPACE_NAMES) + 1}"
        url = f"https://adb-{wid}.{rng.randint(1, 19)}.azuredatabricks.net"
        ids = (i + 1) * JOB_ID_RANGE + (int(wid) % 10**12) * 10
        out.append(
            WorkspacePlan(i, wid, name, url, window.start - rng.randint(200, 900) * DAY, ids)
        )
    return out


_AP_NAMES = ("shared-analytics", "bi-adhoc-forgotten", "data-eng-interactive", "ml-dev",
             "sql-exploration", "team-sandbox")  # fmt: skip
# The clusters' `team` tags (billing carries them): the forgotten one was never tagged.
_AP_TEAMS = ("analytics", None, "data-eng", "ml-platform", "analytics", "growth")


def make_ap_clusters(ws: WorkspacePlan, count: int, window: Window, seed: int) -> list[ApCluster]:
    rng = random.Random(f"{seed}/ap/{ws.index}")
    out = []
    for k in range(count):
        pattern = ("always_on", "idle", "business")[min(k, 2)]
        created = window.start - rng.randint(20, 300) * DAY + rng.randint(0, DAY)
        name = _AP_NAMES[k % len(_AP_NAMES)] + ("" if k < len(_AP_NAMES) else f"-{k}")
        c = ApCluster(
            ws, cluster_id(rng, created), name, pattern,
            node_type=rng.choice(("Standard_DS3_v2", "Standard_DS4_v2", "Standard_E8s_v3")),
            workers=rng.randint(1, 2), owner=email(rng.choice(C.PEOPLE)), created=created,
            team=_AP_TEAMS[k % len(_AP_TEAMS)],
        )  # fmt: skip
        if k % 3 == 2:
            c.resized = window.start + (window.days * DAY) // 2 + rng.randint(0, DAY)
        out.append(c)
    return out


def _task_layout(rng: random.Random, n: int) -> list[TaskSpec]:
    if n == 1:
        return [TaskSpec("main", (), 0)]
    keys = ["ingest", "clean", "transform", "enrich", "aggregate", "quality_checks", "publish",
            "notify", "export", "score"]  # fmt: skip
    layers: list[list[str]] = [[keys[0]]]
    for key in keys[1:n]:
        if len(layers) == 1 or rng.random() < 0.55:
            layers.append([key])
        else:
            layers[-1].append(key)
    tasks = []
    for li, layer in enumerate(layers):
        for key in layer:
            deps = tuple(layers[li - 1]) if li else ()
            tasks.append(TaskSpec(key, deps, li))
    return tasks


def _schedule(rng: random.Random, kind: str) -> tuple[int, int, int, float, float]:
    """(hour, minute, weekday, median seconds, sigma) for a generated job: hourly jobs take
    1.5-20 min, daily ones 3 min-2.5 h, weekly ones 15 min-3 h; a continuous job's run lasts
    until its stream stops itself (every 2-6 h) and the continuous trigger starts the next."""
    hour, minute, weekday = rng.randint(0, 8), rng.choice((0, 5, 10, 15, 20, 30, 45)), 0
    if kind == "hourly":
        return (
            0,
            minute,
            0,
            math.exp(rng.uniform(math.log(90), math.log(1200))),
            rng.uniform(0.1, 0.35),
        )
    if kind == "weekly":
        weekday = rng.randint(0, 6)
        return (
            hour,
            minute,
            weekday,
            math.exp(rng.uniform(math.log(900), math.log(10800))),
            rng.uniform(0.1, 0.3),
        )
    if kind == "continuous":
        return 0, 0, 0, rng.choice((2, 3, 4, 6)) * HOUR, CONTINUOUS_SIGMA
    return hour, minute, 0, math.exp(rng.uniform(math.log(180), math.log(9000))), rng.uniform(0.08, 0.3)  # fmt: skip


def make_job(
    ws: WorkspacePlan, local: int, seed: int, window: Window, wk: C.WellKnown | None,
    used_names: set[str], ap: ApCluster | None,
) -> JobSpec:  # fmt: skip
    rng = random.Random(f"{seed}/job/{ws.index}/{local}")
    if wk is not None:
        name, team, kind, compute, ntasks = wk.name, wk.team, wk.kind, wk.compute, wk.tasks
        hour, minute, weekday = wk.hour, wk.minute, 0
        median_s, sigma = wk.median_min * 60, 0.12
        if kind == "continuous":
            sigma = CONTINUOUS_SIGMA
        fail_rate = 0.02
    else:
        r = rng.random()
        kind = (
            "daily"
            if r < 0.70
            else "hourly"
            if r < 0.78
            else "weekly"
            if r < 0.985
            else "continuous"
        )
        hour, minute, weekday, median_s, sigma = _schedule(rng, kind)
        c = rng.random()
        compute = "job_cluster" if c < 0.66 else "serverless" if c < 0.93 else "all_purpose"
        if compute == "all_purpose" and (ap is None or kind == "continuous"):
            compute = "job_cluster"
        team = rng.choice(C.TEAMS)
        ntasks = 1 if kind in ("hourly", "continuous") else rng.choice((1, 1, 2, 3, 3, 4, 5, 6))
        name = _generated_name(rng, team, used_names, kind)
        fail_rate = rng.choice((0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.12))
        if kind == "continuous":  # per run, and a stream runs several times a day
            fail_rate = min(fail_rate, 0.02)
    used_names.add(name)
    owner = rng.choice(C.PEOPLE)
    use_sp = rng.random() < 0.35
    sp = rand_uuid(rng)
    node = "Standard_DS4_v2" if wk is not None else rng.choice(C.CPU_NODES)
    tasks = _task_layout(rng, ntasks)
    nlayers = max(t.layer for t in tasks) + 1
    job = JobSpec(
        ws=ws, local=local, job_id=ws.job_id(local), name=name, team=team,
        owner=email(owner), creator=email(rng.choice(C.PEOPLE)),
        creator_id=str(rng.randrange(10**14, 10**15)),
        run_as=sp if use_sp else str(rng.randrange(10**14, 10**15)),
        run_as_name=sp if use_sp else email(owner),
        kind=kind, hour=hour, minute=minute, weekday=weekday, median_s=median_s, sigma=sigma,
        compute=compute, node_type=node, workers=rng.randint(2, 8),
        serverless_dbu=rng.uniform(2, 14), tasks=tasks,
        layer_weights=[rng.uniform(0.5, 1.5) for _ in range(nlayers)], fail_rate=fail_rate,
        created=window.start - rng.randint(30, 500) * DAY + rng.randint(0, DAY),
        timeout_s=rng.choice((0, 3600, 7200, 14400)), well_known=wk is not None, rng=rng,
    )  # fmt: skip
    if compute == "all_purpose":
        job.ap_cluster = ap
    _history(job, rng, window, wk)
    return job


def _generated_name(rng: random.Random, team: str, used: set[str], kind: str) -> str:
    actions = C.STREAM_ACTIONS if kind == "continuous" else C.ACTIONS
    base = f"{rng.choice(C.ENTITIES)}_{rng.choice(actions)}"
    if rng.random() < 0.3:
        base = f"{base}_{rng.choice(C.REGIONS)}"
    if team == "ml-platform" and rng.random() < 0.5:
        base = f"ml_{base}"
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    return name


def _history(job: JobSpec, rng: random.Random, w: Window, wk: C.WellKnown | None) -> None:
    """SCD2 events and story roles. Generated jobs get them by chance; well-known ones by role."""
    span = w.days * DAY
    role = wk.role if wk is not None else ""
    if wk is None:
        r = rng.random()
        if r < 0.04:
            role = "rename"
        elif r < 0.06:
            role = "delete"
        elif r < 0.07 and job.kind != "continuous":
            role = "pause"
        elif r < 0.08 and job.kind in ("daily", "hourly", "weekly"):
            role = "created_recently"
    job.role = role
    if role == "streak" and wk is not None:
        job.streak = wk.streak
    if role == "rename":
        job.old_name = wk.old_name if wk is not None and wk.old_name else f"{job.name}_old"
        job.renamed = w.start + int(span * rng.uniform(0.3, 0.8))
    elif role == "delete":
        job.deleted = w.start + int(span * rng.uniform(0.4, 0.85))
    elif role == "pause":
        job.paused = w.start + int(span * rng.uniform(0.4, 0.8))
    elif role == "created_recently":
        job.created = w.start + int(span * rng.uniform(0.2, 0.6))
    elif role == "late":
        last = w.days - 1  # yesterday (the last full day) was late, plus two earlier days
        job.late_days = frozenset(d for d in (last, last - 6, last - 13) if d >= 0)
    if rng.random() < 0.12:
        job.changed = w.start + int(span * rng.uniform(0.1, 0.9))
        job.new_owner = email(rng.choice(C.PEOPLE))
    if len(job.tasks) > 1 and rng.random() < 0.12:
        # A task added mid-period, next to the tasks of the last layer.
        last = [t for t in job.tasks if t.layer == job.tasks[-1].layer]
        job.tasks.append(
            TaskSpec("publish_metrics", last[0].depends_on, last[0].layer,
                     added=w.start + int(span * rng.uniform(0.3, 0.7)))
        )  # fmt: skip
    elif len(job.tasks) > 2 and job.tasks[-1].layer == job.tasks[-2].layer and rng.random() < 0.1:
        job.tasks[-1].removed = w.start + int(span * rng.uniform(0.3, 0.7))
