"""`jobs-bot demo` end to end: start it, use the page API, stop it with Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request


def test_demo_serves_a_working_slack_and_stops_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
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
        assert url, f"no URL printed: {lines} {proc.stderr.read() if proc.poll() else ''}"

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
            rc = proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert rc == 0
    assert "Stopping" in proc.stdout.read()
