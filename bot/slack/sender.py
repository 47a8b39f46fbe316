"""The Slack side of the notifier: one outbox message → the Web API calls that deliver it,
with its failures sorted into what the notifier can act on.

Every post and thread reply carries message metadata naming its outbox row, so a message
Slack accepted but the store never marked sent (a crash, a lost answer) can be found in the
channel's history and recorded instead of being posted again.

Posts go through a copy of the client *without* retry handlers: a post is not idempotent at
Slack, and a client that silently re-sends after a dropped connection or a 5xx may post
twice. The notifier retries through the outbox instead, which looks in the history first.
Rate limits are handled by the notifier too, per channel, so one channel's Retry-After
never stalls the others inside a client sleep.
"""

from __future__ import annotations

import base64
import http.client
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import SlackResponse

from bot.slack.errors import ChannelNotFound, NotInChannel, RateLimited, SlackError, typed
from bot.slack.payloads import is_ours, metadata, plain_text
from bot.store.records import OutboxKind, OutboxMessage

T = TypeVar("T")

# How far back from a row's creation the history is searched for its message: our clock and
# Slack's may disagree a little; a minute is plenty.
CLOCK_SKEW_SECONDS = 60.0
# The search is bounded: at most HISTORY_PAGES pages of HISTORY_PAGE messages. A channel that
# got more than that since the row was created is searched no further; the row is then
# posted (a possible duplicate, logged as such).
HISTORY_PAGE = 200
HISTORY_PAGES = 5


class Retryable(Exception):
    """Slack did not (visibly) take the message: a 5xx, a dropped connection, a timeout.
    `ambiguous` when it may have been delivered anyway (the request reached Slack)."""

    def __init__(self, reason: str, *, ambiguous: bool) -> None:
        super().__init__(reason)
        self.ambiguous = ambiguous


class SlowDown(Exception):
    """HTTP 429: Slack refused the call (so nothing was posted); try again after
    `retry_after` seconds."""

    def __init__(self, method: str, retry_after: float) -> None:
        super().__init__(f"{method}: ratelimited (retry after {retry_after:g}s)")
        self.retry_after = retry_after


# Slack ids: C… public/private channels, G… old private groups, D… direct messages.
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


@dataclass(frozen=True)
class Target:
    """Where a message goes: the channel, and for updates the message to edit, for thread
    replies the thread's root."""

    channel: str
    ts: str | None = None


@dataclass(frozen=True)
class Sent:
    """Slack has the message: its ts (None for ephemerals); `recovered` when it was found in
    the history rather than posted now; `joined` when the bot joined the channel first."""

    ts: str | None
    recovered: bool = False
    joined: bool = False


def single_shot(client: WebClient) -> WebClient:
    """The same connection settings as `client`, without its retry handlers."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        retry_handlers=[],
    )


def retry_after(error: SlackApiError) -> float:
    headers = error.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def slack_call(method: str, fn: Callable[[], T]) -> T:
    """One Web API call, its failures as SlowDown, Retryable or a typed SlackError."""
    try:
        return fn()
    except SlackApiError as e:
        status = e.response.status_code
        if status == 429:
            raise SlowDown(method, retry_after(e)) from e
        if status >= 500:
            raise Retryable(f"{method}: HTTP {status}", ambiguous=True) from e
        error = typed(e, method)
        if isinstance(error, RateLimited):
            raise SlowDown(method, error.retry_after or 1.0) from e
        raise error from e
    except (OSError, http.client.HTTPException) as e:
        # URLError, connection reset, timeout, "remote end closed": the request may or may not
        # have reached Slack.
        raise Retryable(f"{method}: {type(e).__name__}: {e}", ambiguous=True) from e


class Sender:
    """Delivers one outbox message. `client` (with its retry handlers) serves the idempotent
    calls: history, replies, join; the sends go through a single-shot copy of it."""

    def __init__(self, client: WebClient, logger: logging.Logger) -> None:
        self._client = client
        self._once = single_shot(client)
        self._log = logger
        self._ids: dict[str, str] = {}

    def channel_id(self, channel: str) -> str:
        """The channel's id for a `#name` from the config: chat.update and
        conversations.history take only ids, so an incident must remember its channel by id.
        Ids and unknown names come back as given (posting then says channel_not_found)."""
        if _CHANNEL_ID.match(channel):
            return channel
        name = channel.removeprefix("#")
        if name not in self._ids:
            cursor: str | None = None
            try:
                while True:
                    page = self._client.conversations_list(
                        types="public_channel,private_channel",
                        exclude_archived=True,
                        limit=1000,
                        cursor=cursor,
                    )
                    for ch in page.get("channels") or ():
                        self._ids[str(ch.get("name"))] = str(ch.get("id"))
                    cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                    if not cursor or name in self._ids:
                        break
            except SlackApiError as e:
                self._log.warning("conversations.list: %s", e.response.get("error"))
                return channel
        return self._ids.get(name, channel)

    def send(self, message: OutboxMessage, target: Target, *, fresh: bool) -> Sent:
        """Deliver `message` to `target`. `fresh` is False when an earlier claim of the row
        may have posted it already: then the channel is searched for it first."""
        payload = message.payload
        if message.kind is OutboxKind.UPDATE:
            if target.ts is None:
                raise SlackError("message_not_found", "chat.update")
            return self._update(target.channel, target.ts, payload)
        if message.kind is OutboxKind.EPHEMERAL:
            return self._ephemeral(target.channel, payload)
        thread_ts = target.ts if message.kind is OutboxKind.THREAD_REPLY else None
        if message.kind is OutboxKind.THREAD_REPLY and thread_ts is None:
            raise SlackError("thread_not_found", "chat.postMessage")
        if payload.get("file") is not None:
            return self._upload(message, target.channel, thread_ts, fresh=fresh)
        joined = False
        if not fresh:
            found, joined = self._find_posted(message, target.channel, thread_ts)
            if found is not None:
                return Sent(found, recovered=True, joined=joined)
        args: dict[str, Any] = {
            "channel": target.channel,
            "text": plain_text(payload),
            "metadata": metadata(message),
            # Alerts link to Databricks runs; previews of those only add noise.
            "unfurl_links": bool(payload.get("unfurl_links", False)),
            "unfurl_media": False,
        }
        if payload.get("blocks") and not payload.get("plain"):
            args["blocks"] = payload["blocks"]
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
            if payload.get("reply_broadcast"):
                args["reply_broadcast"] = True
        response, joined_now = self._joining(
            target.channel, "chat.postMessage", lambda: self._once.chat_postMessage(**args)
        )
        return Sent(str(response["ts"]), joined=joined or joined_now)

    def _upload(
        self, message: OutboxMessage, channel: str, thread_ts: str | None, *, fresh: bool
    ) -> Sent:
        """Share the payload's `file` in the channel (or thread) with Slack's upload flow —
        files.getUploadURLExternal, a POST of the bytes to the URL it returns, then
        files.completeUploadExternal with channel_id and thread_ts — which slack_sdk's
        files_upload_v2 performs. A file share carries no message metadata, so a row claimed
        again looks in the channel (or thread) for a message holding a file of its name."""
        spec = message.payload["file"]
        name = str(spec["filename"])
        joined = False
        if not fresh:

            def has_file(found: dict[str, Any]) -> bool:
                return any(f.get("name") == name for f in found.get("files") or ())

            ts, joined = self._find_posted(message, channel, thread_ts, has_file)
            if ts is not None:
                return Sent(ts, recovered=True, joined=joined)
        args: dict[str, Any] = {
            "filename": name,
            "content": base64.b64decode(spec["content_b64"]),
            "title": str(spec.get("title") or name),
            "channel": channel,
        }
        if spec.get("alt_txt"):
            args["alt_txt"] = str(spec["alt_txt"])
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
        if message.payload.get("text"):
            args["initial_comment"] = plain_text(message.payload)

        def upload() -> SlackResponse:
            try:
                return self._once.files_upload_v2(**args)
            except SlackRequestError as e:
                # Step 2 (the POST of the bytes) failed: nothing was shared yet.
                raise Retryable(f"file upload: {e}", ambiguous=False) from e

        response, joined_now = self._joining(channel, "files_upload_v2", upload)
        return Sent(_share_ts(response, channel), joined=joined or joined_now)

    def _update(self, channel: str, ts: str, payload: dict[str, Any]) -> Sent:
        args: dict[str, Any] = {"channel": channel, "ts": ts, "text": plain_text(payload)}
        if payload.get("plain"):
            # Without `blocks` Slack keeps the old ones, which would hide the new text.
            args["blocks"] = []
        elif payload.get("blocks") is not None:
            args["blocks"] = payload["blocks"]
        response = slack_call("chat.update", lambda: self._once.chat_update(**args))
        return Sent(str(response.get("ts") or ts))

    def _ephemeral(self, channel: str, payload: dict[str, Any]) -> Sent:
        user = payload.get("user")
        if not user:
            raise SlackError("user_not_found", "chat.postEphemeral")
        args: dict[str, Any] = {"channel": channel, "user": user, "text": plain_text(payload)}
        if payload.get("blocks") and not payload.get("plain"):
            args["blocks"] = payload["blocks"]
        if payload.get("thread_ts"):
            args["thread_ts"] = payload["thread_ts"]
        _, joined = self._joining(
            channel, "chat.postEphemeral", lambda: self._once.chat_postEphemeral(**args)
        )
        return Sent(None, joined=joined)

    def _joining(
        self, channel: str, method: str, fn: Callable[[], SlackResponse]
    ) -> tuple[SlackResponse, bool]:
        """Call `fn`; on `not_in_channel` (a public channel the bot never joined) join it
        and call again."""
        try:
            return slack_call(method, fn), False
        except NotInChannel:
            self._join(channel)
            return slack_call(method, fn), True

    def _join(self, channel: str) -> None:
        self._log.info("joining channel %s to post there (not_in_channel)", channel)
        try:
            slack_call(
                "conversations.join", lambda: self._client.conversations_join(channel=channel)
            )
        except SlackError as e:
            if e.code == "method_not_supported_for_channel_type":
                # A private channel: only an invite lets the bot in; to the bot it is missing.
                raise ChannelNotFound("channel_not_found", "conversations.join") from e
            raise

    def _find_posted(
        self,
        message: OutboxMessage,
        channel: str,
        thread_ts: str | None,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> tuple[str | None, bool]:
        """The ts of this row's message in `channel` (or its thread), if an earlier attempt
        posted it (by its metadata, or `match`); and whether the bot had to join the channel
        to read it."""
        oldest = f"{message.created_at.timestamp() - CLOCK_SKEW_SECONDS:.6f}"
        try:
            return self._search(message, channel, thread_ts, oldest, match), False
        except NotInChannel:
            # Bots read only channels they are in (posting needs no membership with
            # chat:write.public); joining is what posting would do next anyway.
            self._join(channel)
            return self._search(message, channel, thread_ts, oldest, match), True
        except ChannelNotFound:
            return None, False  # nothing can have been posted where the bot cannot see

    def _search(
        self,
        message: OutboxMessage,
        channel: str,
        thread_ts: str | None,
        oldest: str,
        match: Callable[[dict[str, Any]], bool] | None = None,
    ) -> str | None:
        ours = match or (lambda found: is_ours(found, message))
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            args: dict[str, Any] = {
                "channel": channel,
                "include_all_metadata": True,
                "oldest": oldest,
                "limit": HISTORY_PAGE,
            }
            if cursor:
                args["cursor"] = cursor
            page = self._page(args, thread_ts)
            for found in page.get("messages") or []:
                if ours(found):
                    return str(found["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        self._log.warning(
            "outbox %s: searched %d messages of %s without finding it; posting it (it may "
            "have been posted before)",
            message.id,
            HISTORY_PAGE * HISTORY_PAGES,
            channel,
        )
        return None

    def _page(self, args: dict[str, Any], thread_ts: str | None) -> SlackResponse:
        if thread_ts is None:
            return slack_call(
                "conversations.history", lambda: self._client.conversations_history(**args)
            )
        return slack_call(
            "conversations.replies",
            lambda: self._client.conversations_replies(ts=thread_ts, **args),
        )


def _share_ts(response: SlackResponse, channel: str) -> str | None:
    """The ts of the message that shares the uploaded file in `channel`, when Slack says it
    already (sharing may finish after completeUploadExternal answers; then None)."""
    for file in response.get("files") or ():
        shares = (file.get("shares") or {}) if isinstance(file, dict) else {}
        for scope in ("public", "private"):
            for share in (shares.get(scope) or {}).get(channel) or ():
                if share.get("ts"):
                    return str(share["ts"])
    return None
