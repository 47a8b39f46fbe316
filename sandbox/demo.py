"""`jobs-bot demo`: the local Slack sandbox, a local Databricks whose world keeps running (the
simulator), a seeded embedded warehouse the simulator keeps writing to, and the real bot,
built by `bot.wiring` exactly as in production (a WebClient with retries, a signing secret,
HTTP mode, the Jobs API through databricks-sdk with a token per workspace, a state store,
the notifier and the watchers), only pointed at local stand-ins instead of slack.com and
Databricks."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from bot import wiring
from bot.clock import SystemClock
from bot.config import Config, load_config
from bot.config.sections import WorkspaceConfig
from bot.errors import UserError
from bot.warehouse.duckdb_backend import DuckDBWarehouse, open_db
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.simulator import Runner, Simulator
from sandbox.databricks.simulator_catalog import from_warehouse
from sandbox.databricks.sink import DuckDBSink
from sandbox.slack.server import SandboxServer


def seed_warehouse(seed: int, workdir: Path) -> str:
    """A fresh demo account ending now; the path of its warehouse file."""
    from sandbox.demo_account import generate

    path = str(workdir / "demo.duckdb")
    story = generate(path, seed=seed)
    failing = ", ".join(f"{f.job.name} ({f.streak} in a row)" for f in story.failing[:3])
    spike = story.cost_spike.job.name if story.cost_spike is not None else "none"
    print(
        f"Warehouse: demo account (seed {seed}), {story.jobs} jobs in "
        f"{len(story.workspaces)} workspaces"
    )
    print(f"  failing now: {failing or 'nothing'}; cost spike today: {spike}")
    return path


@dataclass
class LocalWorld:
    """The running local Databricks: its world, servers and simulator."""

    world: World
    server: LocalDatabricks
    runner: Runner
    workspaces: tuple[WorkspaceConfig, ...]
    env: dict[str, str]

    def stop(self) -> None:
        self.runner.stop()
        self.server.stop()


def start_databricks(warehouse: DuckDBWarehouse, seed: int) -> LocalWorld:
    """Serve the demo account's workspaces as a local Databricks and set its world running;
    print each workspace's URL and token so the Databricks CLI or SDK can be pointed at it."""
    clock = SystemClock()
    world = World(clock)
    con = warehouse.connection
    sim = Simulator(world, from_warehouse(con, seed=seed), DuckDBSink(con), clock=clock, seed=seed)
    server = LocalDatabricks(world)
    urls = server.start()
    workspaces: list[WorkspaceConfig] = []
    env: dict[str, str] = {}
    for ws_id, url in sorted(urls.items()):
        with world.lock:
            name = world.workspace(ws_id).name
        token = server.token(ws_id)
        # A PAT works in its own workspace only: one env var per workspace, as in production.
        var = f"JOBS_BOT_DEMO_TOKEN_{ws_id}"
        env[var] = token
        workspaces.append(
            WorkspaceConfig(id=str(ws_id), name=name, host=url, jobs_api=True, pat_env=var)
        )
        print(f"Databricks workspace {name}: {url} (token {token})")
    # Something fails within the first minute, so a newcomer sees an alert arrive by itself.
    sim.kick()
    runner = Runner(sim).start()
    return LocalWorld(world, server, runner, tuple(workspaces), env)


def demo_config(config: str | None, workspaces: tuple[WorkspaceConfig, ...]) -> Config:
    cfg = load_config(config or DEMO_CONFIG)
    if workspaces and not cfg.workspaces:
        cfg = cfg.model_copy(update={"workspaces": list(workspaces)})
    return cfg


def _fresh_store(cfg: Config) -> None:
    """Each demo starts from an empty state store (it is a new account); the file is kept
    afterwards so `jobs-bot audit` in this folder shows what was done in the demo."""
    url = cfg.state_url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(path) + suffix).unlink()


def demo_command(*, port: int, db: str | None, config: str | None, seed: int) -> int:
    signing_secret = secrets.token_hex(16)  # generated per run, shared by sandbox and app
    sandbox = SandboxServer(signing_secret=signing_secret, port=port)
    try:
        base_url = sandbox.start()
    except OSError as e:
        raise UserError(f"cannot serve the sandbox on port {port}: {e.strerror or e}") from None
    bot: wiring.Bot | None = None
    local: LocalWorld | None = None
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workdir = Path(tempfile.mkdtemp(prefix="jobs-bot-demo-"))
    try:
        if db is None:
            db = seed_warehouse(seed, workdir)
        elif not Path(db).exists():
            raise UserError(f"{db} does not exist: run `jobs-bot seed --db {db}` first")
        else:
            print(f"Warehouse: {db}")
        # Read-write and shared: the simulator appends system-table rows the bot then reads.
        warehouse = DuckDBWarehouse(open_db(db))
        local = start_databricks(warehouse, seed)
        cfg = demo_config(config, local.workspaces)
        _fresh_store(cfg)
        sandbox.state.ws.commands = (cfg.slack.command,)
        # The production bot over HTTP mode; only the base URLs point elsewhere.
        link = wiring.SlackLink(
            bot_token=sandbox.state.ws.bot.bot_token,
            api_url=sandbox.api_url,
            transport="http",
            signing_secret=signing_secret,
        )
        bot = wiring.build(
            cfg,
            SystemClock(),
            warehouse=warehouse,
            slack=link,
            store=True,
            watch=True,
            env=local.env,
        )
        # A newcomer should not have to wait for 09:00 (or Monday) to see the reports. Queued
        # before the scheduler starts: its first tick would otherwise find today's 09:00
        # digest missed (a fresh store) and send it marked late.
        if bot.digests is not None:
            bot.digests.send_now(reason="demo")
        if bot.weekly is not None:
            bot.weekly.send_now(reason="demo")
        if bot.cost_scan is not None:
            bot.cost_scan.run()  # the hourly scan, once now: today's cost spike is alerted
        bot.start()
        assert bot.request_url is not None
        sandbox.app_request_url = bot.request_url
        print(f"Bot: listening on {sandbox.app_request_url}")
        print(
            "Reports: today's digest, the weekly cost report and a cost-anomaly scan were run "
            "now (demo; normally 09:00, Mondays and hourly)"
        )
        print(
            f"Open {base_url}/ in a browser and type /jobs help; a failure alert arrives by "
            "itself within a minute or two (Ctrl-C to stop)",
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        print("Stopping…", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if local is not None:
            local.stop()
        if bot is not None:
            bot.stop()
        sandbox.stop()
        # After the app is stopped: it may hold the warehouse file open until then.
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
