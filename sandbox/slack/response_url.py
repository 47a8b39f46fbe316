"""response_url: the per-interaction webhook an app answers through.

Each command or click gets its own URL, good for 5 uses within 30 minutes (reference
§1.4). A post becomes an ephemeral for the invoker (default) or a channel message
(`response_type: in_channel`); `replace_original` / `delete_original` act on the message
that holds the clicked button, or for a command on the message the command produced.

Faults with the method ``response_url`` (sandbox/slack/faults.py) make this endpoint answer
the way Slack's sometimes does: 429 with Retry-After, a 5xx, a slow answer, or a dropped
connection. Those posts are recorded but change nothing and use none of the URL's 5 uses.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.slack.blockkit import MAX_TEXT_LEN, check_blocks, normalize_blocks
from sandbox.slack.faults import RESPONSE_URL, Faults
from sandbox.slack.state import Message, State

if TYPE_CHECKING:
    from sandbox.slack.settings import Settings

MAX_USES = 5
LIFETIME = 30 * 60.0


@dataclass
class Hook:
    id: str
    kind: str  # commands | actions
    channel: str
    user: str
    created: float
    target: Message | None = None  # what replace_original / delete_original act on
    uses: int = 0


class ResponseError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class Hooks:
    def __init__(self, state: State, faults: Faults, settings: Settings) -> None:
        self.state = state
        self.faults = faults
        self.settings = settings  # the sandbox's address, for the URLs it hands out
        self._lock = threading.Lock()
        self._hooks: dict[str, Hook] = {}

    def new(self, kind: str, channel: str, user: str, target: Message | None = None) -> Hook:
        hook = Hook(secrets.token_hex(12), kind, channel, user, self.state.now(), target)
        with self._lock:
            self._hooks[hook.id] = hook
        return hook

    def url(self, hook: Hook) -> str:
        team = self.state.ws.team_id
        return f"{self.settings.base_url}/hooks/{hook.kind}/{team}/{hook.id}"

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.text()
        hook = self._hooks.get(request.match_info["hook_id"])
        faulty = await self._fault(request, hook, raw)
        if faulty is not None:
            return faulty
        status, text = 200, "ok"
        try:
            body = self._parse(raw)
            self._use(hook)
            assert hook is not None
            self.show(hook, body, source="response_url")
        except ResponseError as e:
            status, text = e.status, e.text
        self._record(hook, raw, request, status, text)
        self.state.touch()
        return web.Response(status=status, text=text)

    async def _fault(
        self, request: web.Request, hook: Hook | None, raw: str
    ) -> web.Response | None:
        """A response_url fault, if one is set: the answer Slack gives instead of taking it."""
        faults = self.faults
        slow = faults.take("slow", RESPONSE_URL, exact=True)
        if slow:
            await asyncio.sleep(slow.seconds)
        headers: dict[str, str] = {}
        if faults.take("drop", RESPONSE_URL, exact=True):
            self._record(hook, raw, request, 0, "dropped")
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        limited = faults.take("ratelimit", RESPONSE_URL, exact=True)
        failed = None if limited else faults.take("server_error", RESPONSE_URL, exact=True)
        if limited:
            # (uncertain) the body of a rate-limited response_url post is undocumented; the
            # 429 and Retry-After are what clients act on.
            status, text = 429, "rate_limited"
            headers["Retry-After"] = str(limited.retry_after)
        elif failed:
            status, text = failed.status, "service_unavailable"
        else:
            return None
        self._record(hook, raw, request, status, text)
        self.state.touch()
        return web.Response(status=status, text=text, headers=headers)

    def _record(
        self, hook: Hook | None, raw: str, request: web.Request, status: int, text: str
    ) -> None:
        state = self.state
        with state.lock:
            state.hook_posts.append(
                {
                    "hook_id": hook.id if hook else None,
                    "kind": hook.kind if hook else None,
                    "body": raw,
                    "content_type": request.headers.get("Content-Type", ""),
                    "status": status,
                    "answer": text,
                }
            )

    def _parse(self, raw: str) -> dict[str, Any]:
        try:
            body = json.loads(raw)
        except ValueError:
            raise ResponseError(400, "invalid_payload") from None
        if not isinstance(body, dict):
            raise ResponseError(400, "invalid_payload")
        return body

    def _use(self, hook: Hook | None) -> None:
        # (uncertain) Slack's bodies for these refusals are undocumented in the reference;
        # "no_service"/"expired_url"/"used_url" follow Slack's webhook error style.
        if hook is None:
            raise ResponseError(404, "no_service")
        with self._lock:
            if self.state.now() - hook.created > LIFETIME:
                raise ResponseError(404, "expired_url")
            if hook.uses >= MAX_USES:
                raise ResponseError(404, "used_url")
            hook.uses += 1

    def show(self, hook: Hook, body: dict[str, Any], *, source: str) -> Message | None:
        """Apply a response body (from response_url or an ack) to what people see."""
        state = self.state
        target = hook.target
        if body.get("delete_original"):
            if target is None:
                raise ResponseError(404, "message_not_found")
            state.delete(target)
            hook.target = None
            return None
        text = body.get("text") or ""
        blocks = body.get("blocks")
        if not isinstance(text, str) or (not text and not blocks):
            raise ResponseError(400, "no_text")
        if len(text) > MAX_TEXT_LEN:
            raise ResponseError(400, "msg_too_long")
        if blocks is not None and (not isinstance(blocks, list) or check_blocks(blocks)):
            raise ResponseError(400, "invalid_blocks")
        if body.get("replace_original") and target is not None:
            state.replace(target, text, normalize_blocks(blocks) if blocks is not None else [])
            return target
        bot = state.ws.bot
        in_channel = body.get("response_type") == "in_channel"
        thread_ts = body.get("thread_ts")
        msg = Message(
            channel=hook.channel,
            ts=state.next_ts(hook.channel),
            text=text,
            blocks=normalize_blocks(blocks),
            user=bot.user_id,
            bot_id=bot.bot_id,
            app_id=bot.app_id,
            username=bot.name,
            thread_ts=str(thread_ts)
            if thread_ts and state.get(hook.channel, str(thread_ts))
            else None,
            source=source,
        )
        if in_channel:
            state.add_message(msg)
        else:
            msg.to_user = hook.user
            state.add_ephemeral(msg)
        if hook.kind == "commands":
            hook.target = msg  # a command's URL edits what that command produced
        return msg
