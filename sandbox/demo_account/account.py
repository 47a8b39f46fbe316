"""`generate`: build the whole demo account and write it, batch by batch, through the warehouse
writer (this package never touches DuckDB itself), then return the story it tells."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from datetime import UTC, datetime

from bot.clock import as_utc
from bot.errors import UserError
from bot.warehouse.loader import replacing_writer
from sandbox.demo_account import catalog as C
from sandbox.demo_account import story as S
from sandbox.demo_account.billing import price_rows
from sandbox.demo_account.compute import all_purpose, static_rows
from sandbox.demo_account.jobs import job_rows
from sandbox.demo_account.plan import (
    DAY,
    ApCluster,
    JobSpec,
    Window,
    make_ap_clusters,
    make_job,
    make_workspaces,
    rand_uuid,
)
from sandbox.demo_account.rows import Batch
from sandbox.demo_account.runs import SPIKE_DURATION, SPIKE_NODE, Outcome, simulate

FLUSH_ROWS = 250_000
Progress = Callable[[int, int], None]  # (jobs done, jobs total)


def _validate(jobs: int, days: int, workspaces: int) -> None:
    if not 1 <= jobs <= 200_000:
        raise UserError(f"--jobs must be between 1 and 200000, not {jobs}")
    if not 1 <= days <= 400:
        raise UserError(f"--days must be between 1 and 400, not {days}")
    if not 1 <= workspaces <= 50:
        raise UserError(f"--workspaces must be between 1 and 50, not {workspaces}")


def _window(end: datetime | None, days: int) -> Window:
    at = as_utc(end) if end is not None else datetime.now(UTC)
    stop = int(at.replace(second=0, microsecond=0).timestamp())
    return Window(start=stop - stop % DAY - days * DAY, end=stop, days=days)


def _plan(jobs: int, workspaces: list, w: Window, seed: int,
          ap: dict[int, ApCluster]) -> list[JobSpec]:  # fmt: skip
    n_ws = len(workspaces)
    per_ws = [jobs // n_ws + (1 if i < jobs % n_ws else 0) for i in range(n_ws)]
    slots: list[list[C.WellKnown | None]] = [[None] * n for n in per_ws]
    for wk in C.WELL_KNOWN:
        for k in range(n_ws):  # preferred workspace first, then any with room
            wi = (wk.ws + k) % n_ws
            if None in slots[wi]:
                slots[wi][slots[wi].index(None)] = wk
                break
    specs = []
    for wi, ws in enumerate(workspaces):
        used: set[str] = set()
        for local, wk in enumerate(slots[wi]):
            specs.append(make_job(ws, local, seed, w, wk, used, ap.get(wi)))
    _share_ids(specs, n_ws, jobs, seed)
    # Scale the story with the account: more failure streaks and late jobs in bigger accounts.
    rng = random.Random(f"{seed}/roles")
    plain = [j for j in specs if not j.well_known and not j.role and j.kind != "continuous"]
    rng.shuffle(plain)
    n_streak = max(0, (jobs - len(C.WELL_KNOWN)) // 80)
    failing = [m for m in C.FAILURE_MODES if m.result_state in C.FAILURE_STATES]
    for j in plain[:n_streak]:
        m = rng.choice(failing)
        j.role, j.streak = "streak", (m.result_state, m.termination_code, rng.randint(1, 4))
    for j in [j for j in plain[n_streak:] if j.kind == "daily"][: jobs // 100]:
        j.role, j.sigma = "late", min(j.sigma, 0.1)
        j.late_days = frozenset(rng.sample(range(max(1, w.days - 1)), min(2, max(1, w.days - 1))))
    if w.days >= 6:  # a few runs that hung for most of a day until someone cancelled them
        idle = [j for j in plain[n_streak:] if j.kind == "daily" and not j.role]
        for j in idle[: max(1, jobs // 60)]:
            j.role, j.hung_day = "hung", rng.randint(w.days // 4, w.days // 2)
    return specs


def _share_ids(specs: list[JobSpec], n_ws: int, jobs: int, seed: int) -> None:
    """Job ids are unique only within a workspace: a few jobs (1 + jobs // 40) get the id of a
    different job in another workspace, nightly_sales's first, so `/jobs status <id>` has an id
    to be ambiguous about. Every other id is used in one workspace only."""
    if n_ws < 2:
        return
    rng = random.Random(f"{seed}/shared-ids")
    takers = [j for j in specs if j.ws.index > 0 and not j.well_known]
    rng.shuffle(takers)
    anchor = next((j for j in specs if j.name == C.WELL_KNOWN[0].name), None)
    taken: set[int] = set()  # id() of the jobs that took an id, and of those that gave one
    given: set[int] = set()
    for taker in takers[: 1 + jobs // 40]:
        for _ in range(20):
            giver = anchor if anchor is not None and not given else rng.choice(specs)
            if (giver.ws.index != taker.ws.index and id(giver) not in taken
                    and id(giver) not in given and id(taker) not in given):  # fmt: skip
                taker.job_id = giver.job_id
                taken.add(id(taker))
                given.add(id(giver))
                break


def generate(
    db_path: str | None, *, jobs: int = 60, days: int = 30, workspaces: int = 3, seed: int = 7,
    end: datetime | None = None, progress: Progress | None = None,
) -> S.DemoStory:  # fmt: skip
    """Replace the system tables in ``db_path`` with a generated demo account."""
    _validate(jobs, days, workspaces)
    w = _window(end, days)
    rng = random.Random(seed)
    account_id = rand_uuid(rng)
    wss = make_workspaces(rng, workspaces, w)
    n_ap = min(12, 2 + jobs // (100 * workspaces))
    clusters = [c for ws in wss for c in make_ap_clusters(ws, n_ap + 1, w, seed)]
    last_ws = [c for c in clusters if c.ws.index == wss[-1].index]
    if len(last_ws) >= 3:  # one all-purpose cluster gets deleted during the period
        last_ws[2].deleted = w.start + int(w.days * DAY * 0.7)
    ap_for_jobs = {c.ws.index: c for c in clusters if c.pattern == "always_on"}
    specs = _plan(jobs, wss, w, seed, ap_for_jobs)
    for j in specs:
        if j.role == "late" and j.well_known:
            j.sigma = 0.06  # usually done by ~05:30; only the late days stand out
    # Millions of short-lived tuples and dicts, none in reference cycles: the cyclic collector
    # would rescan everything alive on each full pass (a third of the run time at benchmark
    # scale, growing as it goes), so it is paused while we generate.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(seed, w, wss, clusters, specs, jobs, account_id, db_path, progress)
    finally:
        if gc_was_enabled:
            gc.enable()


def _generate(seed, w, wss, clusters, specs, jobs, account_id, db_path, progress) -> S.DemoStory:  # noqa: ANN001
    batch = Batch(account_id)
    outcomes: list[tuple[JobSpec, Outcome]] = []
    with replacing_writer(db_path) as writer:
        static_rows(batch, wss)
        change = price_rows(batch, w)
        all_purpose(clusters, batch, w, seed, jobs)
        for i, job in enumerate(specs, start=1):
            job_rows(job, batch)
            out = simulate(job, w, batch)
            out.runs = []  # keep memory flat at benchmark scale
            outcomes.append((job, out))
            if batch.size >= FLUSH_ROWS:
                batch.flush(writer)
                if progress is not None:
                    progress(i, len(specs))
        batch.flush(writer)
        if progress is not None:
            progress(len(specs), len(specs))
        rows = dict(writer.rows)
    return _story(seed, w, wss, specs, outcomes, clusters, change, batch.corrections, rows)


def _dt(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _story(seed, w, wss, specs, outcomes, clusters, change, corrections, rows) -> S.DemoStory:  # noqa: ANN001
    def ref(j: JobSpec) -> S.JobRef:
        return S.JobRef(j.ws.id, j.job_id, j.name)

    failing_specs = [
        (j, o) for j, o in outcomes
        if o.streak and o.last_mode is not None and o.last_failure is not None and not j.deleted
    ]  # fmt: skip
    # Well-known jobs first: they are the ones a demo talks about.
    failing_specs.sort(key=lambda p: (not p[0].well_known, p[0].streak is None, -p[1].streak,
                                      p[0].name, p[0].ws.index))  # fmt: skip
    failing = [
        S.FailingJob(ref(j), o.streak, o.last_mode.result_state, o.last_mode.termination_code,
                     o.last_mode.message, _dt(o.last_failure), j.streak is not None)
        for j, o in failing_specs
    ]  # fmt: skip
    late = [
        S.LateJob(ref(j), _usual_end(j), tuple(_dt(w.start + d * DAY).date() for d in o.late_dates))
        for j, o in outcomes
        if j.role == "late" and o.late_dates
    ]
    spike = next(((j, o) for j, o in outcomes if o.spike_day is not None), None)
    cost_spike = None
    if spike is not None:
        j, o = spike
        cost_spike = S.CostSpike(
            ref(j), _dt(w.start + o.spike_day * DAY).date(), j.node_type, SPIKE_NODE,
            SPIKE_DURATION, C.NODE[SPIKE_NODE].dbu_per_hour / C.NODE[j.node_type].dbu_per_hour,
        )  # fmt: skip
    ids: dict[str, set[str]] = {}
    for j in specs:
        ids.setdefault(j.job_id, set()).add(j.ws.id)
    return S.DemoStory(
        seed=seed, start=_dt(w.start), end=_dt(w.end),
        workspaces=tuple(S.DemoWorkspace(x.id, x.name, x.url) for x in wss), jobs=len(specs),
        failing=tuple(failing), late=tuple(late), cost_spike=cost_spike,
        in_progress=tuple(S.InProgressRun(ref(j), rid, _dt(st))
                          for j, o in outcomes for rid, st in o.in_progress),
        hung=tuple(S.HungRun(ref(j), rid, _dt(st), _dt(en))
                   for j, o in outcomes for rid, st, en in o.hung),
        all_purpose_jobs=tuple(ref(j) for j in specs if j.compute == "all_purpose"),
        idle_clusters=tuple(S.IdleCluster(c.ws.id, c.cluster_id, c.name)
                            for c in clusters if c.pattern == "idle" and c.timeline),
        renamed=tuple((ref(j), j.old_name) for j in specs if j.renamed is not None),
        deleted=tuple(ref(j) for j in specs if j.deleted is not None),
        paused=tuple(ref(j) for j in specs if j.paused is not None),
        shared_job_ids=tuple(sorted(k for k, v in ids.items() if len(v) > 1)[:5]),
        price_change=_dt(change), repaired_runs=sum(o.repaired for _, o in outcomes),
        corrections=corrections, rows=tuple(sorted(rows.items())),
    )  # fmt: skip


def _usual_end(j: JobSpec) -> str:
    """A deadline-style "HH:MM" a little after the job's usual finish, rounded up to 5 minutes."""
    setup = 420 if j.compute == "job_cluster" else 45
    usual = j.hour * 3600 + j.minute * 60 + setup + j.median_s * 1.15
    minutes = int(-(-usual // 300) * 5) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
