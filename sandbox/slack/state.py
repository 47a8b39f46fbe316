"""What the sandbox workspace holds at run time: messages, threads, ephemerals, the record.

Every mutation happens on the server's event loop; readers on other threads (the test
driver) take the same lock. Each change bumps `version` and wakes `changed`, so a driver
can wait for "the app has answered" without polling sleeps.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.slack.workspace import Channel, SlackWorkspace

VISIBLE_METHODS = ("chat.", "views.", "reactions.", "files.completeUploadExternal")
Listener = Callable[[str, dict[str, Any], str | None], None]


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    username: str = ""
    thread_ts: str | None = None
    replies: list[str] = field(default_factory=list)
    edited: bool = False
    ephemeral: bool = False
    to_user: str | None = None  # the only viewer of an ephemeral
    eph_id: str | None = None
    subtype: str | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    source: str = "api"  # api | ack | response_url | user
    # App-to-app message metadata ({event_type, event_payload}); conversations.history and
    # .replies return it only when called with include_all_metadata.
    metadata: dict[str, Any] | None = None
    # Files shared with the message (files.completeUploadExternal), as Slack's file objects.
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.eph_id or self.ts

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, team_id: str, *, with_metadata: bool = False) -> dict[str, Any]:
        """The message as Slack's Web API returns it (`metadata` only when asked for)."""
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.subtype:
            out["subtype"] = self.subtype
        if self.user:
            out["user"] = self.user
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = self.app_id
        out["team"] = team_id
        if self.blocks:
            out["blocks"] = self.blocks
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.replies:
            out["reply_count"] = len(self.replies)
            out["latest_reply"] = self.replies[-1]
        if self.edited:
            out["edited"] = {"user": self.user, "ts": self.ts}
        if self.reactions:
            out["reactions"] = [
                {"name": n, "users": list(u), "count": len(u)} for n, u in self.reactions.items()
            ]
        if with_metadata and self.metadata is not None:
            out["metadata"] = self.metadata
        if self.files:
            out["files"] = [dict(f) for f in self.files]
        return out

    def to_page(self) -> dict[str, Any]:
        """The message in the page API contract (`files` only on a message that has some)."""
        page = {
            "id": self.id,
            "ts": self.ts,
            "channel": self.channel,
            "user": self.user,
            "bot_id": self.bot_id,
            "username": self.username,
            "text": self.text,
            "blocks": list(self.blocks),
            "thread_ts": self.thread_ts,
            "reply_count": len(self.replies),
            "ephemeral": self.ephemeral,
            "edited": self.edited,
            "deleted": False,
        }
        if self.files:
            keys = ("id", "name", "title", "mimetype", "url_private", "alt_txt")
            page["files"] = [{k: f.get(k) for k in keys} for f in self.files]
        return page


@dataclass
class ApiCall:
    """One Web API call as the sandbox saw it."""

    method: str
    params: dict[str, Any]
    token: str | None
    status: int
    response: dict[str, Any]
    content_type: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")


class State:
    def __init__(self, workspace: SlackWorkspace) -> None:
        self.ws = workspace
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self.messages: dict[str, dict[str, Message]] = {}  # channel -> ts -> message
        self.ephemerals: list[Message] = []
        self.calls: list[ApiCall] = []
        self.hook_posts: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, Any] = {}  # file id -> sandbox.slack.files.StoredFile
        self.home_views: dict[str, dict[str, Any]] = {}
        self._last_micros: dict[str, int] = {}
        self._eph_seq = itertools.count(1)
        self._listeners: list[Listener] = []
        self.clock_offset = 0.0  # seconds added to wall time: lets tests age response_urls

    # -- time and ids ------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.clock_offset

    def next_ts(self, channel: str) -> str:
        # Slack's ts doubles as the message id, so it must be unique and increasing per channel.
        with self.lock:
            micros = int(self.now() * 1_000_000)
            micros = max(micros, self._last_micros.get(channel, 0) + 1)
            self._last_micros[channel] = micros
            return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # -- events ------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self.lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self.lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: str, data: dict[str, Any], only_user: str | None = None) -> None:
        """Tell page streams; `only_user` keeps ephemerals to their viewer."""
        with self.lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event, data, only_user)
        self.touch()

    def touch(self) -> None:
        with self.changed:
            self.version += 1
            self.changed.notify_all()

    def visible_activity(self) -> int:
        """How many things an app did that people can see (posts, edits, response_urls)."""
        with self.lock:
            seen = sum(1 for c in self.calls if c.method.startswith(VISIBLE_METHODS))
            return seen + len(self.hook_posts)

    def record_call(self, call: ApiCall) -> None:
        with self.lock:
            self.calls.append(call)
        self.touch()

    # -- channels ----------------------------------------------------------------------
    def resolve_channel(self, ref: str) -> Channel | None:
        """A channel by id or name; a user id opens (or finds) the bot's DM with that user."""
        ch = self.ws.channel(ref) or (self.ws.channel_by_name(ref) if ref else None)
        if ch is not None:
            return ch
        user = self.ws.user(ref)
        if user is not None and not user.is_bot:
            dm = Channel(
                id="D" + user.id[1:],
                name=f"@{user.display_name}",
                is_private=True,
                is_im=True,
                members={user.id, self.ws.bot.user_id},
            )
            with self.lock:
                if self.ws.channel(dm.id) is None:
                    self.ws.channels.append(dm)
            return self.ws.channel(dm.id)
        return None

    # -- messages ----------------------------------------------------------------------
    def add_message(self, msg: Message) -> Message:
        with self.lock:
            chan = self.messages.setdefault(msg.channel, {})
            chan[msg.ts] = msg
            parent = chan.get(msg.thread_ts) if msg.is_reply and msg.thread_ts else None
            if parent is not None:
                parent.replies.append(msg.ts)
        self.emit("message", msg.to_page())
        if parent is not None:
            self.emit("message_changed", parent.to_page())
        return msg

    def add_ephemeral(self, msg: Message) -> Message:
        with self.lock:
            msg.ephemeral = True
            msg.eph_id = f"eph-{next(self._eph_seq)}"
            self.ephemerals.append(msg)
        self.emit("message", msg.to_page(), only_user=msg.to_user)
        return msg

    def get(self, channel: str, ts: str) -> Message | None:
        with self.lock:
            return self.messages.get(channel, {}).get(ts)

    def find(self, channel: str, message_id: str) -> Message | None:
        """A stored message or ephemeral by page id."""
        with self.lock:
            if message_id.startswith("eph-"):
                return next(
                    (m for m in self.ephemerals if m.eph_id == message_id and m.channel == channel),
                    None,
                )
            return self.get(channel, message_id)

    def replace(
        self,
        msg: Message,
        text: str,
        blocks: list[dict[str, Any]] | None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        with self.lock:
            msg.text = text
            if blocks is not None:
                msg.blocks = blocks
            if metadata is not None:
                msg.metadata = metadata
            msg.edited = msg.source == "api" and not msg.ephemeral
        self.emit("message_changed", msg.to_page(), only_user=msg.to_user)

    def delete(self, msg: Message) -> None:
        with self.lock:
            if msg.ephemeral:
                if msg in self.ephemerals:
                    self.ephemerals.remove(msg)
            else:
                chan = self.messages.get(msg.channel, {})
                chan.pop(msg.ts, None)
                parent = chan.get(msg.thread_ts) if msg.is_reply and msg.thread_ts else None
                if parent is not None and msg.ts in parent.replies:
                    parent.replies.remove(msg.ts)
        self.emit("message_deleted", {"channel": msg.channel, "id": msg.id}, only_user=msg.to_user)

    def top_level(self, channel: str) -> list[Message]:
        with self.lock:
            return [
                m
                for m in self.messages.get(channel, {}).values()
                if not m.is_reply or m.subtype == "thread_broadcast"
            ]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """Parent first, then replies; empty when there is no such message."""
        with self.lock:
            parent = self.get(channel, ts)
            if parent is None:
                return []
            chan = self.messages.get(channel, {})
            return [parent] + [chan[r] for r in parent.replies if r in chan]

    def ephemerals_for(self, user: str, channel: str | None = None) -> list[Message]:
        with self.lock:
            return [
                m
                for m in self.ephemerals
                if m.to_user == user and (channel is None or m.channel == channel)
            ]

    def page_messages(self, channel: str, user: str | None) -> list[dict[str, Any]]:
        msgs = self.top_level(channel)
        if user:
            msgs += [m for m in self.ephemerals_for(user, channel) if not m.thread_ts]
        msgs.sort(key=lambda m: float(m.ts))
        return [m.to_page() for m in msgs]

    def page_replies(self, channel: str, ts: str, user: str | None) -> list[dict[str, Any]]:
        msgs = self.thread(channel, ts)
        if not msgs:
            return []
        if user:
            extra = [m for m in self.ephemerals_for(user, channel) if m.thread_ts == ts]
            msgs = msgs[:1] + sorted(msgs[1:] + extra, key=lambda m: float(m.ts))
        return [m.to_page() for m in msgs]
