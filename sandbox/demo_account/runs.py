"""One job's runs: when they start, how long they take, how they end (failures, streaks, repairs,
late days, the cost spike), and the rows they leave in the run and task-run timelines.

Timeline rows are clock-hour slices; ``result_state``/``termination_code`` sit only on the slice
that ends an attempt. A repair keeps the run_id and adds slices with another terminal row. A run
still going at the end has slices up to the end time and no terminal row."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from sandbox.demo_account import catalog as C
from sandbox.demo_account.billing import BILLING_LAG, usage_rows
from sandbox.demo_account.plan import DAY, HOUR, JobSpec, Window, cluster_id
from sandbox.demo_account.rows import CLUSTERS, JOB_RUNS, TASK_RUNS, Batch

RUN_ID_BASE = 500_000_000_000_000
TASK_RUN_ID_BASE = 800_000_000_000_000
SPIKE_DURATION = 3.0
SPIKE_NODE = "Standard_DS5_v2"  # twice the DBU rate of the usual Standard_DS4_v2
HUNG_HOURS = (16.0, 26.0)  # how long the one hung run of a `hung` job went on
_WEIGHTS = [m.weight for m in C.FAILURE_MODES]
_EARLY_CODES = ("CLUSTER_ERROR", "LIBRARY_INSTALLATION_ERROR")
_CANCELLED = C.MODE_BY_CODE[("CANCELLED", "USER_CANCELED")]
# A stream has no end to time out at: its runs crash (or are cancelled) in every other way.
_STREAM_MODES = [m for m in C.FAILURE_MODES if m.result_state != "TIMED_OUT"]
_STREAM_WEIGHTS = [m.weight for m in _STREAM_MODES]


@dataclass
class Attempt:
    start: int
    end: int  # may be after the window end: still running
    setup: int
    mode: C.FailureMode | None  # None: succeeded
    first_layer: int  # a repair reruns from the failed layer on
    planned: float  # full duration of the layers it runs
    cluster: str | None
    node_type: str
    failed_layer: int = 0  # the layer whose task failed (where a repair starts)


@dataclass
class Run:
    run_id: str
    sched: int
    trigger: str
    name: str
    attempts: list[Attempt]
    spike: bool = False
    late: bool = False
    hung: bool = False  # hung until a user cancelled it, the next scheduled runs skipped


@dataclass
class Outcome:
    """What the story needs to know about one job's runs."""

    streak: int = 0
    last_mode: C.FailureMode | None = None
    last_failure: int | None = None
    in_progress: list[tuple[str, int]] = field(default_factory=list)
    late_dates: list[int] = field(default_factory=list)
    repaired: int = 0
    spike_day: int | None = None
    hung: list[tuple[str, int, int]] = field(default_factory=list)  # (run_id, start, end)
    runs: list[Run] = field(default_factory=list)


def hour_slices(s: int, e: int) -> list[tuple[int, int]]:
    out = []
    while s < e:
        b = min(e, s - s % HOUR + HOUR)
        out.append((s, b))
        s = b
    return out


def _scheduled(job: JobSpec, w: Window) -> list[int]:
    first, stop = max(w.start, job.created), job.stop(w)
    out: list[int] = []
    if job.kind == "hourly":
        t = first - first % HOUR + job.minute * 60
        step = HOUR
    else:
        t = first - first % DAY + job.hour * HOUR + job.minute * 60
        step = DAY
    while t < stop:
        if t >= first and (job.kind != "weekly" or ((t // DAY) + 3) % 7 == job.weekday):
            out.append(t)
        t += step
    return out


def simulate(job: JobSpec, w: Window, batch: Batch) -> Outcome:
    rng = job.rng
    jkey = job.ws.index * 100_000 + job.local
    run_seq = iter(range(RUN_ID_BASE + jkey * 100_000, RUN_ID_BASE + (jkey + 1) * 100_000))
    setup_range = (
        (10, 45) if job.compute == "serverless" or job.compute == "all_purpose" else (150, 420)
    )
    out = Outcome()
    runs: list[Run] = []
    if job.kind == "continuous":
        _continuous(job, w, runs, run_seq, setup_range)
    else:
        busy_until = 0  # one run at a time: a schedule firing while a run hangs is skipped
        for sched in _scheduled(job, w):
            if sched < busy_until:
                continue
            dur = max(30.0, job.median_s * math.exp(job.sigma * rng.gauss(0, 1)))
            run = _new_run(job, next(run_seq), sched, "CRON", rng.randint(*setup_range), dur)
            if w.day_of(sched) in job.late_days:
                run.late = True
                run.attempts[0].planned *= rng.uniform(1.6, 1.9)
            if job.hung_day is not None and w.day_of(sched) == job.hung_day:
                a = run.attempts[0]
                run.hung, a.planned = True, rng.uniform(HUNG_HOURS[0], HUNG_HOURS[1]) * HOUR
                busy_until = a.start + int(a.planned)
            runs.append(run)
        if job.role == "inflight" and w.end - 130 * 60 > job.created:
            runs.append(_new_run(job, next(run_seq), w.end - 130 * 60, "ONETIME", 200, 4.0 * HOUR))
    _decide(job, w, runs, out)
    task_ids = iter(
        range(TASK_RUN_ID_BASE + jkey * 10_000_000, TASK_RUN_ID_BASE + (jkey + 1) * 10_000_000)
    )
    for run in runs:
        _emit(job, w, run, batch, task_ids)
    out.runs = runs
    return out


def _continuous(job: JobSpec, w: Window, runs: list[Run], run_seq: Iterator[int],
                setup_range: tuple[int, int]) -> None:  # fmt: skip
    """A streaming job: each run lasts until the stream stops itself (its usual length) or
    crashes part-way; the continuous trigger starts the next run a minute or two later (a few
    minutes after a crash: the restart backs off)."""
    rng = job.rng
    t = max(w.start, job.created) + rng.randint(0, 2 * HOUR)
    while t < job.stop(w):
        dur = job.median_s * math.exp(job.sigma * rng.gauss(0, 1))
        run = _new_run(job, next(run_seq), t, "CONTINUOUS", rng.randint(*setup_range), dur)
        a = run.attempts[0]
        gap = rng.randint(30, 90)
        if rng.random() < job.fail_rate:
            a.mode = rng.choices(_STREAM_MODES, _STREAM_WEIGHTS)[0]
            early = a.mode.termination_code in _EARLY_CODES
            a.planned = max(
                60.0, dur * (rng.uniform(0.005, 0.03) if early else rng.uniform(0.05, 0.9))
            )
            gap *= 4
        runs.append(run)
        t = a.start + int(a.planned) + gap


def _new_run(job: JobSpec, n: int, sched: int, trigger: str, setup: int, dur: float) -> Run:
    att = Attempt(sched + setup, 0, setup, None, 0, dur, None, job.node_type)
    return Run(str(n), sched, trigger, job.name_at(sched), [att])


def _decide(job: JobSpec, w: Window, runs: list[Run], out: Outcome) -> None:
    rng = job.rng
    if job.deleted is not None:  # scheduled just before the deletion, but never started
        runs[:] = [r for r in runs if r.attempts[0].start < job.deleted]
    scheduled = [r for r in runs if r.trigger != "ONETIME"]
    done = [r for r in scheduled if r.attempts[0].start + r.attempts[0].planned <= w.end]
    streak_runs: set[int] = set()
    if job.streak is not None:
        streak_runs = {id(r) for r in done[-job.streak[2] :]}
    if job.role == "spike":
        for r in reversed(done):
            a = r.attempts[0]
            billed_by = a.start + a.planned * SPIKE_DURATION + HOUR + BILLING_LAG
            if billed_by <= w.end:
                r.spike, a.planned, a.node_type = True, a.planned * SPIKE_DURATION, SPIKE_NODE
                out.spike_day = w.day_of(a.start)
                break
    for r in runs:
        a = r.attempts[0]
        if r.trigger == "CONTINUOUS" or r.hung:  # decided when planned: it ends as planned
            a.mode = _CANCELLED if r.hung else a.mode
            a.end = a.start + int(a.planned)
            if job.deleted is not None and a.end > job.deleted:
                a.end, a.mode = job.deleted, _CANCELLED
            continue
        if id(r) in streak_runs:
            state, code, _ = job.streak  # type: ignore[misc]
            a.mode = C.MODE_BY_CODE[(state, code)]
            a.end = a.start + int(a.planned)  # fails in its last task, after the full run
            continue
        if not (r.spike or r.late or r.trigger == "ONETIME") and rng.random() < job.fail_rate:
            a.mode = rng.choices(C.FAILURE_MODES, _WEIGHTS)[0]
            early = a.mode.termination_code in _EARLY_CODES
            frac = rng.uniform(0.005, 0.03) if early else rng.uniform(0.2, 0.95)
            a.end = a.start + max(20, int(a.planned * frac))
        else:
            a.end = a.start + int(a.planned)
        if job.deleted is not None and a.end > job.deleted:
            # Deleting a job cancels its active run.
            a.end, a.mode = job.deleted, _CANCELLED
            continue
        if a.mode is not None and a.mode.result_state in C.FAILURE_STATES and rng.random() < 0.3:
            rs = a.end + rng.randint(15 * 60, 3 * HOUR)
            rest = a.planned * rng.uniform(0.3, 0.7)
            if rs + rest <= min(w.end, job.deleted or w.end):
                r.attempts.append(Attempt(rs + 30, rs + 30 + int(rest), 30, None, -1, rest, None,
                                          a.node_type))  # fmt: skip
                out.repaired += 1
    for r in runs:
        last = r.attempts[-1]
        if last.end > w.end:
            out.in_progress.append((r.run_id, r.attempts[0].start))
            continue
        if r.trigger == "ONETIME":
            continue
        if r.late and last.mode is None:
            out.late_dates.append(w.day_of(last.end))
        if r.hung:
            out.hung.append((r.run_id, last.start, last.end))
        if last.mode is not None and last.mode.result_state in C.FAILURE_STATES:
            out.streak += 1
            out.last_mode, out.last_failure = last.mode, last.end
        else:  # a success or a cancellation ends a streak
            out.streak = 0


def _layers(job: JobSpec, sched: int) -> list[list[str]]:
    active = [
        t for t in job.tasks
        if (t.added is None or t.added <= sched) and (t.removed is None or sched < t.removed)
    ]  # fmt: skip
    layers: list[list[str]] = [[] for _ in job.layer_weights]
    for t in active:
        layers[t.layer].append(t.key)
    return layers


def _emit(job: JobSpec, w: Window, run: Run, batch: Batch, task_ids: Iterator[int]) -> None:
    layers = _layers(job, run.sched)
    ws, jid, end = job.ws.id, job.job_id, w.end
    job_rows, task_rows = batch.rows[JOB_RUNS], batch.rows[TASK_RUNS]
    for ai, att in enumerate(run.attempts):
        if att.first_layer < 0:  # repair: rerun from the layer that failed
            att.first_layer = run.attempts[ai - 1].failed_layer
        if job.compute == "job_cluster":
            att.cluster = cluster_id(job.rng, att.start - att.setup)
            _cluster_row(job, run, att, batch, w)
        elif job.compute == "all_purpose" and job.ap_cluster is not None:
            att.cluster = job.ap_cluster.cluster_id
        compute_ids = [att.cluster] if att.cluster else []
        finished = att.end <= end
        mode = att.mode
        state = mode.result_state if mode else "SUCCEEDED"
        code = mode.termination_code if mode else "SUCCESS"
        ttype = mode.termination_type if mode else "SUCCESS"
        slices = hour_slices(att.start, min(att.end, end))
        last = len(slices) - 1
        dur = att.end - att.start
        for i, (a, b) in enumerate(slices):
            if finished and i == last:
                job_rows.append((ws, jid, run.run_id, a, b, run.trigger, "JOB_RUN", run.name,
                                 compute_ids, state, code, ttype, att.setup, 0, dur + att.setup,
                                 0, dur))  # fmt: skip
            else:
                job_rows.append((ws, jid, run.run_id, a, b, run.trigger, "JOB_RUN", run.name,
                                 compute_ids, None, None, None, None, None, None, None, None))  # fmt: skip
        _task_rows(job, run, att, layers, task_rows, compute_ids, end, task_ids)
        if job.compute != "all_purpose":  # all-purpose usage is billed per cluster, not per run
            usage_rows(job, run.run_id, run.name, att, batch, w)


def _task_rows(
    job: JobSpec, run: Run, att: Attempt, layers: list[list[str]], rows: list[tuple],
    compute_ids: list[str], end: int, task_ids: Iterator[int],
) -> None:  # fmt: skip
    rng = job.rng
    todo = [li for li in range(att.first_layer, len(layers)) if layers[li]]
    weights = [job.layer_weights[li] for li in todo]
    total = sum(weights) or 1.0
    t = float(att.start)
    att.failed_layer = att.first_layer
    ws, jid, jrid = job.ws.id, job.job_id, run.run_id
    for li, wgt in zip(todo, weights, strict=True):
        ls, le = t, t + att.planned * wgt / total
        t = le
        if ls >= att.end or ls >= end:
            break
        failing_layer = att.mode is not None and le >= att.end
        if failing_layer:
            att.failed_layer = li
        for k, key in enumerate(layers[li]):
            te = le if k == 0 else ls + (le - ls) * rng.uniform(0.55, 1.0)
            fails = failing_layer and k == 0
            te = att.end if fails or te > att.end else te
            s_i, e_i = int(ls), int(te)
            if e_i <= s_i:
                e_i = s_i + 1
            task_id = str(next(task_ids))
            slices = hour_slices(s_i, min(e_i, end))
            lastk = len(slices) - 1
            done = e_i <= end
            if fails and att.mode is not None:
                st, code, tt = (att.mode.result_state, att.mode.termination_code,
                                att.mode.termination_type)  # fmt: skip
            else:
                st, code, tt = "SUCCEEDED", "SUCCESS", "SUCCESS"
            for i, (a, b) in enumerate(slices):
                if done and i == lastk:
                    rows.append((ws, jid, task_id, jrid, jrid, a, b, key, compute_ids, st, code,
                                 tt, att.setup if li == 0 else 0, 0, e_i - s_i))  # fmt: skip
                else:
                    rows.append((ws, jid, task_id, jrid, jrid, a, b, key, compute_ids, None, None,
                                 None, None, None, None))  # fmt: skip
        if failing_layer:
            break


def _cluster_row(job: JobSpec, run: Run, att: Attempt, batch: Batch, w: Window) -> None:
    created = att.start - att.setup
    finished = att.end <= w.end
    change = att.end if finished else created
    tags = {"team": job.team, "owner": job.owner, "JobId": job.job_id, "RunName": run.name}
    batch.rows[CLUSTERS].append((
        job.ws.id, att.cluster, f"job-{job.job_id}-run-{run.run_id}", job.run_as_name, created,
        att.end if finished else None, att.node_type, att.node_type, job.workers, None, None,
        0, True, tags, "JOB", _AZURE_SPOT, "15.4.x-scala2.12", change, change // DAY,
        "SINGLE_USER",
    ))  # fmt: skip


_AZURE_SPOT = {"availability": "SPOT_WITH_FALLBACK_AZURE", "first_on_demand": 1,
               "spot_bid_max_price": -1.0}  # fmt: skip
