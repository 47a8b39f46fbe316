"""Benchmark of the 3-second acknowledgement (run by hand): slash commands typed at the same
instant by many people at the real Bolt app over HTTP (the production assembly, bot.wiring),
through the sandbox Slack with real signatures, while every warehouse query takes --delay
seconds (a cold SQL warehouse; 10 s by default). Prints ack latency p50 / p99 / max and how
long the answers took, side by side with the warehouse at full speed, in one run.

    .venv/bin/python bench/acks.py [--people 20] [--rounds 3] [--delay 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bot import wiring
from bot.clock import FixedClock
from bot.warehouse import open_warehouse
from sandbox.demo_account import DemoStory
from sandbox.slack.driver import SlackSandbox
from sandbox.slack.workspace import User, default_workspace
from tests.support.demo import END, make_demo
from tests.support.warehouse import ProbeWarehouse


def _round(sb: SlackSandbox, users: list[str], text: str) -> list[float]:
    acks: list[float] = [0.0] * len(users)
    go = threading.Event()

    def one(i: int, user: str) -> None:
        go.wait()
        started = time.monotonic()
        seen = sb.command(text, user=user, timeout=15, expect_answer=False)
        acks[i] = time.monotonic() - started if seen.status == "ok" else float("inf")

    threads = [threading.Thread(target=one, args=(i, u)) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    return acks


def _answered(sb: SlackSandbox, users: list[str], want: int, timeout: float) -> float:
    """Seconds until every user has `want` answers (each replaces its "Working on" notice)."""
    started = time.monotonic()

    def done() -> bool:
        return all(
            sum("Working on" not in m.text for m in sb.ephemerals(u, "C02ALERTS")) >= want
            for u in users
        )

    sb.wait_until(done, timeout=timeout)
    return time.monotonic() - started


def measure(demo_path: str, story: DemoStory, people: int, rounds: int, delay: float) -> None:
    from tests.support.demo import demo_config

    ws = default_workspace()
    alerts = ws.channel("C02ALERTS")
    assert alerts is not None
    for i in range(people):
        uid = f"U9{i:03d}"
        ws.users.append(User(uid, f"p{i}", f"Person {i}", f"p{i}", f"p{i}@example.com"))
        alerts.members.add(uid)
    users = [u.id for u in ws.humans() if u.id.startswith("U9")]
    sb = SlackSandbox(signing_secret="bench-acks", workspace=ws)
    sb.start()
    probe = ProbeWarehouse(open_warehouse(demo_path), delay=delay)
    link = wiring.SlackLink(
        bot_token=sb.bot_token, api_url=sb.api_url, transport="http", signing_secret="bench-acks"
    )
    config = demo_config(story)
    bot = wiring.build(config, FixedClock(END), warehouse=probe, slack=link)
    bot.start()
    sb.app_request_url = bot.request_url
    acks: list[float] = []
    answers: list[float] = []
    try:
        for r in range(rounds):
            acks += _round(sb, users, "/jobs failing" if r % 2 == 0 else "/jobs cost 7d")
            answers.append(_answered(sb, users, r + 1, timeout=max(60.0, delay * people)))
    finally:
        bot.stop()
        sb.stop()
    acks.sort()
    p99 = acks[min(len(acks) - 1, int(0.99 * (len(acks) - 1) + 0.5))]
    late = sum(a >= 3.0 for a in acks)
    print(
        f"warehouse {delay:4.1f} s/query, {people} at once x {rounds}: ack p50 "
        f"{statistics.median(acks):.3f} s, p99 {p99:.3f} s, max {acks[-1]:.3f} s, "
        f"{late} of {len(acks)} at or over 3 s; all answered within {max(answers):.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--delay", type=float, default=10.0)
    args = ap.parse_args()
    demo = make_demo(Path(tempfile.mkdtemp(prefix="jobs-bot-acks-")))
    for delay in (0.0, args.delay):
        measure(demo.path, demo.story, args.people, args.rounds, delay)


if __name__ == "__main__":
    main()
