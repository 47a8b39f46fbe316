"""LocalDatabricks: one HTTP server per workspace of a `World`, on loopback, on one
background thread and event loop (the style of sandbox/slack/server.py).

Each workspace gets its own port, so its base URL stands in for a workspace host. The server
adds what is not the world's business: authentication, faults, the per-endpoint call counter,
error bodies, and taking a workspace down (its listener closed: connection refused).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

from aiohttp import web

from sandbox.databricks import auth, routes_iam, routes_jobs
from sandbox.databricks.call import Call
from sandbox.databricks.errors import ApiError
from sandbox.databricks.faults import Faults
from sandbox.databricks.world import World

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", headers=headers
    )


class _Site:
    """One workspace's listener: its runner, port and faults."""

    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self.port = 0
        self.runner: web.AppRunner | None = None
        self.faults = Faults()


class LocalDatabricks:
    def __init__(self, world: World, *, host: str = "127.0.0.1") -> None:
        self.world = world
        self.host = host
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sites: dict[int, _Site] = {}

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> dict[int, str]:
        """Serve every workspace of the world (again: also those added since); {id: base_url}."""
        if self._thread is None:
            ready: Future[None] = Future()
            self._thread = threading.Thread(
                target=self._run, args=(ready,), name="databricks-sandbox", daemon=True
            )
            self._thread.start()
            ready.result(timeout=10)
        with self.world.lock:
            new = [ws_id for ws_id in self.world.workspaces if ws_id not in self._sites]
        for ws_id in new:
            self._sites[ws_id] = _Site(ws_id)
            self._call(self._bind(self._sites[ws_id]))
        return self.urls()

    def _run(self, ready: Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            for site in self._sites.values():
                loop.run_until_complete(self._unbind(site))
            loop.close()

    def stop(self) -> None:
        if self._thread is None or self.loop is None:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self.loop = None
        self._sites.clear()

    def __enter__(self) -> LocalDatabricks:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coro: Awaitable[None]) -> None:
        assert self.loop is not None, "start() first"
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)  # type: ignore[arg-type]

    async def _bind(self, site: _Site) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        self._routes(app, site)
        runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await runner.setup()
        tcp = web.TCPSite(runner, self.host, site.port)  # port 0 first, then the same again
        await tcp.start()
        site.port = runner.addresses[0][1]
        site.runner = runner
        with self.world.lock:
            self.world.workspace(site.workspace_id).host = self._url(site)

    async def _unbind(self, site: _Site) -> None:
        if site.runner is not None:
            await site.runner.cleanup()
            site.runner = None

    # -- what tests use ------------------------------------------------------------------
    def _url(self, site: _Site) -> str:
        return f"http://{self.host}:{site.port}"

    def urls(self) -> dict[int, str]:
        return {ws_id: self._url(s) for ws_id, s in self._sites.items()}

    def url(self, workspace_id: int) -> str:
        return self._url(self._sites[workspace_id])

    def token(self, workspace_id: int) -> str:
        """The PAT of the workspace's admin service principal."""
        with self.world.lock:
            return self.world.workspace(workspace_id).token

    def oauth(self, workspace_id: int) -> tuple[str, str]:
        """(client_id, client_secret) of the workspace's service principal, for oauth-m2m."""
        with self.world.lock:
            sp = self.world.workspace(workspace_id).sp
            return sp.application_id, sp.client_secret

    def sdk_kwargs(self, workspace_id: int, *, oauth: bool = False) -> dict[str, str]:
        """Keyword arguments for `WorkspaceClient(**...)` / `Config(**...)`."""
        if oauth:
            client_id, secret = self.oauth(workspace_id)
            return {
                "host": self.url(workspace_id),
                "client_id": client_id,
                "client_secret": secret,
                "auth_type": "oauth-m2m",
            }
        return {
            "host": self.url(workspace_id),
            "token": self.token(workspace_id),
            "auth_type": "pat",
        }

    def faults(self, workspace_id: int) -> Faults:
        return self._sites[workspace_id].faults

    def calls(self, workspace_id: int) -> dict[str, int]:
        """Calls this workspace's server received, per endpoint ("jobs/runs/list", ...)."""
        return self._sites[workspace_id].faults.calls()

    def reset_calls(self, workspace_id: int) -> None:
        self._sites[workspace_id].faults.reset_calls()

    def serve_host_metadata(self, workspace_id: int, on: bool = True) -> None:
        """Serve /.well-known/databricks-config or answer it 404, as hosts that lack it do
        (the SDK then cannot find the OIDC endpoints by itself)."""
        with self.world.lock:
            self.world.workspace(workspace_id).serves_host_metadata = on

    def take_down(self, workspace_id: int) -> None:
        """Close the workspace's listener and connections: calls get "connection refused"."""
        self._call(self._unbind(self._sites[workspace_id]))

    def bring_up(self, workspace_id: int) -> None:
        """Listen again on the same port (the same base URL)."""
        site = self._sites[workspace_id]
        if site.runner is None:
            self._call(self._bind(site))

    # -- serving -------------------------------------------------------------------------
    def _routes(self, app: web.Application, site: _Site) -> None:
        for method, path, handler in routes_jobs.ROUTES:
            for version in ("2.2", "2.1"):  # the SDK calls 2.2; 2.1 is the same path set
                route = self._api(site, path, handler)
                app.router.add_route(method, f"/api/{version}/{path}", route)
        for method, path, name, handler in routes_iam.ROUTES:
            app.router.add_route(method, path, self._api(site, name, handler))
        app.router.add_get("/.well-known/databricks-config", self._plain(site, "host-metadata"))
        app.router.add_get(
            "/oidc/.well-known/oauth-authorization-server", self._plain(site, "oidc-discovery")
        )
        app.router.add_post("/oidc/v1/token", self._token(site))
        app.router.add_route("*", "/{tail:.*}", self._unknown(site))

    def _api(self, site: _Site, name: str, handler: Callable[[Call], dict[str, Any]]) -> Route:
        async def serve(request: web.Request) -> web.StreamResponse:
            site.faults.count(name)
            delay, fault, headers = site.faults.take()
            if delay:
                await asyncio.sleep(delay)
            if fault is not None:
                return _json(fault.status, fault.body(), headers)
            try:
                body = await self._body(request)
                with self.world.lock:
                    ws = self.world.workspace(site.workspace_id)
                    principal = auth.authenticate(
                        ws, request.headers.get("Authorization"), self.world.now_ms()
                    )
                    call = Call(
                        ws,
                        principal,
                        self.world.now_ms(),
                        request.query,
                        body,
                        dict(request.match_info),
                        self.world.output_limit,
                    )
                    return _json(200, handler(call))
            except ApiError as e:
                return _json(e.status, e.body())

        return serve

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if request.method == "GET" or not request.can_read_body:
            return {}
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(
                400, "MALFORMED_REQUEST", "Could not parse request body as JSON."
            ) from None
        if not isinstance(body, dict):
            raise ApiError(400, "MALFORMED_REQUEST", "The request body must be a JSON object.")
        return body

    def _plain(self, site: _Site, name: str) -> Route:
        async def serve(request: web.Request) -> web.StreamResponse:
            site.faults.count(name)
            base = self._url(site)
            if name == "host-metadata":
                with self.world.lock:
                    ws = self.world.workspace(site.workspace_id)
                    if not ws.serves_host_metadata:
                        message = f"No API found for '{request.method} {request.path}'"
                        return _json(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": message})
                    return _json(200, auth.host_metadata(ws, base))
            return _json(200, auth.discovery(base))

        return serve

    def _token(self, site: _Site) -> Route:
        async def serve(request: web.Request) -> web.StreamResponse:
            site.faults.count("oidc/v1/token")
            form = {k: str(v) for k, v in (await request.post()).items()}
            with self.world.lock:
                ws = self.world.workspace(site.workspace_id)
                status, body = auth.issue_token(
                    ws, form, request.headers.get("Authorization"), self.world.now_ms()
                )
            return _json(status, body)

        return serve

    def _unknown(self, site: _Site) -> Route:
        async def serve(request: web.Request) -> web.StreamResponse:
            site.faults.count("unknown")
            message = f"No API found for '{request.method} {request.path}'"
            return _json(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": message})

        return serve
