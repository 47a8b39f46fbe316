"""SandboxServer: the local Slack on loopback, on its own thread and event loop.

One aiohttp app serves the Web API (`/api/<method>`), response_urls (`/hooks/...`), the
Socket Mode websocket (`/link/`), the page (`/`, `/static/...`) and its API
(`/sandbox/api/...`).

This is the one place the sandbox's parts are built and connected: each takes the
collaborators it uses (the state, the faults, the socket hub, the response_url hooks, the
settings) and none reaches back through the server. The settings that may change while it
runs (`app_request_url`, `ack_deadline`, ...) live in one shared `Settings`; the server's
attributes of those names read and write it, so a change made here reaches every part.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.slack import files
from sandbox.slack.delivery import Deliverer
from sandbox.slack.faults import Faults
from sandbox.slack.interaction import Interactions
from sandbox.slack.pageapi import PageApi
from sandbox.slack.response_url import Hooks
from sandbox.slack.settings import ACK_DEADLINE, Settings
from sandbox.slack.socket_mode import SocketHub
from sandbox.slack.state import State
from sandbox.slack.views import Triggers
from sandbox.slack.webapi import WebApi
from sandbox.slack.workspace import SlackWorkspace, default_workspace

STATIC_DIR = Path(__file__).parent / "static"
PLACEHOLDER = (
    "<!doctype html><title>Slack sandbox</title>"
    "<p>The sandbox is running; its page (static/index.html) is not installed.</p>"
)


class SandboxServer:
    def __init__(
        self,
        app_request_url: str | None = None,
        signing_secret: str | None = None,
        workspace: SlackWorkspace | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ack_deadline: float = ACK_DEADLINE,
    ) -> None:
        self.settings = Settings(
            signing_secret=signing_secret or secrets.token_hex(16),
            verification_token=secrets.token_hex(12),
            app_request_url=app_request_url,
            ack_deadline=ack_deadline,
            host=host,
            port=port,
        )
        self.state = State(workspace or default_workspace())
        self.faults = Faults()
        self.triggers = Triggers()
        self.hooks = Hooks(self.state, self.faults, self.settings)
        self.sockets = SocketHub(self.state, self.settings)
        self.deliverer = Deliverer(self.state, self.sockets, self.faults, self.settings)
        self.interactions = Interactions(
            self.state, self.hooks, self.triggers, self.deliverer, self.faults, self.settings
        )
        self.webapi = WebApi(self.state, self.faults, self.sockets, self.triggers, self.settings)
        self.page: PageApi | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- settings (read by the parts at each use, so a change here takes effect) ----------
    @property
    def app_request_url(self) -> str | None:
        return self.settings.app_request_url

    @app_request_url.setter
    def app_request_url(self, url: str | None) -> None:
        self.settings.app_request_url = url

    @property
    def ack_deadline(self) -> float:
        return self.settings.ack_deadline

    @ack_deadline.setter
    def ack_deadline(self, seconds: float) -> None:
        self.settings.ack_deadline = seconds

    @property
    def signing_secret(self) -> str:
        return self.settings.signing_secret

    @signing_secret.setter
    def signing_secret(self, secret: str) -> None:
        self.settings.signing_secret = secret

    @property
    def verification_token(self) -> str:
        return self.settings.verification_token

    @verification_token.setter
    def verification_token(self, token: str) -> None:
        self.settings.verification_token = token

    # -- addresses -----------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self.settings.host

    @host.setter
    def host(self, host: str) -> None:
        self.settings.host = host

    @property
    def port(self) -> int:
        """The port asked for (0: any free one) until start() binds, then the bound one."""
        return self.settings.port

    @port.setter
    def port(self, port: int) -> None:
        self.settings.port = port

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def api_url(self) -> str:
        """What to give `WebClient(base_url=...)`."""
        return self.base_url + "/api/"

    @property
    def ws_base_url(self) -> str:
        return self.settings.ws_base_url

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> str:
        if self._thread is not None:
            return self.base_url
        ready: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="slack-sandbox", daemon=True
        )
        self._thread.start()
        ready.result(timeout=10)
        return self.base_url

    def _run(self, ready: Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._setup())
        except BaseException as e:  # noqa: BLE001 - report bind errors to the starting thread
            ready.set_exception(e)
            loop.close()
            return
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._teardown())
            loop.close()

    async def _setup(self) -> None:
        self.page = PageApi(self.state, self.interactions, self.faults)
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.add_routes(
            [
                web.route("*", "/api/{method}", self.webapi.handle),
                web.post("/hooks/{kind}/{team}/{hook_id}", self.hooks.handle),
                web.get("/link/", self.sockets.handle_ws),
                web.get("/", self._index),
                web.get("/static/{name:.+}", self._static),
                *files.routes(self.state),
                *self.page.routes(),
            ]
        )
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.settings.port = self._runner.addresses[0][1]

    async def _teardown(self) -> None:
        if self.page is not None:
            self.page.closing.set()
        await self.sockets.close_all()
        await self.deliverer.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self._thread is None or self.loop is None:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, coro: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine on the server's loop from another thread and wait for it."""
        assert self.loop is not None, "start() the sandbox first"
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # -- page files ----------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        index = STATIC_DIR / "index.html"
        if index.is_file():
            return web.FileResponse(index, headers={"Cache-Control": "no-cache"})
        return web.Response(text=PLACEHOLDER, content_type="text/html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        root = STATIC_DIR.resolve()
        path = (root / request.match_info["name"]).resolve()
        if root not in path.parents or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})
