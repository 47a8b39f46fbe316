"""`jobs-bot demo` end to end: start it, use the page API, stop it with Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from databricks.sdk import WorkspaceClient


def _ctrl_c_reaches_it() -> None:
    """In the child, before exec: SIGINT as a terminal delivers it. A test run started in the
    background of a non-interactive shell inherits SIGINT ignored, and Python then installs no
    KeyboardInterrupt handler, so Ctrl-C would never reach the demo."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_demo_serves_a_working_slack_and_stops_on_ctrl_c(tmp_path):
    # Its log goes to a file: an undrained stderr pipe fills up and blocks the demo's exit.
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--port", "0"],
        preexec_fn=_ctrl_c_reaches_it,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 60
        lines = []
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"Open (http://127\.0\.0\.1:\d+)/", line)
            url = found.group(1) if found else None
        assert url, f"no URL printed: {lines} {(tmp_path / 'demo.log').read_text()}"

        def post(path: str, body: dict) -> dict:
            req = urllib.request.Request(
                url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())

        out = post(
            "/sandbox/api/command",
            {"user": "U01ALICE", "channel": "C02ALERTS", "text": "/jobs help"},
        )
        assert out["status"] == "ok"
        # The bot answers in the ack or through response_url: wait for it.
        # (The channel also holds what the bot posted by itself: the demo's digest, alerts.)
        answer = []
        until = time.monotonic() + 15
        while not answer and time.monotonic() < until:
            page = url + "/sandbox/api/messages?channel=C02ALERTS&user=U01ALICE"
            with urllib.request.urlopen(page, timeout=10) as resp:
                answer = [m for m in json.loads(resp.read())["messages"] if m.get("ephemeral")]
            time.sleep(0.1)
        assert answer and "/jobs" in json.dumps(answer[0])
        with urllib.request.urlopen(url + "/", timeout=10) as resp:
            assert resp.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    assert proc.returncode == 0, (tmp_path / "demo.log").read_text()[-2000:]
    assert "Stopping" in out


def test_demo_databricks_urls_work_with_the_sdk_and_runs_start_and_finish():
    """The issue's done-when: the printed Databricks URLs and tokens work with the real SDK,
    which lists the jobs and sees a run start and finish while it watches (the demo runs in
    real time; its kick makes a run start ~5 s after the URLs are printed and fail ~30 s
    later). The timeouts are hang guards only."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the URL lines as soon as printed
    for var in [k for k in env if k.startswith("DATABRICKS_")]:
        del env[var]  # only what the demo printed
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--port", "0"],
        preexec_fn=_ctrl_c_reaches_it,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    out = proc.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in out], daemon=True).start()
    printed = re.compile(
        r"Databricks workspace (\S+): (http://127\.0\.0\.1:\d+) \(token (dapi\w+)\)"
    )
    try:
        workspaces: dict[str, WorkspaceClient] = {}
        watch_from = 0
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, "the demo exited"
                continue
            found = printed.search(line)
            if found:
                name, host, token = found.groups()
                workspaces[name] = WorkspaceClient(host=host, token=token)
                watch_from = watch_from or int(time.time() * 1000)
            elif workspaces:
                break  # the next line after the workspace lines
        assert len(workspaces) == 3, workspaces
        for w in workspaces.values():
            assert len(list(w.jobs.list())) > 0
        # Watch: a run that starts after the URLs were printed, until it has ended.
        started: dict[int, WorkspaceClient] = {}
        ended = None
        deadline = time.monotonic() + 150
        while ended is None and time.monotonic() < deadline:
            for w in workspaces.values():
                for run in w.jobs.list_runs(start_time_from=watch_from):
                    started.setdefault(run.run_id, w)
            for run_id, w in started.items():
                run = w.jobs.get_run(run_id)
                if run.end_time and run.status and run.status.state.value == "TERMINATED":
                    ended = run
                    break
            time.sleep(1)
        assert started, "no run started while watching"
        assert ended is not None, f"none of the runs {sorted(started)} ended while watching"
        assert ended.start_time >= watch_from and ended.end_time > ended.start_time
        assert ended.status.termination_details is not None
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
