"""The outage scenario, shared by the fault suite (tests/faults, at CI size) and its benchmark
(bench/outage.py, at full size): many jobs fail within minutes across three workspaces while
Slack answers 429 (with Retry-After) and 5xx to about a third of the bot's calls and drops the
Socket Mode connection twice. The bot is the production assembly (bot.wiring in watch mode:
the real JobsApi over HTTP against the local Databricks, the real store, roll-up and notifier,
the real slack_sdk WebClient against the sandbox); account time is simulated (a FixedClock
moved in poll-sized steps), Slack's pacing and Retry-After run in real time.

What it reports is counted from the sandbox's own log of calls and messages, not from the
bot: every failed job's incident once in the store, every incident's message once in Slack
(alone, or as its entry in the channel's roll-up thread), each channel's roll-up, the
smallest gap between two posts in one channel, and a slash command still answered over the
websocket after the drops."""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot import wiring
from bot.clock import FixedClock
from bot.config import load_config
from bot.config.sections import WorkspaceConfig
from bot.store import Store
from bot.store.records import IncidentKind
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from sandbox.slack.driver import SlackSandbox

# Routed by the demo config's team tags: #finance-data, #ml-platform, and the default.
TEAMS = ("finance-data", "ml-platform", None)
WORKSPACES = ((5101, "prod-emea"), (5102, "prod-us"), (5103, "staging"))
POSTING = ("chat.postMessage",)
EDITING = ("chat.update",)


@dataclass
class OutageReport:
    jobs: int
    incidents: int  # failure incidents in the store
    incidents_per_job_max: int
    lost: list[str]  # incidents with no message of their own in Slack
    duplicated: list[str]  # outbox keys Slack holds more than one message of
    rollups: dict[str, int]  # channel name -> roll-up messages in it
    min_gap: dict[str, float]  # channel name -> smallest seconds between two posts
    refused: Counter[str]  # what Slack answered besides ok: "429", "503", ...
    socket_drops: int
    answered_after_drops: bool
    seconds: float
    steps: int
    outbox_left: int
    notes: list[str] = field(default_factory=list)


def run_outage(
    tmp: Path,
    *,
    jobs: int = 60,
    span: timedelta = timedelta(minutes=5),
    poll_seconds: int = 30,
    pace: float = 0.05,
    slack_faults: bool = True,
    socket_drops: int = 2,
    store_url: str | None = None,
    seed: int = 7,
    max_steps: int = 200,
) -> OutageReport:
    rng = random.Random(seed)
    started = time.monotonic()
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clock = FixedClock(start)
    world = World(clock)
    for ws_id, name in WORKSPACES:
        world.add_workspace(name, ws_id)
    server = LocalDatabricks(world)
    server.start()
    sb = SlackSandbox(signing_secret="unused-in-socket-mode")
    sb.start()
    bot: wiring.Bot | None = None
    try:
        env, configs = {}, []
        for ws_id, name in WORKSPACES:  # each workspace its own PAT, from the environment
            var = f"OUTAGE_PAT_{ws_id}"
            env[var] = server.token(ws_id)
            configs.append(
                WorkspaceConfig(id=str(ws_id), name=name, host=server.url(ws_id), pat_env=var)
            )
        cfg = load_config(DEMO_CONFIG)
        schedules = cfg.schedules.model_copy(update={"failure_poll_seconds": poll_seconds})
        cfg = cfg.model_copy(update={"workspaces": configs, "schedules": schedules})
        link = wiring.SlackLink(
            bot_token=sb.bot_token,
            api_url=sb.api_url,
            transport="socket",
            app_token=sb.app_token,
        )
        store = Store.open(store_url or f"sqlite:///{tmp / 'outage.db'}", clock)
        bot = wiring.build(
            cfg,
            clock,
            warehouse=open_warehouse(None),
            slack=link,
            store=store,
            watch=True,
            env=env,
        )
        assert bot.alerts is not None and bot.notifier is not None and bot.slack is not None
        bot.notifier._pace.interval = pace  # Slack's 1 message/s per channel, or faster
        bot.slack.start()
        sb.wait_for_socket(timeout=10)

        # The account: `jobs` jobs over three workspaces and three teams, each failing once
        # at a random moment of `span`.
        planned: list[tuple[float, int, int]] = []  # (seconds into the span, ws, job id)
        names: dict[tuple[int, int], str] = {}
        for i in range(jobs):
            ws_id = WORKSPACES[i % len(WORKSPACES)][0]
            team = TEAMS[i % len(TEAMS)]
            tags = {"team": team} if team else {}
            job = world.add_job(ws_id, f"etl_{i:04d}", ("load",), tags=tags)
            names[(ws_id, job.job_id)] = job.name
            planned.append((rng.uniform(0, span.total_seconds()), ws_id, job.job_id))
        planned.sort()
        for ws_id, _ in WORKSPACES:
            bot.alerts.poll(str(ws_id))  # the watermarks start before the outage

        if slack_faults:
            for method in POSTING + EDITING:
                # About a third of the calls refused: one in 6 rate limited, then one in 5
                # of the rest a 503.
                sb.faults.ratelimit(method, retry_after=1, every=6)
                sb.faults.server_error(method, status=503, every=5, offset=2)

        runs: dict[tuple[int, int], Any] = {}
        for _, ws_id, job_id in planned:
            runs[(ws_id, job_id)] = world.start_run(ws_id, job_id)
        drops_at = sorted(rng.sample(range(1, 10), k=min(socket_drops, 9)))
        dropped = 0
        elapsed = 0.0
        step = 0
        pending = list(planned)
        store_ = bot.store
        assert store_ is not None
        while step < max_steps:
            step += 1
            elapsed += poll_seconds
            clock.set(start + timedelta(seconds=elapsed))
            while pending and pending[0][0] <= elapsed:
                _, ws_id, job_id = pending.pop(0)
                run = runs[(ws_id, job_id)]
                world.set_task_outcome(ws_id, run.run_id, "load", "FAILED", f"boom {job_id}")
            if dropped < len(drops_at) and step == drops_at[dropped]:
                sb.drop_sockets()
                dropped += 1
            for ws_id, _ in WORKSPACES:
                bot.alerts.poll(str(ws_id))
            if bot.alerts.router is not None:
                bot.alerts.router.sync()  # type: ignore[attr-defined]
            bot.notifier.drain()
            if not pending and store_.outbox.pending_count() == 0:
                break
        sb.faults.clear()

        answered = False
        if sb.wait_for_socket(timeout=30):
            seen = sb.command("/jobs help", timeout=20)
            answered = seen.status == "ok"
        return _report(
            sb, store_, names, jobs, started, step, dropped, answered, store_.outbox.pending_count()
        )
    finally:
        if bot is not None:
            bot.stop()
        sb.stop()
        server.stop()


def _report(
    sb: SlackSandbox,
    store: Store,
    names: dict[tuple[int, int], str],
    jobs: int,
    started: float,
    steps: int,
    drops: int,
    answered: bool,
    left: int,
) -> OutageReport:
    incidents = [
        i
        for i in store.incidents.open_incidents(IncidentKind.FAILURE)
        if (int(i.workspace_id), int(i.job_id)) in names
    ]
    per_job = Counter((i.workspace_id, i.job_id) for i in incidents)
    refused: Counter[str] = Counter()
    posted: Counter[str] = Counter()  # outbox key -> messages Slack took for it
    channel_of: dict[str, str] = {}
    for call in sb.calls:
        if call.method not in POSTING + EDITING:
            continue
        if not call.ok:
            refused[
                str(call.status) if call.status != 200 else str(call.response.get("error"))
            ] += 1
            continue
        if call.method in POSTING:
            meta = call.params.get("metadata") or {}
            if isinstance(meta, str):
                meta = json.loads(meta)
            key = (meta.get("event_payload") or {}).get("dedupe_key")
            if key:
                posted[key] += 1
                channel_of[key] = str(call.response.get("channel") or "")
    duplicated = sorted(k for k, n in posted.items() if n > 1)
    members = {int(k.rsplit(":", 1)[1]): k for k in posted if ":member:" in k}
    lost = [
        f"{i.job_name} (incident {i.id})"
        for i in incidents
        if f"incident:{i.id}:post" not in posted and i.id not in members
    ]
    rollup_ids = {int(k.split(":")[1]) for k in members.values()}
    rollups: dict[str, int] = defaultdict(int)
    for rollup_id in rollup_ids:
        key = f"incident:{rollup_id}:post"
        if key in posted:
            channel = sb.workspace.channel(channel_of[key])
            rollups[channel.name if channel else channel_of[key]] += posted[key]
    min_gap: dict[str, float] = {}
    for channel in sb.workspace.channels:
        stamps: set[float] = set()
        for m in sb.messages(channel.id):
            if m.source == "user":
                continue
            stamps.add(float(m.ts))
            stamps.update(float(r.ts) for r in sb.thread(channel.id, m.ts) if r.source != "user")
        ordered = sorted(stamps)
        if len(ordered) > 1:
            min_gap[channel.name] = min(b - a for a, b in zip(ordered, ordered[1:], strict=False))
    return OutageReport(
        jobs=jobs,
        incidents=len(incidents),
        incidents_per_job_max=max(per_job.values(), default=0),
        lost=lost,
        duplicated=duplicated,
        rollups=dict(rollups),
        min_gap=min_gap,
        refused=refused,
        socket_drops=drops,
        answered_after_drops=answered,
        seconds=time.monotonic() - started,
        steps=steps,
        outbox_left=left,
    )
