"""The JSON + Server-Sent Events API the sandbox web page uses (contract in issue 3).

`user` in every call is the person the page acts as; ephemerals reach only that person.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.slack.interaction import InteractionError, Interactions
from sandbox.slack.state import Message, State

if TYPE_CHECKING:
    from sandbox.slack.faults import Faults

PING_EVERY = 15.0


class PageApi:
    def __init__(self, state: State, interactions: Interactions, faults: Faults) -> None:
        self._state = state
        self._interactions = interactions
        self._faults = faults
        self.closing = asyncio.Event()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/sandbox/api/state", self.state),
            web.get("/sandbox/api/messages", self.messages),
            web.get("/sandbox/api/replies", self.replies),
            web.get("/sandbox/api/stream", self.stream),
            web.post("/sandbox/api/command", self.command),
            web.post("/sandbox/api/click", self.click),
            web.get("/sandbox/api/faults", self.faults),
            web.post("/sandbox/api/faults", self.faults),
            web.delete("/sandbox/api/faults", self.faults),
        ]

    async def state(self, request: web.Request) -> web.Response:
        ws = self._state.ws
        bot = ws.bot
        return web.json_response(
            {
                "team": {"id": ws.team_id, "name": ws.team_name, "domain": ws.domain},
                "bot": {"user_id": bot.user_id, "bot_id": bot.bot_id, "name": bot.name},
                "users": [
                    {
                        "id": u.id,
                        "name": u.name,
                        "real_name": u.real_name,
                        "display_name": u.display_name,
                        "email": u.email,
                        "is_bot": u.is_bot,
                    }
                    for u in ws.users
                ],
                "channels": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "is_private": c.is_private,
                        "is_archived": c.is_archived,
                        "is_member": bot.user_id in c.members,
                    }
                    for c in ws.channels
                ],
                "usergroups": [
                    {"id": g.id, "handle": g.handle, "users": list(g.users)} for g in ws.usergroups
                ],
            }
        )

    async def messages(self, request: web.Request) -> web.Response:
        q = request.query
        msgs = self._state.page_messages(q.get("channel", ""), q.get("user"))
        return web.json_response({"messages": msgs})

    async def replies(self, request: web.Request) -> web.Response:
        q = request.query
        msgs = self._state.page_replies(q.get("channel", ""), q.get("ts", ""), q.get("user"))
        return web.json_response({"messages": msgs})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        user = request.query.get("user")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()

        def listener(event: str, data: dict[str, Any], only_user: str | None) -> None:
            if only_user is None or only_user == user:
                loop.call_soon_threadsafe(queue.put_nowait, (event, data))

        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await resp.prepare(request)
        unsubscribe = self._state.subscribe(listener)
        closer = asyncio.ensure_future(self.closing.wait())
        closer.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            await resp.write(b": connected\n\n")
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), PING_EVERY)
                except TimeoutError:
                    await resp.write(b": ping\n\n")
                    continue
                if item is None:
                    break
                event, data = item
                await resp.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            unsubscribe()
            closer.cancel()
        return resp

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {}

    async def command(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        text = str(body.get("text", "")).strip()
        user, channel = str(body.get("user", "")), str(body.get("channel", ""))
        try:
            if not text.startswith("/"):
                return web.json_response(self._say(user, channel, text, body.get("thread_ts")))
            return web.json_response(await self._interactions.command(user, channel, text))
        except InteractionError as e:
            return web.json_response({"ok": False, "error": e.code})

    def _say(self, user_id: str, channel_id: str, text: str, thread_ts: Any) -> dict[str, Any]:
        """A person posting plain text: stored as their message, the app is not told."""
        state = self._state
        user = state.ws.user(user_id)
        ch = state.ws.channel(channel_id)
        if user is None or ch is None:
            raise InteractionError("user_not_found" if user is None else "channel_not_found")
        if not text:
            raise InteractionError("no_text")
        parent = state.get(ch.id, str(thread_ts)) if thread_ts else None
        msg = Message(
            channel=ch.id,
            ts=state.next_ts(ch.id),
            text=text,
            user=user.id,
            username=user.display_name,
            thread_ts=(parent.thread_ts or parent.ts) if parent else None,
            source="user",
        )
        state.add_message(msg)
        return {"ok": True, "ts": msg.ts}

    async def click(self, request: web.Request) -> web.Response:
        b = await self._body(request)
        try:
            outcome = await self._interactions.click(
                str(b.get("user", "")),
                str(b.get("channel", "")),
                str(b.get("message_id", "")),
                str(b.get("action_id", "")),
                block_id=b.get("block_id"),
                value=b.get("value"),
                selected_option=b.get("selected_option"),
            )
        except InteractionError as e:
            return web.json_response({"ok": False, "error": e.code})
        return web.json_response(outcome)

    async def faults(self, request: web.Request) -> web.Response:
        faults = self._faults
        if request.method == "DELETE":
            faults.clear()
        elif request.method == "POST":
            b = await self._body(request)
            opts = {k: b[k] for k in ("retry_after", "status", "seconds") if k in b}
            try:
                faults.add(str(b.get("kind")), str(b.get("method", "*")), b.get("times"), **opts)
            except (TypeError, ValueError) as e:
                return web.json_response({"ok": False, "error": str(e)}, status=400)
        return web.json_response({"ok": True, "faults": [f.to_dict() for f in faults.active()]})
