"""kill -9 of the leader during an outage: real `jobs-bot run` processes (two replicas, then a
replacement for each one killed) on one real PostgreSQL store, watching three workspaces of
the local Databricks and posting to the sandbox Slack, which refuses a share of the posts.
Jobs fail across the workspaces while the leader is killed twice at random moments; a standby
takes over within the lease. Counted from the sandbox: every failed job has one incident and
exactly one message (alone or in its channel's roll-up thread), none lost, none twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import sandbox
from bot.clock import SystemClock
from bot.store import Store
from bot.store.records import IncidentKind
from sandbox.databricks import LocalDatabricks, World
from sandbox.slack.driver import SlackSandbox
from tests.support.postgres import fresh_schema

WORKSPACES = ((6101, "prod-emea"), (6102, "prod-us"), (6103, "staging"))
TEAMS = ("finance-data", "ml-platform", None)
LEASE = 4  # seconds: a dead leader is replaced within this (the default is 30)
JOBS = 36


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    with fresh_schema(postgres_server) as url:
        yield url


class Replicas:
    def __init__(self, config: Path, env: dict[str, str], logs: Path) -> None:
        self.config, self.env, self.logs = config, env, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABRICKS_"))}
        log = (self.logs / f"replica-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--config", str(self.config), "--http", "0"],
            env={**clean, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _leader_pid(store: Store) -> int | None:
    holder = store.leases.holder("scheduled-work")
    return int(holder.split(":")[1]) if holder else None


def _wait(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(360)
def test_killing_the_leader_twice_during_an_outage_loses_and_repeats_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    rng = random.Random(11)
    world = World(SystemClock())
    for ws_id, name in WORKSPACES:
        world.add_workspace(name, ws_id)
    server = LocalDatabricks(world)
    urls = server.start()
    sb = SlackSandbox(signing_secret="kill-leader")
    sb.start()
    raw = yaml.safe_load(Path(sandbox.DEMO_CONFIG).read_text())
    env = {
        "SLACK_BOT_TOKEN": sb.workspace.bot.bot_token,
        "SLACK_SIGNING_SECRET": sb.signing_secret,
        "JOBS_BOT_STATE_URL": pg_url,
    }
    raw["workspaces"] = []
    for ws_id, name in WORKSPACES:
        env[f"KILL_PAT_{ws_id}"] = server.token(ws_id)
        raw["workspaces"].append(
            {
                "id": str(ws_id),
                "name": name,
                "host": urls[ws_id],
                "jobs_api": True,
                "pat_env": f"KILL_PAT_{ws_id}",
            }  # fmt: skip
        )
    raw["warehouse"] = {"embedded": {"path": ":memory:"}}
    raw["slack"]["mode"] = "http"
    raw["slack"]["api_url"] = sb.api_url
    raw.setdefault("schedules", {}).update(
        {"failure_poll_seconds": 5, "leader_lease_seconds": LEASE}
    )
    raw.pop("state", None)
    config = tmp_path / "jobs-bot.yml"
    config.write_text(yaml.safe_dump(raw))
    replicas = Replicas(config, env, tmp_path)
    store = Store.open(pg_url, SystemClock())
    try:
        replicas.start()
        first = _wait(lambda: _leader_pid(store), 60, "a leader")
        replicas.start()
        # The jobs, and their runs started; each fails at a random moment of 20 s.
        jobs = []
        for i in range(JOBS):
            ws_id = WORKSPACES[i % 3][0]
            team = TEAMS[i % 3]
            job = world.add_job(
                ws_id, f"etl_{i:03d}", ("load",), tags={"team": team} if team else {}
            )
            jobs.append((rng.uniform(0, 20), ws_id, job.job_id, world.start_run(ws_id, job.job_id)))
        jobs.sort(key=lambda j: j[0])
        sb.faults.ratelimit("chat.postMessage", retry_after=1, every=6)
        sb.faults.server_error("chat.postMessage", status=503, every=5, offset=2)
        kills = sorted(rng.uniform(3, 16) for _ in range(2))
        killed: list[int] = []
        started = time.monotonic()
        pending = list(jobs)
        while pending or len(killed) < len(kills):
            now = time.monotonic() - started
            while pending and pending[0][0] <= now:
                _, ws_id, _, run = pending.pop(0)
                world.set_task_outcome(ws_id, run.run_id, "load", "FAILED", "boom")
            leader = _leader_pid(store) or first
            if len(killed) < len(kills) and now >= kills[len(killed)] and leader not in killed:
                os.kill(leader, signal.SIGKILL)  # no goodbye: its lease and claims just stop
                killed.append(leader)
                replicas.start()  # the orchestrator starts a replacement
            time.sleep(0.1)

        def all_posted() -> bool:
            incidents = store.incidents.open_incidents(IncidentKind.FAILURE)
            keys = _posted(sb)
            return len(incidents) == JOBS and all(
                f"incident:{i.id}:post" in keys or any(k.endswith(f":member:{i.id}") for k in keys)
                for i in incidents
            )

        try:
            # A killed replica's claimed messages wait out their claim (CLAIM_LEASE, 2 min:
            # longer than any Slack call may take, so a slow send is never sent twice).
            _wait(all_posted, 200, "every incident in Slack")
        except AssertionError:
            incidents = store.incidents.open_incidents(IncidentKind.FAILURE)
            raise AssertionError(
                f"{len(incidents)} incidents, {len(_posted(sb))} keys posted, "
                f"{store.outbox.pending_count()} pending; killed {killed}, "
                f"leader {_leader_pid(store)}"
            ) from None
        time.sleep(3)  # anything that would go out twice has had its chance
        incidents = store.incidents.open_incidents(IncidentKind.FAILURE)
        per_job = Counter((i.workspace_id, i.job_id) for i in incidents)
        assert len(incidents) == JOBS and max(per_job.values()) == 1
        posted = _posted(sb)
        assert [k for k, n in posted.items() if n > 1] == [], "a message was sent twice"
        assert len(killed) == 2 and len(set(killed)) == 2, "the same leader was killed twice?"
        assert sum(c.status == 429 for c in sb.calls) > 0
    finally:
        replicas.stop()
        store.close()
        sb.stop()
        server.stop()


def _posted(sb: SlackSandbox) -> Counter[str]:
    keys: Counter[str] = Counter()
    for call in sb.calls_to("chat.postMessage"):
        if not call.ok:
            continue
        meta = call.params.get("metadata") or {}
        if isinstance(meta, str):
            meta = json.loads(meta)
        key = (meta.get("event_payload") or {}).get("dedupe_key")
        if key:
            keys[key] += 1
    return keys
