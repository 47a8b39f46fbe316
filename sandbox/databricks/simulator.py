"""Simulator: makes time move in a `World`. Jobs start on their Quartz schedules, their tasks
run for durations drawn from each job's profile and end in success, failure or a retry (a
flaky task fails twice and succeeds on its third attempt), and runs started or repaired
through the Jobs API are driven to an end too. The system tables follow through a `Ledger`,
later, as on Databricks.

Time is an ordered queue of events processed by `advance_to(t)` / `step(dt)`, on whatever
clock the world reads: tests hand both a `FixedClock` and drive it synchronously (a simulated
day takes about a second); `jobs-bot demo` uses `Runner`, a thread that advances to the real
time every tick.

Usage::

    clock = FixedClock(start)
    world = World(clock)
    account = from_warehouse(con)              # or a SimAccount built by hand
    sim = Simulator(world, account, DuckDBSink(con), clock=clock, seed=7)
    sim.step(timedelta(hours=6))               # six hours of account time, at once
    runner = Runner(sim).start()               # real time instead (the world on SystemClock)
    sim.kick("customer_360_build")             # starts in 5 s and fails 30 s later
    runner.stop()
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.clock import Clock
from sandbox.databricks.cron import QuartzSchedule
from sandbox.databricks.model import Run, TaskAttempt
from sandbox.databricks.simulator_catalog import SimAccount, SimJob, install
from sandbox.databricks.simulator_rows import Ledger
from sandbox.databricks.sink import Sink
from sandbox.databricks.world import World

log = logging.getLogger(__name__)

# At one instant, task ends go first (a run ending at 10:00 frees its slot for the 10:00
# schedule), then schedule fires.
_END, _FIRE, _KICK, _RESTART = 0, 1, 2, 3
_EARLY_CODES = ("CLUSTER_ERROR", "LIBRARY_INSTALLATION_ERROR")  # fail seconds into a task


@dataclass
class _Plan:
    """What one run is going to do, decided once when it is first seen."""

    fail_task: str | None = None
    mode: tuple[str, str, str, str, int] | None = None
    flaky: bool = False  # the job's flaky task needs its two retries this time
    forced_s: float | None = None  # a kicked run: every task takes this long


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class Simulator:
    def __init__(
        self,
        world: World,
        account: SimAccount,
        sink: Sink,
        *,
        clock: Clock,
        seed: int = 7,
        timeline_lag: timedelta = timedelta(minutes=5),
        billing_lag: timedelta = timedelta(hours=1),
        repair_success: float = 0.8,
        install_jobs: bool = True,
    ) -> None:
        """The world and the simulator share `clock`; when it has `set` (FixedClock), the
        simulator moves it to each event, so API calls in between see simulated time."""
        self.world = world
        self.account = account
        self.clock = clock
        self.seed = seed
        self.repair_success = repair_success
        self.ledger = Ledger(
            sink,
            account,
            seed=seed,
            timeline_lag_s=int(timeline_lag.total_seconds()),
            billing_lag_s=int(billing_lag.total_seconds()),
        )
        if install_jobs:
            install(world, account)
        self.now = clock.now().astimezone(UTC)
        self._lock = threading.RLock()
        self._events: list[tuple[int, int, int, tuple[int, ...]]] = []
        self._seq = itertools.count()
        self._planned: set[tuple[int, int]] = set()  # (workspace, task attempt run_id)
        self._plans: dict[tuple[int, int], _Plan] = {}
        self._schedules: dict[tuple[int, int], QuartzSchedule] = {}
        for job in account.jobs:
            if job.continuous:
                self._push(_ms(self.now) + self._rng("cont", job.job_id).randint(0, 600_000),
                           _RESTART, (job.workspace_id, job.job_id))  # fmt: skip
            elif job.cron:
                self._schedules[(job.workspace_id, job.job_id)] = QuartzSchedule(
                    job.cron, job.timezone
                )
                self._next_fire(job.workspace_id, job.job_id, self.now)

    # -- driving time --------------------------------------------------------------------------
    def advance_to(self, t: datetime) -> int:
        """Process every event due by `t`, in time order, then write what the system tables
        show at `t`. Returns the number of events processed."""
        target = _ms(t.astimezone(UTC))
        done = 0
        with self._lock:
            self._adopt()  # runs started or repaired through the API since the last call
            while self._events and self._events[0][0] <= target:
                at, kind, _, data = heapq.heappop(self._events)
                self._move(at)
                self._handle(kind, data, at)
                done += 1
            self._move(max(target, _ms(self.now)))
            self._adopt()
            self.ledger.flush(self.world, target // 1000)
        return done

    def step(self, dt: timedelta) -> int:
        return self.advance_to(self.now + dt)

    def next_event(self) -> datetime | None:
        with self._lock:
            return _dt(self._events[0][0]) if self._events else None

    def kick(
        self,
        name: str | None = None,
        *,
        after: timedelta = timedelta(seconds=5),
        fail_after: timedelta = timedelta(seconds=30),
    ) -> SimJob:
        """Start a run of a job (default: the first job that is failing) `after` from now and
        make it fail `fail_after` later: something to see in a demo's first minute."""
        with self._lock:
            job = self._pick_failing() if name is None else self.account.named(name)
            fail_ms = int(fail_after.total_seconds() * 1000)
            self._push(_ms(self.now + after), _KICK, (job.workspace_id, job.job_id, fail_ms))
            return job

    # -- events --------------------------------------------------------------------------------
    def _push(self, at: int, kind: int, data: tuple[int, ...]) -> None:
        heapq.heappush(self._events, (at, kind, next(self._seq), data))

    def _move(self, at: int) -> None:
        self.now = _dt(at)
        setter: Callable[[datetime], None] | None = getattr(self.clock, "set", None)
        if setter is not None:
            setter(self.now)

    def _handle(self, kind: int, data: tuple[int, ...], at: int) -> None:
        if kind == _END:
            self._end_task(data[0], data[1], data[2], at)
        elif kind == _FIRE:
            self._fire(data[0], data[1], at)
        elif kind == _KICK:
            job = self._job_of(data[0], data[1])
            first = job.tasks[0].key
            self._start(
                data[0],
                data[1],
                "ONE_TIME",
                at,
                _Plan(first, job.modes[0], forced_s=data[2] / 1000),
            )
        elif kind == _RESTART:
            self._start(data[0], data[1], "CONTINUOUS", at)

    def _next_fire(self, ws_id: int, job_id: int, after: datetime) -> None:
        fire = self._schedules[(ws_id, job_id)].next_after(after)
        if fire is not None:
            self._push(_ms(fire), _FIRE, (ws_id, job_id))

    def _fire(self, ws_id: int, job_id: int, at: int) -> None:
        self._next_fire(ws_id, job_id, _dt(at))
        with self.world.lock:
            job = self.world.workspace(ws_id).jobs.get(job_id)
            # Read the live schedule: a pause (or a deleted job) through the API counts.
            if job is None or job.schedule is None or job.schedule["pause_status"] == "PAUSED":
                return
        self._start(ws_id, job_id, "PERIODIC", at)

    def _start(
        self, ws_id: int, job_id: int, trigger: str, at: int, plan: _Plan | None = None
    ) -> Run | None:
        with self.world.lock:
            if job_id not in self.world.workspace(ws_id).jobs:
                return None
            run = self.world.start_run(ws_id, job_id, trigger, at=_dt(at))
            if plan is not None:
                self._plans[(ws_id, run.run_id)] = plan
        self.ledger.track(run)
        self._reconcile(run)
        return run

    def _adopt(self) -> None:
        """Take on every active run: new ones from run-now, repaired ones, promoted ones."""
        with self.world.lock:
            active: list[Run] = []
            for ws in self.world.workspaces.values():
                page, _, _ = ws.runs.page(
                    job_id=None, active_only=True, completed_only=False, start_from=None,
                    start_to=None, run_type=None, after=None, before=None, limit=1_000_000,
                )  # fmt: skip
                active.extend(page)
        for run in active:
            self.ledger.track(run)
            self._reconcile(run)

    def _reconcile(self, run: Run) -> None:
        """Give every running task attempt nobody has planned yet its end event."""
        with self.world.lock:
            fresh = [
                a for a in run.latest()
                if a.state == "RUNNING" and (run.workspace_id, a.run_id) not in self._planned
            ]  # fmt: skip
            for att in fresh:
                self._planned.add((run.workspace_id, att.run_id))
                secs = self._duration(run, att)
                begin = max(att.start_time, _ms(self.now))
                self._push(begin + int(secs * 1000), _END,
                           (run.workspace_id, run.run_id, att.run_id))  # fmt: skip

    # -- decisions -----------------------------------------------------------------------------
    def _rng(self, *parts: object) -> random.Random:
        return random.Random("/".join(map(str, (self.seed, *parts))))

    def _job(self, run: Run) -> SimJob:
        return self._job_of(run.workspace_id, run.job_id, run.run_name)

    def _job_of(self, ws_id: int, job_id: int, name: str = "") -> SimJob:
        found = self.account.job(ws_id, job_id)
        if found is not None:
            return found
        # A job created through the API or a test: a plain profile that always succeeds.
        return SimJob(ws_id, job_id, name, fail_rate=0.0)

    def _plan(self, run: Run) -> _Plan:
        key = (run.workspace_id, run.run_id)
        if key not in self._plans:
            job = self._job(run)
            rng = self._rng("run", run.workspace_id, run.run_id)
            plan = _Plan(flaky=any(t.flaky for t in job.tasks) and rng.random() < job.flaky_rate)
            if rng.random() < job.fail_rate:
                plan.fail_task = rng.choice(list(run.tasks))
                plan.mode = rng.choices(job.modes, [m[4] for m in job.modes])[0]
            self._plans[key] = plan
        return self._plans[key]

    def _duration(self, run: Run, att: TaskAttempt) -> float:
        plan, job = self._plan(run), self._job(run)
        if plan.forced_s is not None:
            return plan.forced_s if att.task_key == plan.fail_task else plan.forced_s * 0.6
        rng = self._rng("dur", run.workspace_id, att.run_id)
        secs = job.median_s / job.layers * math.exp(job.sigma * rng.gauss(0, 1))
        if att.repair_id is None and att.task_key == plan.fail_task and plan.mode is not None:
            early = plan.mode[1] in _EARLY_CODES
            secs *= rng.uniform(0.01, 0.05) if early else rng.uniform(0.2, 0.95)
        if self._flaky_failure(run, att):
            secs *= rng.uniform(0.1, 0.3)
        return max(5.0, secs)

    def _flaky_failure(self, run: Run, att: TaskAttempt) -> bool:
        job = self._job(run)
        flaky = any(t.key == att.task_key and t.flaky for t in job.tasks)
        return flaky and self._plan(run).flaky and att.repair_id is None and att.attempt_number < 2

    def _end_task(self, ws_id: int, run_id: int, attempt_id: int, at: int) -> None:
        with self.world.lock:
            run = self.world.run(ws_id, run_id)
            att = run.tasks.get(self._task_key(run, attempt_id), [None])[-1]
            if att is None or att.run_id != attempt_id or att.state != "RUNNING":
                return  # cancelled, or superseded through the API meanwhile
            plan = self._plan(run)
            when = _dt(at)
            if self._flaky_failure(run, att):
                self.world.set_task_outcome(
                    ws_id, run_id, att.task_key, "FAILED",
                    "ConnectionResetError: [Errno 104] Connection reset by peer",
                    retry=True, at=when,
                )  # fmt: skip
            elif self._fails(run, att, plan):
                mode = plan.mode or self._job(run).modes[0]
                result = {"TIMED_OUT": "TIMEDOUT"}.get(mode[0], "FAILED")
                others = [a for a in run.latest() if a.state == "RUNNING" and a is not att]
                if others:
                    self.world.set_task_outcome(
                        ws_id, run_id, att.task_key, result, mode[3], code=mode[1],
                        type=mode[2], error=mode[3], at=when,
                    )  # fmt: skip
                else:
                    # The only task still going: end the run with the task's own termination
                    # details (the world would derive a generic RUN_EXECUTION_ERROR).
                    self.world.finish_run(
                        ws_id, run_id, result, mode[3], code=mode[1], type=mode[2], at=when
                    )
            else:
                self.world.set_task_outcome(ws_id, run_id, att.task_key, "SUCCESS", at=when)
            job_runs = [r for r in self._active_of(ws_id, run.job_id)]
        for r in [run, *job_runs]:  # the run's next tasks, or a queued run now promoted
            self._reconcile(r)
        if not run.active:
            job = self.account.job(ws_id, run.job_id)
            if job is not None and job.continuous and run.trigger == "CONTINUOUS":
                gap = self._rng("gap", ws_id, run_id).randint(120, 600)
                self._push(at + gap * 1000, _RESTART, (ws_id, run.job_id))

    def _fails(self, run: Run, att: TaskAttempt, plan: _Plan) -> bool:
        if att.repair_id is not None:
            rng = self._rng("repair", run.workspace_id, att.run_id)
            return rng.random() >= self.repair_success
        return att.task_key == plan.fail_task and plan.mode is not None

    @staticmethod
    def _task_key(run: Run, attempt_id: int) -> str:
        for key, attempts in run.tasks.items():
            if any(a.run_id == attempt_id for a in attempts):
                return key
        return ""

    def _active_of(self, ws_id: int, job_id: int) -> list[Run]:
        page, _, _ = self.world.workspace(ws_id).runs.page(
            job_id=None, active_only=True, completed_only=False, start_from=None,
            start_to=None, run_type=None, after=None, before=None, limit=1_000_000,
        )  # fmt: skip
        return [r for r in page if r.job_id == job_id]

    def _pick_failing(self) -> SimJob:
        ranked = sorted(
            (j for j in self.account.jobs if not j.continuous),
            key=lambda j: (-j.fail_rate, j.workspace_id, j.job_id),
        )
        if not ranked:
            raise ValueError("the account has no job to kick")
        return ranked[0]


class Runner:
    """Advances a simulator to its clock's time every `tick` on a daemon thread (`jobs-bot
    demo`); the world and the simulator then share a real-time clock."""

    def __init__(self, sim: Simulator, *, tick: float = 1.0) -> None:
        self.sim = sim
        self.tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    def start(self) -> Runner:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="databricks-simulator",
                                            daemon=True)  # fmt: skip
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self.sim.advance_to(self.sim.clock.now())
            except Exception:
                self.errors += 1
                log.exception("simulator tick failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Runner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
