"""The Web API front door: `/api/<method>` parsing, tokens, scopes, faults, the call record.

Accepts what slack_sdk sends (JSON for message/view methods, forms for the rest) and what
other clients send (form fields holding JSON strings, the token as a `token` field).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.slack import chat, directory, files, views
from sandbox.slack.apierror import ApiError, Ctx
from sandbox.slack.state import ApiCall, State
from sandbox.slack.views import Triggers

if TYPE_CHECKING:
    from sandbox.slack.faults import Faults
    from sandbox.slack.settings import Settings
    from sandbox.slack.socket_mode import SocketHub
    from sandbox.slack.workspace import Bot

METHODS = {**chat.METHODS, **directory.METHODS, **views.METHODS, **files.METHODS}

# Bot scopes each method needs (reference §5.2 / §7.2); a narrower workspace install
# then gets Slack's `missing_scope` with `needed`/`provided`.
NEEDED_SCOPE = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "reactions.add": "reactions:write",
    "conversations.info": "channels:read",
    "conversations.list": "channels:read",
    "conversations.join": "channels:join",
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "usergroups.users.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


async def read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    ctype = request.content_type
    raw = await request.read()
    if ctype == "application/json":
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise ApiError("invalid_json") from None
        if not isinstance(body, dict):
            raise ApiError("invalid_json")
        params.update(body)
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if ctype == "multipart/form-data":
            form = await request.post()
        else:
            from urllib.parse import parse_qsl

            form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def check_token(bot: Bot, method: str, token: str | None) -> None:
    if method == "api.test":
        return
    if not token:
        raise ApiError("not_authed")
    if method == "apps.connections.open":
        if token == bot.app_token:
            return
        raise ApiError("not_allowed_token_type" if token == bot.bot_token else "invalid_auth")
    if token == bot.app_token:
        raise ApiError("not_allowed_token_type")
    if token != bot.bot_token:
        raise ApiError("invalid_auth")
    needed = NEEDED_SCOPE.get(method)
    if needed and needed not in bot.scopes:
        raise ApiError("missing_scope", needed=needed, provided=",".join(bot.scopes))


class WebApi:
    """Answers `/api/<method>`: faults first, then the token, then the method module."""

    def __init__(
        self,
        state: State,
        faults: Faults,
        sockets: SocketHub,
        triggers: Triggers,
        settings: Settings,
    ) -> None:
        self.state = state
        self.faults = faults
        self.sockets = sockets  # apps.connections.open
        self.triggers = triggers  # views.open
        self.settings = settings  # the sandbox's address, for the URLs methods hand out

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        faults = self.faults
        headers: dict[str, str] = {}
        params: dict[str, Any] = {}
        token: str | None = None
        try:
            params = await read_params(request)
            auth = request.headers.get("Authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            token = token or params.pop("token", None)
            params.pop("token", None)
        except ApiError as e:
            return self._answer(method, params, token, 200, e.body(), headers)

        slow = faults.take("slow", method)
        if slow:
            await asyncio.sleep(slow.seconds)
        if faults.take("drop", method):
            # Close without an answer: the client sees a reset / "remote end closed".
            self.state.record_call(ApiCall(method, params, token, 0, {"dropped": True}))
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        limited = faults.take("ratelimit", method)
        if limited:
            headers["Retry-After"] = str(limited.retry_after)
            return self._answer(
                method, params, token, 429, {"ok": False, "error": "ratelimited"}, headers
            )
        failed = faults.take("server_error", method)
        if failed:
            self.state.record_call(ApiCall(method, params, token, failed.status, {}, "text/html"))
            return web.Response(
                status=failed.status,
                text="<html><body><h1>Server Error</h1></body></html>",
                content_type="text/html",
            )

        fn = METHODS.get(method)
        if method == "apps.connections.open":
            fn = self.sockets.connections_open
        ctx = Ctx(self.state, self.triggers, self.settings.base_url, params, token, headers)
        try:
            check_token(self.state.ws.bot, method, token)
            if fn is None:
                raise ApiError("unknown_method", req_method=method)
            body = fn(ctx)
        except ApiError as e:
            body = e.body()
        return self._answer(method, params, token, 200, body, ctx.headers)

    def _answer(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str],
    ) -> web.Response:
        self.state.record_call(ApiCall(method, params, token, status, body, "application/json"))
        return web.Response(
            status=status, body=json.dumps(body).encode(), headers={**JSON_HEADERS, **headers}
        )
