"""Socket Mode: `apps.connections.open` hands out a one-time websocket URL; envelopes go
down that socket and the app acks each by `envelope_id` (reference §4.4)."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from sandbox.slack.apierror import Ctx

if TYPE_CHECKING:
    from sandbox.slack.settings import Settings
    from sandbox.slack.state import State


class SocketHub:
    def __init__(self, state: State, settings: Settings) -> None:
        self.state = state
        self.settings = settings  # the sandbox's address, for the URLs it hands out
        self._tickets: set[str] = set()
        self._conns: list[web.WebSocketResponse] = []
        self._pending: dict[str, asyncio.Future[Any]] = {}

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self._conns)

    def connections_open(self, ctx: Ctx) -> dict[str, Any]:
        ticket = secrets.token_hex(12)
        self._tickets.add(ticket)
        app_id = self.state.ws.bot.app_id
        url = f"{self.settings.ws_base_url}/link/?ticket={ticket}&app_id={app_id}"
        return {"ok": True, "url": url}

    async def handle_ws(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)  # each URL connects once, like Slack's
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._conns.append(ws)
        self.state.touch()
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._conns),
                    "debug_info": {"host": "sandbox", "approximate_connection_time": 3600},
                    "connection_info": {"app_id": self.state.ws.bot.app_id},
                }
            )
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                fut = self._pending.pop(str(data.get("envelope_id")), None)
                if fut is not None and not fut.done():
                    fut.set_result(data.get("payload"))
        finally:
            if ws in self._conns:
                self._conns.remove(ws)
            self.state.touch()
        return ws

    async def deliver(
        self, envelope_type: str, payload: dict[str, Any], *, retry: int, timeout: float
    ) -> dict[str, Any] | None:
        """Send one envelope on the newest connection; the ack's payload (or None)."""
        live = [ws for ws in self._conns if not ws.closed]
        if not live:
            raise ConnectionError("no socket mode connection")
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            # Slack lets commands (and view submissions) answer inside the ack.
            "accepts_response_payload": envelope_type == "slash_commands",
        }
        if retry:
            envelope["retry_attempt"] = retry
            envelope["retry_reason"] = "timeout"
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = fut
        try:
            await live[-1].send_str(json.dumps(envelope))
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(envelope_id, None)

    async def close_all(self) -> None:
        for ws in list(self._conns):
            await ws.close()
        self._conns.clear()
