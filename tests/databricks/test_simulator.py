"""The simulator's invariants over simulated days: cron times (with DST), task retries, the
Jobs API (through the real SDK) and the system tables agreeing after the lag and never
before it, billing following the runs, repairs through the SDK, determinism, the runner."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config

from bot.clock import FixedClock
from bot.warehouse.duckdb_backend import open_db
from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.cron import QuartzSchedule
from sandbox.databricks.simulator import Runner, Simulator
from sandbox.databricks.simulator_catalog import SimAccount, SimJob, SimTask, SimWorkspace
from sandbox.databricks.sink import DuckDBSink, MemorySink
from sandbox.demo_account import generate

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WS = 1_234_567_890_123_456
LAG = timedelta(minutes=5)
BILLING_LAG = timedelta(hours=1)
FAILED = ("FAILED", "ERROR", "TIMED_OUT")


def _account(*jobs: SimJob) -> SimAccount:
    return SimAccount("acct-1", (SimWorkspace(WS, "analytics"),), jobs)


def _sim(account: SimAccount, start: datetime, seed: int = 7) -> tuple[Simulator, MemorySink]:
    clock = FixedClock(start)
    sink = MemorySink()
    return Simulator(World(clock), account, sink, clock=clock, seed=seed), sink


def _runs(sim: Simulator) -> list[Any]:
    return sorted(sim.world.workspace(WS).runs.runs.values(), key=lambda r: r.start_time)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


# -- schedules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 5 * * * ?", "2026-03-02T09:06:00", ["2026-03-02T10:05:00", "2026-03-02T11:05:00"]),
        # Quartz weekday 2 is Monday (1 is Sunday); 0/20 means from 0 every 20.
        ("0 0/20 9 ? * 2", "2026-03-02T09:10:00", ["2026-03-02T09:20:00", "2026-03-02T09:40:00"]),
        (
            "0 0 6 ? * MON-FRI",
            "2026-03-06T07:00:00",
            ["2026-03-09T06:00:00", "2026-03-10T06:00:00"],
        ),
        ("30 15 4 1 * ?", "2026-03-02T00:00:00", ["2026-04-01T04:15:30", "2026-05-01T04:15:30"]),
    ],
)
def test_quartz_expressions(expression: str, after: str, expected: list[str]) -> None:
    sched = QuartzSchedule(expression)
    t = datetime.fromisoformat(after).replace(tzinfo=UTC)
    got = []
    for _ in expected:
        nxt = sched.next_after(t)
        assert nxt is not None
        got.append(nxt.replace(tzinfo=None).isoformat())
        t = nxt
    assert got == expected


def test_quartz_refuses_what_it_cannot_translate() -> None:
    with pytest.raises(ValueError, match="not supported"):
        QuartzSchedule("0 0 2 L * ?")
    with pytest.raises(ValueError, match="6 or 7 fields"):
        QuartzSchedule("0 2 * * *")


def test_autumn_fold_fires_once() -> None:
    sched = QuartzSchedule("0 30 2 * * ?", "Europe/Amsterdam")
    t, got = datetime(2026, 10, 24, 0, tzinfo=UTC), []
    for _ in range(3):
        nxt = sched.next_after(t)
        assert nxt is not None
        got.append(nxt)
        t = nxt
    assert [g.astimezone(ZoneInfo("Europe/Amsterdam")).hour for g in got] == [2, 2, 2]
    assert [g.day for g in got] == [24, 25, 26]


def test_job_runs_at_0200_amsterdam_across_the_spring_dst_change() -> None:
    job = SimJob(WS, 42, "nightly_ams", cron="0 0 2 * * ?", timezone="Europe/Amsterdam",
                 median_s=600, fail_rate=0.0)  # fmt: skip
    sim, _ = _sim(_account(job), datetime(2026, 3, 27, 12, tzinfo=UTC))
    sim.step(timedelta(days=4))
    starts = [_utc(r.start_time) for r in _runs(sim)]
    local = [s.astimezone(ZoneInfo("Europe/Amsterdam")) for s in starts]
    assert [(s.day, s.hour, s.minute) for s in local] == [(28, 2, 0), (29, 3, 0), (30, 2, 0),
                                                          (31, 2, 0)]  # fmt: skip
    # 02:00 does not exist on 29 March: Quartz fires at the shifted instant, 01:00 UTC.
    assert [s.hour for s in starts] == [1, 1, 0, 0]
    assert all(r.trigger == "PERIODIC" and r.outcome.result_state == "SUCCESS" for r in _runs(sim))


def test_paused_job_does_not_run() -> None:
    job = SimJob(WS, 7, "paused_one", cron="0 0 * * * ?", paused=True)
    sim, _ = _sim(_account(job), T0)
    sim.step(timedelta(hours=5))
    assert _runs(sim) == []


# -- retries -----------------------------------------------------------------------------------


def test_flaky_task_fails_twice_then_succeeds_on_attempt_3() -> None:
    tasks = (SimTask("extract"), SimTask("load", ("extract",), flaky=True), SimTask("report", ("load",)))  # fmt: skip
    job = SimJob(WS, 9, "flaky_load", tasks, cron="0 0 * * * ?", median_s=900, fail_rate=0.0,
                 flaky_rate=1.0)  # fmt: skip
    sim, sink = _sim(_account(job), T0)
    sim.step(timedelta(hours=3, minutes=30))
    runs = [r for r in _runs(sim) if not r.active]
    assert len(runs) == 3
    for run in runs:
        attempts = run.tasks["load"]
        assert [a.attempt_number for a in attempts] == [0, 1, 2]
        assert [a.outcome.result_state for a in attempts] == ["FAILED", "FAILED", "SUCCESS"]
        assert {a.original_attempt_run_id for a in attempts} == {attempts[0].run_id}
        assert run.tasks["report"][-1].outcome.result_state == "SUCCESS"
        assert run.outcome.result_state == "SUCCESS"
    task_rows = [r for r in sink.tables["system.lakeflow.job_task_run_timeline"]
                 if r.get("result_state") and r["task_key"] == "load"]  # fmt: skip
    first = runs[0]
    mine = [r["result_state"] for r in task_rows if r["job_run_id"] == str(first.run_id)]
    assert mine == ["FAILED", "FAILED", "SUCCEEDED"]


def test_same_seed_same_runs() -> None:
    jobs = (
        SimJob(WS, 1, "a", (SimTask("x"), SimTask("y", ("x",), flaky=True)), cron="0 10 * * * ?",
               fail_rate=0.3, flaky_rate=0.5),
        SimJob(WS, 2, "b", cron="0 0/30 * * * ?", median_s=2400, sigma=0.5, fail_rate=0.2),
    )  # fmt: skip

    def trace(seed: int) -> list[Any]:
        sim, sink = _sim(_account(*jobs), T0, seed)
        sim.step(timedelta(hours=12))
        runs = [(r.job_id, r.run_id, r.start_time, r.end_time, r.state,
                 r.outcome and r.outcome.result_state,
                 [(a.task_key, a.attempt_number, a.end_time) for a in
                  sum(r.tasks.values(), [])]) for r in _runs(sim)]  # fmt: skip
        return [*runs, len(sink.tables["system.lakeflow.job_run_timeline"])]

    assert trace(7) == trace(7)
    assert trace(7) != trace(8)


# -- the demo account: API and system tables ---------------------------------------------------


@dataclass
class Demo:
    sim: Simulator
    con: duckdb.DuckDBPyConnection
    server: LocalDatabricks
    clients: dict[int, WorkspaceClient]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    path = str(Path(tmp_path_factory.mktemp("sim")) / "demo.duckdb")
    generate(path, jobs=10, days=2, workspaces=2, seed=7, end=T0)
    con = open_db(path)
    from sandbox.databricks.simulator_catalog import from_warehouse

    clock = FixedClock(T0)
    world = World(clock)
    sim = Simulator(world, from_warehouse(con, seed=7), DuckDBSink(con), clock=clock, seed=7,
                    timeline_lag=LAG, billing_lag=BILLING_LAG)  # fmt: skip
    server = LocalDatabricks(world)
    server.start()
    clients = {
        ws: WorkspaceClient(config=Config(retry_timeout_seconds=5, **_kwargs(server, ws)))
        for ws in world.workspaces
    }
    try:
        yield Demo(sim, con, server, clients)
    finally:
        server.stop()
        con.close()


def _kwargs(server: LocalDatabricks, ws: int) -> dict[str, Any]:
    return dict(server.sdk_kwargs(ws))


def _sql(con: duckdb.DuckDBPyConnection, query: str, *params: Any) -> list[tuple[Any, ...]]:
    cur = con.cursor()
    try:
        return cur.execute(query, list(params)).fetchall()
    finally:
        cur.close()


def _api_state(run: Any) -> str:
    """The API's outcome in the system tables' spelling."""
    result = run.state.result_state.value
    code = run.status.termination_details.code.value if run.status.termination_details else ""
    if result == "SUCCESS":
        return "SUCCEEDED"
    if result == "TIMEDOUT":
        return "TIMED_OUT"
    if result == "CANCELED":
        return "CANCELLED"
    return "ERROR" if code in ("CLUSTER_ERROR", "DRIVER_ERROR", "INTERNAL_ERROR") else result


def test_demo_jobs_are_the_warehouse_jobs(demo: Demo) -> None:
    wh = {(int(w), int(j), n) for w, j, n in _sql(demo.con, """
        SELECT workspace_id, job_id, name FROM lakeflow.jobs WHERE delete_time IS NULL
        QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1
        """)}  # fmt: skip
    api = {(ws, j.job_id, j.settings and j.settings.name) for ws, w in demo.clients.items()
           for j in w.jobs.list()}  # fmt: skip
    assert api == wh and len(api) >= 8


def test_a_day_api_and_tables_agree_after_the_lag_never_before(demo: Demo) -> None:
    sim, con = demo.sim, demo.con
    end = T0 + timedelta(days=1)
    while sim.now < end:
        sim.step(timedelta(minutes=20))
        now = sim.now.replace(tzinfo=None)
        # Nothing new is visible before its slice closed plus the lag.
        early = _sql(con, """SELECT count(*) FROM lakeflow.job_run_timeline
                             WHERE period_start_time >= ? AND period_end_time > ?""",
                     T0.replace(tzinfo=None), now - LAG)  # fmt: skip
        assert early == [(0,)]
        late_bill = _sql(con, """SELECT count(*) FROM billing.usage WHERE usage_start_time >= ?
                                 AND usage_end_time > ?""",
                         T0.replace(tzinfo=None), now - BILLING_LAG)  # fmt: skip
        assert late_bill == [(0,)]
    cutoff = sim.now - LAG
    api: set[tuple[int, int, int, str]] = set()
    for ws, w in demo.clients.items():
        for r in w.jobs.list_runs(completed_only=True, start_time_from=int(T0.timestamp() * 1000)):
            assert r.end_time is not None
            if _utc(r.end_time) <= cutoff:
                api.add((ws, r.job_id or 0, r.run_id or 0, _api_state(r)))
    tables = {(int(w), int(j), int(r), s) for w, j, r, s in _sql(con, """
        SELECT workspace_id, job_id, run_id, result_state FROM lakeflow.job_run_timeline
        WHERE result_state IS NOT NULL AND period_end_time > ?""", T0.replace(tzinfo=None))}  # fmt: skip
    assert api == tables
    assert len(api) > 20
    assert any(s in FAILED for *_, s in api) and any(s == "SUCCEEDED" for *_, s in api)
    # Each finished attempt of a task is one terminal task row, retries included.
    tasks = _sql(con, """SELECT count(*) FROM lakeflow.job_task_run_timeline
                         WHERE result_state IS NOT NULL AND period_end_time > ?""",
                 T0.replace(tzinfo=None))[0][0]  # fmt: skip
    assert tasks >= len(api)


def test_billing_follows_the_runs_and_prices(demo: Demo) -> None:
    sim, con = demo.sim, demo.con
    if sim.now < T0 + timedelta(days=1):
        sim.advance_to(T0 + timedelta(days=1))
    billed_by = (sim.now - BILLING_LAG).replace(tzinfo=None)
    finished = _sql(con, """
        SELECT t.workspace_id, t.run_id FROM lakeflow.job_run_timeline t
        JOIN (SELECT DISTINCT workspace_id, usage_metadata.job_id AS job_id FROM billing.usage
              WHERE usage_start_time < ?) b
          ON b.workspace_id = t.workspace_id AND b.job_id = t.job_id
        WHERE t.result_state IS NOT NULL AND t.period_start_time >= ?
          AND date_trunc('hour', t.period_end_time) + INTERVAL 1 HOUR <= ?
        """, T0.replace(tzinfo=None), T0.replace(tzinfo=None), billed_by)  # fmt: skip
    assert len(finished) > 10
    billed = set(_sql(con, """SELECT workspace_id, usage_metadata.job_run_id FROM billing.usage
                              WHERE usage_start_time >= ?""", T0.replace(tzinfo=None)))  # fmt: skip
    assert set(finished) <= billed
    unpriced = _sql(con, """
        SELECT count(*) FROM billing.usage u LEFT JOIN billing.list_prices p
          ON p.sku_name = u.sku_name AND p.cloud = u.cloud
         AND u.usage_start_time >= p.price_start_time
         AND (p.price_end_time IS NULL OR u.usage_start_time < p.price_end_time)
        WHERE u.usage_start_time >= ? AND p.sku_name IS NULL""", T0.replace(tzinfo=None))  # fmt: skip
    assert unpriced == [(0,)]


def test_repair_through_the_sdk_runs_its_tasks(demo: Demo) -> None:
    sim = demo.sim
    if sim.now < T0 + timedelta(days=1):
        sim.advance_to(T0 + timedelta(days=1))
    # SDK models are all-Optional; Any keeps the assertions readable.
    found: list[tuple[int, Any]] = [
        (ws, r) for ws, w in demo.clients.items()
        for r in w.jobs.list_runs(completed_only=True)
        if r.state is not None and r.state.result_state is not None
        and r.state.result_state.value == "FAILED"
    ]  # fmt: skip
    ws, run = found[0]
    w = demo.clients[ws]
    waiter: Any = w.jobs.repair_run(run.run_id, rerun_all_failed_tasks=True)
    repair_id = waiter.response.repair_id
    going: Any = w.jobs.get_run(run.run_id)
    assert going.state.life_cycle_state.value == "RUNNING"
    sim.step(timedelta(hours=6))
    after: Any = w.jobs.get_run(run.run_id, include_history=True)
    assert [h.type.value for h in after.repair_history] == ["ORIGINAL", "REPAIR"]
    assert after.repair_history[-1].id == repair_id
    assert after.state.life_cycle_state.value == "TERMINATED"
    rerun = set(after.repair_history[-1].task_run_ids)
    repaired = [t for t in after.tasks if t.run_id in rerun]
    assert repaired and all(t.state.life_cycle_state.value == "TERMINATED" for t in repaired)
    sim.step(LAG)
    terminal = _sql(demo.con, """SELECT count(*) FROM lakeflow.job_run_timeline WHERE workspace_id = ?
                                 AND run_id = ? AND result_state IS NOT NULL""",
                    str(ws), str(run.run_id))  # fmt: skip
    assert terminal == [(2,)]  # a repaired run has one more terminal row


# -- real time ---------------------------------------------------------------------------------


def test_runner_kick_fails_a_job_within_the_first_minute() -> None:
    job = SimJob(WS, 5, "customer_360_build", (SimTask("ingest"), SimTask("build", ("ingest",))),
                 cron="0 0 4 * * ?", fail_rate=0.8)  # fmt: skip
    sim, sink = _sim(_account(job), T0)
    picked = sim.kick(after=timedelta(seconds=5), fail_after=timedelta(seconds=30))
    assert picked.name == "customer_360_build"
    clock = sim.clock
    assert isinstance(clock, FixedClock)
    with Runner(sim, tick=0.01):
        clock.set(T0 + timedelta(seconds=36))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(not r.active for r in _runs(sim)):
            time.sleep(0.01)
    (run,) = _runs(sim)
    assert run.trigger == "ONE_TIME" and run.outcome.result_state == "FAILED"
    assert _utc(run.end_time) == T0 + timedelta(seconds=35)
    assert run.tasks["build"][-1].outcome.result_state == "UPSTREAM_FAILED"
