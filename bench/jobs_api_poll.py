"""Benchmark of the run feed (run by hand): Jobs API calls and wall time of one poll at 50,
500 and 5,000 jobs, against the local Databricks over real HTTP with the real
WorkspaceClient, next to what a naive per-job poll would need.

Each account has one finished run per job (history) and the same activity between two
polls: `--new` runs start and end, 2 start and go on, 3 long runs end. The naive poll is
jobs/list (100 a page) plus one runs/list per job; it is counted, not run.

    .venv/bin/python bench/jobs_api_poll.py [--new 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from datetime import UTC, datetime, timedelta

from bot.clock import FixedClock
from bot.config.secrets import Secrets
from bot.config.sections import WorkspaceConfig
from bot.jobs_api import JobsApi
from bot.run_feed import RunFeed
from sandbox.databricks import LocalDatabricks, World

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def one_account(jobs: int, new: int, repeat: int) -> tuple[int, float, int]:
    """(calls per poll, median seconds per poll, naive calls per poll)."""
    clock = FixedClock(START - timedelta(days=1))
    world = World(clock)
    ws = world.add_workspace("bench")
    w = ws.workspace_id
    ids = [world.add_job(w, f"job-{i}", max_concurrent_runs=50).job_id for i in range(jobs)]
    for job in ids:
        world.finish_run(w, world.start_run(w, job).run_id, "SUCCESS")
    clock.set(START)
    calls: list[int] = []
    seconds: list[float] = []
    with LocalDatabricks(world) as server:
        # http:// is fine here: model_construct skips the config's https:// check.
        config = WorkspaceConfig.model_construct(
            id=str(w), name="bench", host=server.url(w), jobs_api=True, pat_env=None
        )
        api = JobsApi([config], Secrets(databricks_token=server.token(w)))
        feed = RunFeed(api, str(w), clock)
        mark = feed.poll(None).watermark
        for r in range(repeat):
            # Long runs: started 10 polls ago, so outside the window when they end.
            long = [world.start_run(w, ids[(i + r) % jobs]).run_id for i in range(3)]
            for _ in range(10):
                clock.set(clock.now() + timedelta(seconds=30))
                mark = feed.poll(mark).watermark
            clock.set(clock.now() + timedelta(seconds=5))
            for i in range(new):
                job = ids[(50 + i + r * new) % jobs]
                world.finish_run(w, world.start_run(w, job).run_id, "FAILED")
            for i in range(2):
                world.start_run(w, ids[(20 + i + r) % jobs])
            for run in long:
                world.finish_run(w, run, "SUCCESS")
            clock.set(clock.now() + timedelta(seconds=25))
            server.reset_calls(w)
            t0 = time.perf_counter()
            result = feed.poll(mark)
            seconds.append(time.perf_counter() - t0)
            calls.append(sum(v for k, v in server.calls(w).items() if k.startswith("jobs/")))
            mark = result.watermark
    naive = math.ceil(jobs / 100) + jobs
    return max(calls), statistics.median(seconds), naive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", type=int, default=20, help="runs that start and end per poll")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"one poll, {args.new} short runs + 3 long runs ended, 2 started (median of {args.repeat})"
    )
    print(f"{'jobs':>6} | {'feed calls':>10} | {'feed ms':>8} | {'naive calls':>11}")
    print(f"{'-' * 6}-+-{'-' * 10}-+-{'-' * 8}-+-{'-' * 11}")
    for jobs in (50, 500, 5000):
        calls, secs, naive = one_account(jobs, args.new, args.repeat)
        print(f"{jobs:>6} | {calls:>10} | {secs * 1000:>8.1f} | {naive:>11}")


if __name__ == "__main__":
    main()
