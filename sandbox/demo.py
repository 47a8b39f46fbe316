"""`jobs-bot demo`: the local Slack sandbox, a seeded embedded warehouse and the real bot,
built by `bot.wiring` exactly as in production (a WebClient with retries, a signing secret,
HTTP mode), only pointed at the sandbox instead of slack.com."""

from __future__ import annotations

import secrets
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from bot import wiring
from bot.clock import SystemClock
from bot.config import Config, load_config
from bot.config.sections import WorkspaceConfig
from bot.errors import UserError
from bot.warehouse import make_warehouse
from sandbox import DEMO_CONFIG
from sandbox.slack.server import SandboxServer


def seed_warehouse(seed: int, workdir: Path) -> tuple[str, tuple[WorkspaceConfig, ...]]:
    """A fresh demo account ending now; its file and its workspaces (for links)."""
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
    # No Jobs API in the demo yet, so the workspaces are for links only.
    workspaces = tuple(
        WorkspaceConfig(id=w.workspace_id, name=w.name, host=w.url, jobs_api=False)
        for w in story.workspaces
    )
    return path, workspaces


def demo_config(config: str | None, workspaces: tuple[WorkspaceConfig, ...]) -> Config:
    cfg = load_config(config or DEMO_CONFIG)
    if workspaces and not cfg.workspaces:
        cfg = cfg.model_copy(update={"workspaces": list(workspaces)})
    return cfg


def demo_command(*, port: int, db: str | None, config: str | None, seed: int) -> int:
    signing_secret = secrets.token_hex(16)  # generated per run, shared by sandbox and app
    sandbox = SandboxServer(signing_secret=signing_secret, port=port)
    try:
        base_url = sandbox.start()
    except OSError as e:
        raise UserError(f"cannot serve the sandbox on port {port}: {e.strerror or e}") from None
    bot: wiring.Bot | None = None
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workdir = Path(tempfile.mkdtemp(prefix="jobs-bot-demo-"))
    try:
        if db is None:
            db, workspaces = seed_warehouse(seed, workdir)
        else:
            if not Path(db).exists():
                raise UserError(f"{db} does not exist: run `jobs-bot seed --db {db}` first")
            print(f"Warehouse: {db}")
            workspaces = ()
        cfg = demo_config(config, workspaces)
        sandbox.state.ws.commands = (cfg.slack.command,)
        # The production bot over HTTP mode; only Slack's base_url points elsewhere.
        link = wiring.SlackLink(
            bot_token=sandbox.state.ws.bot.bot_token,
            api_url=sandbox.api_url,
            transport="http",
            signing_secret=signing_secret,
        )
        warehouse = make_warehouse("embedded", db_path=db)
        bot = wiring.build(cfg, SystemClock(), warehouse=warehouse, slack=link)
        bot.start()
        assert bot.request_url is not None
        sandbox.app_request_url = bot.request_url
        print(f"Bot: listening on {sandbox.app_request_url}")
        print(f"Open {base_url}/ in a browser and type /jobs help (Ctrl-C to stop)", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        print("Stopping…", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if bot is not None:
            bot.stop()
        sandbox.stop()
        # After the app is stopped: it may hold the warehouse file open until then.
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
