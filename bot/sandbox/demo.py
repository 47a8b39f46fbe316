"""`jobs-bot demo`: the local Slack sandbox, a seeded warehouse and the bot, in one process.

The bot comes from ONE factory, `build_app(client, signing_secret) -> slack_bolt.App`: the
real one in `bot.slack.app` once it exists, else a small stand-in. The app gets the same
wiring as production (a WebClient and a signing secret), pointed at the sandbox.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bot.errors import UserError
from bot.sandbox.slack.server import SandboxServer
from bot.slack.http_server import BoltHttpServer
from bot.slack.runner import web_client


def find_factory() -> tuple[Callable[..., Any], str]:
    """The real app factory when it exists, else the stand-in (and which one it is)."""
    # find_spec, not try/except ImportError: a broken real app must fail loudly, not fall back.
    if importlib.util.find_spec("bot.slack.app") is not None:
        module = importlib.import_module("bot.slack.app")
        return module.build_app, "bot.slack.app"
    from bot.sandbox.standin_app import build_app

    return build_app, "stand-in app (bot.slack.app not present yet)"


def seed_warehouse(db: str | None, seed: int, workdir: Path) -> str | None:
    """The warehouse file the bot reads: the given one, or a fresh demo account."""
    if db is not None:
        print(f"Warehouse: {db}")
        return db
    try:
        demo_account = importlib.import_module("bot.sandbox.demo_account")
    except ImportError:
        demo_account = None
    generate = getattr(demo_account, "generate", None)
    if generate is None:
        print("Warehouse: skipped (the demo account generator is not installed yet)")
        return None
    path = str(workdir / "demo.duckdb")
    story = generate(path, seed=seed)
    print(f"Warehouse: {path} (demo account, seed {seed})")
    print(f"Story: {story_line(story)}")
    return path


def story_line(story: Any) -> str:
    summary = getattr(story, "summary", None)
    if callable(summary):
        summary = summary()
    if isinstance(summary, str) and summary:
        return summary.splitlines()[0]
    return type(story).__name__


def make_service(db_path: str | None, config: str | None) -> tuple[Any, str]:
    """The real app's service over the embedded warehouse, and the slash command to serve."""
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.service import CommandService
    from bot.warehouse import make_warehouse

    if db_path is None:
        raise UserError("no warehouse to answer from: pass --db FILE")
    cfg = load_config(config)  # None: the built-in demo config
    service = CommandService(make_warehouse("embedded", db_path=db_path), cfg, SystemClock())
    return service, cfg.slack.command


def build(
    factory: Callable[..., Any],
    client: WebClient,
    secret: str,
    *,
    db: str | None,
    config: str | None,
    sandbox: SandboxServer | None = None,
) -> Any:
    """Call the factory with the production wiring plus what its signature asks for."""
    accepted = inspect.signature(factory).parameters
    extra: dict[str, Any] = {}
    if "service" in accepted:
        extra["service"], command = make_service(db, config)
        if "command" in accepted:
            extra["command"] = command
        if sandbox is not None:
            sandbox.state.ws.commands = (command,)
    for name, value in (("db", db), ("config", config)):
        if name in accepted:
            extra[name] = value
    return factory(client, secret, **extra)


def demo_command(*, port: int, db: str | None, config: str | None, seed: int) -> int:
    signing_secret = secrets.token_hex(16)  # generated per run, shared by sandbox and app
    sandbox = SandboxServer(signing_secret=signing_secret, port=port)
    try:
        base_url = sandbox.start()
    except OSError as e:
        raise UserError(f"cannot serve the sandbox on port {port}: {e.strerror or e}") from None
    http: BoltHttpServer | None = None
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workdir = Path(tempfile.mkdtemp(prefix="jobs-bot-demo-"))
    try:
        db_path = seed_warehouse(db, seed, workdir)
        factory, which = find_factory()
        # The production client (retries on 429/5xx/resets), only its base_url differs.
        client = web_client(sandbox.state.ws.bot.bot_token, base_url=sandbox.api_url)
        app = build(factory, client, signing_secret, db=db_path, config=config, sandbox=sandbox)
        http = BoltHttpServer(app)
        sandbox.app_request_url = http.start()
        print(f"Bot: {which}, listening on {sandbox.app_request_url}")
        print(f"Open {base_url}/ in a browser and type /jobs help (Ctrl-C to stop)", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        print("Stopping…", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if http is not None:
            http.stop()
        sandbox.stop()
        # After the app is stopped: it may hold the warehouse file open until then.
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
