"""`jobs-bot run`, the production entry point, as an operator starts it: a separate process
with a config file and secrets in the environment, talking to the sandbox as its Slack
(through `slack.api_url`), in HTTP mode and in Socket Mode."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from sandbox.slack.driver import SlackSandbox
from tests.support.demo import Demo
from tests.support.run_process import run_config, wait_for_line


@pytest.fixture
def run_bot() -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABRICKS_"))}
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", *args],
            env={**clean, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:  # a test that failed half-way: leave nothing running
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _stops_on_sigterm(proc: subprocess.Popen) -> None:
    """SIGTERM (what a supervisor sends) while Slack is still up: a clean exit, status 0, well
    within the grace period (output drained meanwhile: a bot blocked on a full pipe never exits)."""
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=25)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        tail = "".join((err or "").splitlines(keepends=True)[-15:])
        pytest.fail(f"jobs-bot run did not stop within 25 s of SIGTERM; its last lines:\n{tail}")
    assert proc.returncode == 0, err[-2000:]


def _asks_status(sb: SlackSandbox) -> None:
    seen = sb.command("/jobs status nightly_sales", timeout=20)
    assert seen.status == "ok"
    assert any("nightly_sales" in t for t in seen.texts), seen.texts
    assert seen.ephemerals  # answered privately, through the response_url


def test_run_http_mode_answers_signed_commands(tmp_path, demo: Demo, run_bot) -> None:
    with SlackSandbox(signing_secret="run-e2e-secret") as sb:
        cfg = run_config(tmp_path, demo, sb, "http")
        env = {
            "SLACK_BOT_TOKEN": sb.workspace.bot.bot_token,
            "SLACK_SIGNING_SECRET": sb.signing_secret,
        }
        proc = run_bot(["--config", str(cfg), "--http", "0"], env)
        port = wait_for_line(proc, r"listening on http://[\d.]+:(\d+)/slack/events").group(1)
        sb.app_request_url = f"http://127.0.0.1:{port}/slack/events"
        _asks_status(sb)
        _stops_on_sigterm(proc)


def test_run_socket_mode_answers_over_the_websocket(tmp_path, demo: Demo, run_bot) -> None:
    with SlackSandbox(signing_secret="unused-in-socket-mode") as sb:
        cfg = run_config(tmp_path, demo, sb, "socket")
        env = {
            "SLACK_BOT_TOKEN": sb.workspace.bot.bot_token,
            "SLACK_APP_TOKEN": sb.workspace.bot.app_token,
        }
        proc = run_bot(["--config", str(cfg)], env)
        assert sb.wait_for_socket(timeout=30), "jobs-bot run never opened a Socket Mode connection"
        _asks_status(sb)
        _stops_on_sigterm(proc)
