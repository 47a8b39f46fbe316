"""Benchmark of the failure path (run by hand, real time): how long from a run's end in the
local Databricks to its alert in the sandbox Slack, p50 / p95 over N failures, and the
messages per second per channel while they go out. The bot is the production assembly
(bot.wiring in watch mode: the scheduler polling every `--poll` seconds, the real JobsApi over
HTTP, the store on SQLite, the notifier at Slack's 1 message/s/channel).

    .venv/bin/python bench/alert_latency.py [--failures 200] [--over 120] [--poll 30]

Failures end at random moments over `--over` seconds, spread over three workspaces routed to
three channels. Expect latency ≈ poll wait (≤ poll) + the channel's queue at 1/s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from bot import wiring
from bot.clock import SystemClock
from bot.config import WorkspaceConfig, load_config
from bot.store import Store
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from sandbox.slack.driver import SlackSandbox

TEAMS = ("finance-data", "ml-platform", None)  # routed to #finance-data, #ml-platform, default


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--failures", type=int, default=200)
    ap.add_argument("--over", type=float, default=120.0, help="seconds the failures span")
    ap.add_argument("--poll", type=int, default=30, help="failure_poll_seconds")
    args = ap.parse_args()

    clock = SystemClock()
    world = World(clock)
    server = LocalDatabricks(world)
    workspaces = [world.add_workspace(f"ws-{i}") for i in range(3)]
    urls = server.start()
    env, configs = {}, []
    for ws in workspaces:
        var = f"BENCH_PAT_{ws.workspace_id}"
        env[var] = server.token(ws.workspace_id)
        configs.append(WorkspaceConfig(id=str(ws.workspace_id), name=ws.name,
                                       host=urls[ws.workspace_id], pat_env=var))  # fmt: skip
    cfg = load_config(DEMO_CONFIG)
    cfg = cfg.model_copy(
        update={
            "workspaces": configs,
            "schedules": cfg.schedules.model_copy(update={"failure_poll_seconds": args.poll}),
        }
    )
    rng = random.Random(7)
    plan = []
    for i in range(args.failures):
        ws = workspaces[i % 3]
        team = TEAMS[i % 3]
        job = world.add_job(ws.workspace_id, f"job_{i:03d}", tags={"team": team} if team else {})
        plan.append((rng.uniform(0, args.over), ws.workspace_id, job.job_id, job.name))
    plan.sort()

    sb = SlackSandbox(signing_secret="bench")
    sb.start()
    folder = Path(tempfile.mkdtemp(prefix="jobs-bot-bench-"))
    link = wiring.SlackLink(bot_token=sb.bot_token, api_url=sb.api_url, transport="http",
                            signing_secret="bench")  # fmt: skip
    bot = wiring.build(cfg, clock, warehouse=open_warehouse(None), slack=link,
                       store=Store.open(f"sqlite:///{folder / 'state.db'}", clock),
                       watch=True, env=env)  # fmt: skip
    bot.start()
    ended: dict[str, float] = {}

    def fail_on_plan() -> None:
        t0 = time.time()
        for at, ws_id, job_id, name in plan:
            time.sleep(max(0.0, t0 + at - time.time()))
            run = world.start_run(ws_id, job_id)
            world.set_task_outcome(ws_id, run.run_id, "main", "FAILED", "boom", error="boom")
            ended[name] = time.time()

    started = time.time()
    feeder = threading.Thread(target=fail_on_plan, daemon=True)
    feeder.start()
    arrived: dict[str, tuple[float, str]] = {}
    in_rollup: set[str] = set()
    deadline = started + args.over + args.poll + args.failures + 60
    while len(arrived) < args.failures and time.time() < deadline:
        for channel in sb.workspace.channels:
            for top in sb.messages(channel.id):
                if top.source == "user":
                    continue
                # An alert alone, or (in a burst) its entry in the channel's roll-up thread.
                replies = [r for r in sb.thread(channel.id, top.ts) if r.ts != top.ts]
                for m in [top, *replies]:
                    words = m.text.split()
                    name = words[1] if len(words) > 1 else ""
                    if name.startswith("job_") and name not in arrived:
                        # The sandbox stamps each message with its post time (the ts).
                        arrived[name] = (float(m.ts), channel.name)
                        if m is not top:
                            in_rollup.add(name)
        time.sleep(0.2)
    bot.stop()
    sb.stop()
    server.stop()

    latencies = sorted(arrived[n][0] - ended[n] for n in arrived if n in ended)
    per_channel: dict[str, list[float]] = defaultdict(list)
    for _, (at, channel) in arrived.items():
        per_channel[channel].append(at)
    print(f"failures: {args.failures} over {args.over:.0f} s, poll every {args.poll} s")
    print(
        f"alerts arrived: {len(arrived)} ({len(arrived) - len(in_rollup)} alone, "
        f"{len(in_rollup)} in a roll-up's thread; lost: {args.failures - len(arrived)})"
    )
    if latencies:
        p50 = statistics.median(latencies)
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(
            f"run end -> alert in Slack: p50 {p50:.1f} s, p95 {p95:.1f} s, max {latencies[-1]:.1f} s"
        )
    for channel, times in sorted(per_channel.items()):
        times.sort()
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        busiest = max((sum(1 for t in times if s <= t < s + 1) for s in times), default=0)
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        print(f"#{channel}: {len(times)} alerts, {rate:.2f} msg/s overall, at most {busiest} "
              f"in any 1 s, min gap {min(gaps, default=0):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
