"""Benchmark of the bot at rest (run by hand): an hour of account time with nobody asking
anything, on the benchmark-scale demo account (5,000 jobs unless told otherwise). Prints the
warehouse queries the bot made in that hour, by query file (the goal is at most 24, so a
serverless SQL warehouse can stop between them), the Jobs API calls, and the process RSS.

The account's world runs in the simulator (jobs start on their schedules, fail, retry; the
system tables follow later, as on Databricks) behind the local Databricks; the bot is the
production assembly (bot.wiring in watch mode) on the local Slack. Time is simulated: the
clock moves in 5 s steps and every scheduled job of the bot runs when it is due, as the real
scheduler would run it; an hour takes a minute or two of wall time.

    .venv/bin/python bench/steady_state.py [--db PATH] [--jobs 5000] [--days 30] [--minutes 60]

RSS is of this one process, which also holds the local Databricks, its simulator and the
sandbox Slack: the bot's own share is printed as the growth since before it was built, next
to the whole.
"""

from __future__ import annotations

import argparse
import gc
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.triggers.base import BaseTrigger

from bot import wiring
from bot.clock import FixedClock
from bot.config import WorkspaceConfig, load_config
from bot.scheduler import Every
from bot.store import Store
from bot.warehouse.duckdb_backend import DuckDBWarehouse, open_db
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.simulator import Simulator
from sandbox.databricks.simulator_catalog import from_warehouse
from sandbox.databricks.sink import DuckDBSink
from sandbox.slack.driver import SlackSandbox

END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEP = timedelta(seconds=5)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=None, help="a seeded account (copied; default: seed one)")
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument(
        "--memory-limit", default="1GB", help="DuckDB's (warehouse.embedded.memory_limit)"
    )
    ap.add_argument("--callers", action="store_true", help="count queries by calling function")
    ap.add_argument(
        "--no-bot", action="store_true", help="the same hour without the bot (RSS baseline)"
    )
    ap.add_argument(
        "--compare", action="store_true", help="run with and without the bot, side by side"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.compare:
        _compare(args)
        return
    work = Path(tempfile.mkdtemp(prefix="jobs-bot-steady-"))
    db = work / "account.duckdb"
    if args.db:
        shutil.copy(args.db, db)
    else:
        from sandbox.demo_account import generate

        print(f"seeding {args.jobs} jobs x {args.days} days ...", flush=True)
        generate(str(db), jobs=args.jobs, days=args.days, end=END)

    clock = FixedClock(END)
    world = World(clock)
    warehouse = DuckDBWarehouse(open_db(str(db), memory_limit=args.memory_limit))
    con = warehouse.connection
    sim = Simulator(world, from_warehouse(con, seed=7), DuckDBSink(con), clock=clock, seed=7)
    server = LocalDatabricks(world)
    urls = server.start()
    env: dict[str, str] = {}
    workspaces = []
    for ws_id, url in sorted(urls.items()):
        var = f"STEADY_PAT_{ws_id}"
        env[var] = server.token(ws_id)
        with world.lock:
            name = world.workspace(ws_id).name
        workspaces.append(WorkspaceConfig(id=str(ws_id), name=name, host=url, pat_env=var))
    sb = SlackSandbox(signing_secret="steady")
    sb.start()
    cfg = load_config(DEMO_CONFIG).model_copy(update={"workspaces": workspaces})
    link = wiring.SlackLink(
        bot_token=sb.bot_token, api_url=sb.api_url, transport="http", signing_secret="steady"
    )
    gc.collect()
    before = rss_mb()
    if args.no_bot:
        end = END + timedelta(minutes=args.minutes)
        while clock.now() < end:
            now = clock.now() + STEP
            sim.advance_to(now)
            clock.set(now)
        gc.collect()
        print(
            f"RSS without the bot: {before:.0f} MB at the start, {rss_mb():.0f} MB after the hour"
        )
        sb.stop()
        server.stop()
        return
    bot = wiring.build(
        cfg,
        clock,
        warehouse=warehouse,
        slack=link,
        store=Store.open(f"sqlite:///{work / 'state.db'}", clock),
        watch=True,
        env=env,
    )
    assert bot.scheduler is not None and bot.metrics is not None and bot.notifier is not None
    built = rss_mb()
    rss_warm = built
    queries: Counter[str] = Counter()
    inner = bot.metrics.warehouse_query

    callers: Counter[str] = Counter()

    def counted(name: str, seconds: float, *, ok: bool = True) -> None:
        queries[name] += 1
        if args.callers:
            callers[f"{name} <- {_caller()}"] += 1
        inner(name, seconds, ok=ok)

    bot.metrics.warehouse_query = counted  # type: ignore[method-assign]
    api_calls: Counter[str] = Counter()
    assert bot.jobs_api is not None
    bot.jobs_api.on_call = lambda ws, outcome="ok": api_calls.update([outcome])

    # The start-up burst (first polls, caches filling) is reported apart from the hour.
    jobs = bot.scheduler.jobs
    next_at: dict[str, datetime] = {}
    for job in jobs:
        if isinstance(job, Every):
            next_at[job.name] = clock.now()
        else:
            fire = _next_fire(job.trigger, None, clock.now())
            if fire is not None:
                next_at[job.name] = fire
    started = time.perf_counter()
    end = END + timedelta(minutes=args.minutes)
    warmup = END + timedelta(minutes=10)
    at_warmup: Counter[str] | None = None
    peak = before
    while clock.now() < end:
        now = clock.now() + STEP
        sim.advance_to(now)
        clock.set(now)
        for job in jobs:
            due = next_at.get(job.name)
            if due is None or due > now:
                continue
            try:
                job.call()
            except Exception as e:  # noqa: BLE001 (a failed job is logged; keep counting)
                print(f"  {job.name} failed: {e}")
            if isinstance(job, Every):
                next_at[job.name] = now + timedelta(seconds=job.seconds)
            else:
                fire = _next_fire(job.trigger, due, now)
                if fire is None:
                    next_at.pop(job.name)
                else:
                    next_at[job.name] = fire
        bot.notifier.drain()
        if at_warmup is None and now >= warmup:
            at_warmup = Counter(queries)
            rss_warm = rss_mb()
        peak = max(peak, rss_mb())
    wall = time.perf_counter() - started
    gc.collect()
    after = rss_mb()
    assert at_warmup is not None
    steady = queries - at_warmup
    hours = (args.minutes - 10) / 60
    print(f"account: {args.jobs} jobs x {args.days} days; {len(workspaces)} workspaces")
    print(f"simulated {args.minutes:g} min in {wall:.0f} s of wall time")
    print(f"warehouse queries, first 10 min (start-up): {sum(at_warmup.values())}")
    print(f"warehouse queries per hour after that: {sum(steady.values()) / hours:.1f}")
    for name, n in steady.most_common():
        print(f"  {name:32s} {n / hours:6.1f}/h")
    for line, n in callers.most_common(20):
        print(f"    {n:6d}  {line}")
    calls: Counter[str] = Counter()
    for ws_id in urls:
        calls.update(server.calls(ws_id))
    print(f"Jobs API calls: {sum(api_calls.values())} ({dict(api_calls)})")
    for endpoint, n in calls.most_common(8):
        print(f"  {endpoint:32s} {n / (args.minutes / 60):8.1f}/h")
    print(f"Slack messages posted: {len(sb.calls_to('chat.postMessage'))}")
    print(f"RSS: {built:.0f} MB once the bot was built, {rss_warm:.0f} MB after 10 minutes")
    print(
        f"RSS: {before:.0f} MB before the bot was built, {after:.0f} MB after the hour "
        f"(the bot's share {after - before:.0f} MB; peak {peak:.0f} MB)"
    )
    bot.stop()
    sb.stop()
    server.stop()


def _compare(args: argparse.Namespace) -> None:
    """The same simulated hour in two processes, without and with the bot: the difference of
    their RSS is what the bot itself holds (the world, its simulator and the sandbox are in
    both)."""
    base = [sys.executable, __file__, "--jobs", str(args.jobs), "--days", str(args.days),
            "--minutes", str(args.minutes), "--memory-limit", args.memory_limit,
            ] + (["--db", args.db] if args.db else [])  # fmt: skip
    for extra in (["--no-bot"], []):
        done = subprocess.run(base + extra, capture_output=True, text=True, check=False)
        print(done.stdout.strip() or done.stderr.strip()[-2000:])


def _caller() -> str:
    """The innermost bot.service (or wiring) function on the stack: who asked."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename.replace("\\", "/")
        if "/bot/service/" in path or "/bot/wiring/" in path:
            return f"{Path(path).stem}.{frame.f_code.co_name}"
        frame = frame.f_back
    return "?"


def _next_fire(trigger: BaseTrigger, previous: datetime | None, now: datetime) -> datetime | None:
    fire: datetime | None = trigger.get_next_fire_time(previous, now)
    return fire


if __name__ == "__main__":
    main()
