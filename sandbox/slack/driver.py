"""The test driver: a person at a Slack client, plus eyes on everything the sandbox saw.

    with SlackSandbox(app_request_url=..., signing_secret=...) as sb:
        seen = sb.command("/jobs failing", user="U01ALICE", channel="C02ALERTS")
        assert seen.status == "ok" and "failing" in seen.texts[0]
        sb.click(seen.ephemerals[0], "ack")

`command`/`click` return once the app has acked and then gone quiet (or a timeout passed);
the result holds the ack and what the person saw because of it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from sandbox.slack.faults import Faults
from sandbox.slack.interaction import InteractionError
from sandbox.slack.server import SandboxServer
from sandbox.slack.state import ApiCall, Message
from sandbox.slack.workspace import SlackWorkspace

DEFAULT_CHANNEL = "C02ALERTS"


@dataclass
class Seen:
    """One command or click: the app's ack and what the person saw afterwards."""

    status: str  # ok | timeout | error | rejected
    http_status: int | None
    ack_body: str
    content_type: str
    detail: str | None  # e.g. operation_timeout, as Slack shows it
    transport: str
    request_id: str
    ack_message: Message | None = None
    responses: list[dict[str, Any]] = field(default_factory=list)  # response_url posts
    ephemerals: list[Message] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)  # new channel messages/replies
    original: Message | None = None  # the clicked message as it is now (None if deleted)
    redelivery: dict[str, Any] | None = None

    @property
    def texts(self) -> list[str]:
        """Every text the person was shown, oldest first."""
        shown = self.ephemerals + self.messages
        return [m.text for m in sorted(shown, key=lambda m: float(m.ts))]

    @property
    def error_text(self) -> str | None:
        """What Slack's client shows when the app failed the request."""
        return None if self.status == "ok" else f'failed with the error "{self.detail}"'


class SlackSandbox:
    def __init__(
        self,
        app_request_url: str | None = None,
        signing_secret: str | None = None,
        workspace: SlackWorkspace | None = None,
        *,
        port: int = 0,
        ack_deadline: float | None = None,
    ) -> None:
        self.server = SandboxServer(app_request_url, signing_secret, workspace, port=port)
        if ack_deadline is not None:
            self.server.ack_deadline = ack_deadline

    # -- lifecycle and settings ----------------------------------------------------------
    def start(self) -> str:
        return self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> SlackSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def api_url(self) -> str:
        return self.server.api_url

    @property
    def app_request_url(self) -> str | None:
        return self.server.app_request_url

    @app_request_url.setter
    def app_request_url(self, url: str | None) -> None:
        self.server.app_request_url = url

    @property
    def signing_secret(self) -> str:
        return self.server.signing_secret

    @property
    def bot_token(self) -> str:
        return self.server.state.ws.bot.bot_token

    @property
    def app_token(self) -> str:
        return self.server.state.ws.bot.app_token

    @property
    def workspace(self) -> SlackWorkspace:
        return self.server.state.ws

    @property
    def faults(self) -> Faults:
        return self.server.faults

    def client(self, **kwargs: Any) -> WebClient:
        """A real slack_sdk WebClient pointed at the sandbox with the bot token."""
        return WebClient(token=self.bot_token, base_url=self.api_url, **kwargs)

    def advance(self, seconds: float) -> None:
        """Move the sandbox's clock (response_url and trigger_id ages), not the signatures."""
        self.server.state.clock_offset += seconds

    # -- the record ----------------------------------------------------------------------
    @property
    def calls(self) -> list[ApiCall]:
        with self.server.state.lock:
            return list(self.server.state.calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        with self.server.state.lock:
            return copy.deepcopy(self.server.state.deliveries)

    @property
    def hook_posts(self) -> list[dict[str, Any]]:
        with self.server.state.lock:
            return copy.deepcopy(self.server.state.hook_posts)

    # -- reading channels ----------------------------------------------------------------
    def messages(self, channel: str = DEFAULT_CHANNEL) -> list[Message]:
        """Top-level messages, oldest first."""
        with self.server.state.lock:
            return copy.deepcopy(self.server.state.top_level(channel))

    def thread(self, channel: str, ts: str) -> list[Message]:
        with self.server.state.lock:
            return copy.deepcopy(self.server.state.thread(channel, ts))

    def ephemerals(self, user: str, channel: str | None = None) -> list[Message]:
        with self.server.state.lock:
            return copy.deepcopy(self.server.state.ephemerals_for(user, channel))

    def message(self, channel: str, message_id: str) -> Message | None:
        with self.server.state.lock:
            return copy.deepcopy(self.server.state.find(channel, message_id))

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait for `predicate()` to be truthy; returns its value (falsy on timeout)."""
        state = self.server.state
        deadline = time.monotonic() + timeout
        with state.changed:
            while True:
                value = predicate()
                left = deadline - time.monotonic()
                if value or left <= 0:
                    return value
                state.changed.wait(min(left, 0.1))

    def wait_for_socket(self, timeout: float = 5.0) -> bool:
        return bool(self.wait_until(lambda: self.server.sockets.connected, timeout))

    def drop_sockets(self) -> None:
        """Close every Socket Mode connection from Slack's side, as Slack does when it
        refreshes or restarts its edge; the client is expected to reconnect."""
        self.server.call(self.server.sockets.close_all())

    # -- acting as a person --------------------------------------------------------------
    def _default_user(self, user: str | None) -> str:
        return user or self.workspace.humans()[0].id

    def say(self, text: str, *, user: str | None = None, channel: str = DEFAULT_CHANNEL) -> str:
        """Post a plain message as a person; returns its ts."""
        state = self.server.state
        who = self.workspace.user(self._default_user(user))
        assert who is not None
        msg = Message(channel, state.next_ts(channel), text, user=who.id, username=who.name)
        msg.source = "user"
        self.server.call(_async(lambda: state.add_message(msg)))
        return msg.ts

    def command(
        self,
        text: str,
        *,
        user: str | None = None,
        channel: str = DEFAULT_CHANNEL,
        timeout: float = 5.0,
        settle: float = 0.3,
        expect_answer: bool = True,
    ) -> Seen:
        """Type `/cmd text` as `user`. With `expect_answer` (the default) wait for the app's
        answer after its ack; an app that only acks passes False so nothing is waited for."""
        user = self._default_user(user)
        outcome = self.server.call(self.server.interactions.command(user, channel, text))
        if not expect_answer:
            timeout = 0.0
        return self._collect(outcome, user, channel, None, timeout, settle)

    def click(
        self,
        message: Message | dict[str, Any] | str,
        action_id: str,
        value: str | None = None,
        *,
        user: str | None = None,
        channel: str | None = None,
        block_id: str | None = None,
        timeout: float = 5.0,
        settle: float = 0.3,
    ) -> Seen:
        """Click the element `action_id` of a message (a Message, a page dict or an id).

        `value` picks the option of a select/overflow. Confirm dialogs are taken as
        accepted: the driver clicks "confirm" for you.
        """
        if isinstance(message, Message):
            channel, message_id = message.channel, message.id
        elif isinstance(message, dict):
            channel, message_id = message["channel"], message["id"]
        else:
            message_id = message
        if channel is None:
            raise ValueError("pass channel= when the message is given by id")
        user = self._default_user(user)
        coro = self.server.interactions.click(
            user, channel, message_id, action_id, block_id=block_id, value=value
        )
        outcome = self.server.call(coro)
        return self._collect(outcome, user, channel, message_id, timeout, settle)

    def _collect(
        self,
        outcome: dict[str, Any],
        user: str,
        channel: str,
        clicked: str | None,
        timeout: float,
        settle: float,
    ) -> Seen:
        state = self.server.state
        started = outcome["started"]
        hook_id = outcome["hook_id"]
        with state.lock:
            acked_message = any(
                m.source == "ack" and float(m.ts) >= started
                for m in state.ephemerals + state.top_level(channel)
            )
        if outcome["status"] == "ok":
            # The app answers after its ack: wait for its first visible act, then for quiet.
            if not acked_message and timeout > 0:
                baseline = outcome["activity_before"]
                self.wait_until(lambda: state.visible_activity() > baseline, timeout)
            if timeout > 0:
                self._settle(settle, timeout)
        with state.lock:
            shown_eph = [m for m in state.ephemerals_for(user, channel) if float(m.ts) >= started]
            shown = [
                m
                for chan in [state.messages.get(channel, {})]
                for m in chan.values()
                if float(m.ts) >= started
            ]
            seen = Seen(
                status=outcome["status"],
                http_status=outcome["http_status"],
                ack_body=outcome["ack_body"],
                content_type=outcome["content_type"],
                detail=outcome["detail"],
                transport=outcome["transport"],
                request_id=outcome["request_id"],
                ack_message=next((m for m in shown_eph + shown if m.source == "ack"), None),
                responses=[p for p in state.hook_posts if p["hook_id"] == hook_id],
                ephemerals=shown_eph,
                messages=shown,
                original=state.find(channel, clicked) if clicked else None,
                redelivery=outcome.get("redelivery"),
            )
            return copy.deepcopy(seen)

    def _settle(self, quiet: float, timeout: float) -> None:
        state = self.server.state
        deadline = time.monotonic() + timeout
        with state.changed:
            last = state.version
            while time.monotonic() < deadline:
                state.changed.wait(quiet)
                if state.version == last:
                    return
                last = state.version


async def _async(fn: Callable[[], Any]) -> Any:
    return fn()


__all__ = ["DEFAULT_CHANNEL", "InteractionError", "Seen", "SlackSandbox"]
