"""`jobs-bot run` as a separate process, the way an operator starts it: `run_config` writes its
config file (the demo config on the demo account's warehouse, the sandbox as its Slack, a state
store in the test's folder), and `wait_for_line` reads the process's stderr until a line
matches."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import yaml

import sandbox
from sandbox.slack.driver import SlackSandbox
from tests.support.demo import Demo

DEMO_CONFIG = Path(sandbox.DEMO_CONFIG)


def run_config(tmp_path: Path, demo: Demo, sb: SlackSandbox, mode: str) -> Path:
    raw = yaml.safe_load(DEMO_CONFIG.read_text())
    raw["warehouse"] = {"embedded": {"path": demo.path}}
    raw["slack"]["mode"] = mode
    raw["slack"]["api_url"] = sb.api_url
    raw["state"] = {"url": f"sqlite:///{tmp_path / 'state.db'}"}  # jobs-bot run opens its store
    path = tmp_path / "jobs-bot.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


def wait_for_line(proc: subprocess.Popen, pattern: str, timeout: float = 30) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"no line matching {pattern!r}; stderr was: {''.join(seen)}")
