"""Shutdown, with `jobs-bot run --http` as an operator runs it (a process, a config file,
secrets in the environment, the sandbox as its Slack): SIGTERM used to kill the bot at once,
dropping every answer in flight. Now it stops taking requests, finishes what it acked, and
exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.slack.driver import SlackSandbox
from tests.support.demo import Demo
from tests.support.run_process import run_config, wait_for_line


@pytest.fixture
def slow_bot() -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(delay: float, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABRICKS_"))}
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.delivery.slow_run", str(delay), *args],
            env={**clean, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _drain(proc: subprocess.Popen, into: list[str]) -> threading.Thread:
    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            into.append(line)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    return t


def test_sigterm_finishes_the_answer_in_flight_then_exits(
    tmp_path: Path, demo: Demo, slow_bot
) -> None:
    with SlackSandbox(signing_secret="shutdown-secret") as sb:
        cfg = run_config(tmp_path, demo, sb, "http")
        env = {
            "SLACK_BOT_TOKEN": sb.workspace.bot.bot_token,
            "SLACK_SIGNING_SECRET": sb.signing_secret,
        }
        proc = slow_bot(1.0, ["--config", str(cfg), "--http", "0"], env)
        port = wait_for_line(proc, r"listening on http://[\d.]+:(\d+)/slack/events").group(1)
        sb.app_request_url = f"http://127.0.0.1:{port}/slack/events"
        lines: list[str] = []
        reader = _drain(proc, lines)
        # A newline in what someone typed must not become a line of its own in the log.
        seen = sb.command(
            "/jobs status nightly_sales\nERROR forged", user="U02BOB", expect_answer=False
        )
        assert seen.status == "ok"
        seen = sb.command("/jobs status nightly_sales", user="U01ALICE", expect_answer=False)
        assert seen.status == "ok"
        # The question is being worked on (the notice is up) when the signal arrives.
        assert sb.wait_until(
            lambda: any("Working on" in m.text for m in sb.ephemerals("U01ALICE", "C02ALERTS")),
            timeout=5,
        )
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        answer = sb.wait_until(
            lambda: [
                m
                for m in sb.ephemerals("U01ALICE", "C02ALERTS")
                if "nightly_sales" in m.text and "Working on" not in m.text
            ],
            timeout=30,
        )
        assert answer, "the answer in flight was dropped"
        assert len(sb.ephemerals("U01ALICE", "C02ALERTS")) == 1  # it replaced the notice
        assert proc.wait(timeout=30) == 0
        assert time.monotonic() - signalled < 25  # a generous guard on the drain bound
        # Stopped taking requests: a command now finds nobody listening.
        late = sb.command("/jobs help", user="U03CAROL", expect_answer=False)
        assert late.status == "error"
        reader.join(5)
        logged = "".join(lines)
        assert not any(line.startswith("ERROR forged") for line in lines), logged
        assert "stopped" in logged
