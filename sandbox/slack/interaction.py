"""A person using Slack: typing a slash command or clicking an element of a message.

Builds the payloads of reference §1.1 (command form fields) and §2.1 (block_actions),
delivers them, shows the ack to the person, and reports the outcome to the page.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from sandbox.slack.delivery import Ack, Deliverer
from sandbox.slack.response_url import Hook, Hooks, ResponseError
from sandbox.slack.state import Message, State

if TYPE_CHECKING:
    from sandbox.slack.faults import Faults
    from sandbox.slack.settings import Settings
    from sandbox.slack.views import Triggers


class InteractionError(Exception):
    """A request the page or driver made that Slack's client would not allow."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def find_element(
    msg: Message, action_id: str, block_id: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(block, element) for the interactive element with that action_id."""
    for block in msg.blocks:
        if block_id and block.get("block_id") != block_id:
            continue
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for el in candidates:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return block, el
    return None


def _options(el: dict[str, Any]) -> list[dict[str, Any]]:
    opts = list(el.get("options") or [])
    for group in el.get("option_groups") or []:
        opts.extend(group.get("options") or [])
    return opts


class Interactions:
    def __init__(
        self,
        state: State,
        hooks: Hooks,
        triggers: Triggers,
        deliverer: Deliverer,
        faults: Faults,
        settings: Settings,
    ) -> None:
        self.state = state
        self.hooks = hooks
        self.triggers = triggers
        self.deliverer = deliverer
        self.faults = faults
        self.settings = settings  # the verification token payloads carry

    def _user(self, user_id: str) -> Any:
        user = self.state.ws.user(user_id)
        if user is None or user.is_bot:
            raise InteractionError("user_not_found")
        return user

    async def command(self, user_id: str, channel_id: str, text: str) -> dict[str, Any]:
        state = self.state
        ws = state.ws
        user = self._user(user_id)
        ch = ws.channel(channel_id)
        if ch is None:
            raise InteractionError("channel_not_found")
        command, _, arg = text.strip().partition(" ")
        if command not in ws.commands:
            raise InteractionError("unknown_command")
        started = state.now()
        hook = self.hooks.new("commands", ch.id, user.id)
        fields = {
            "token": self.settings.verification_token,
            "team_id": ws.team_id,
            "team_domain": ws.domain,
            "channel_id": ch.id,
            "channel_name": "directmessage" if ch.is_im else ch.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": command_text(arg.strip(), ws),
            "api_app_id": ws.bot.app_id,
            "is_enterprise_install": "false",
            "response_url": self.hooks.url(hook),
            "trigger_id": self.triggers.issue(state.now()),
        }
        body = urlencode(fields)
        # Counted before delivery: the app may answer through response_url before its ack
        # reaches us, so "what happened since" must start here.
        activity_before = state.visible_activity()
        ack = await self.deliverer.send("slash_commands", body, fields)
        if ack.status == "ok":
            self._show_ack(ack, hook)
        outcome = self._outcome(ack, user.id, started, hook, activity_before)
        if self.faults.take("redeliver"):
            again = await self.deliverer.send("slash_commands", body, fields, retry=1)
            outcome["redelivery"] = again.to_dict()
        return outcome

    async def click(
        self,
        user_id: str,
        channel_id: str,
        message_id: str,
        action_id: str,
        block_id: str | None = None,
        value: str | None = None,
        selected_option: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        state = self.state
        ws = state.ws
        user = self._user(user_id)
        msg = state.find(channel_id, message_id)
        if msg is None or (msg.ephemeral and msg.to_user != user.id):
            raise InteractionError("action_not_found")
        found = find_element(msg, action_id, block_id)
        if found is None:
            raise InteractionError("action_not_found")
        block, el = found
        started = state.now()
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block.get("block_id"),
            "type": el.get("type"),
        }
        if el.get("type") == "button":
            action["text"] = el.get("text")
            if "value" in el:
                action["value"] = el["value"]
            if "style" in el:
                action["style"] = el["style"]
            if "url" in el:
                action["url"] = el["url"]
        elif selected_option is not None or value is not None:
            wanted = value if value is not None else (selected_option or {}).get("value")
            option = next((o for o in _options(el) if o.get("value") == wanted), None)
            if option is None:
                raise InteractionError("action_not_found")
            action["selected_option"] = option
        elif _options(el):
            raise InteractionError("action_not_found")  # a select needs a choice
        action["action_ts"] = f"{started:.6f}"
        ch = ws.channel(channel_id)
        hook = self.hooks.new("actions", channel_id, user.id, target=msg)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": ws.team_id,
            },
            "api_app_id": ws.bot.app_id,
            "token": self.settings.verification_token,
            "container": {
                "type": "message",
                "message_ts": msg.ts,
                "channel_id": channel_id,
                "is_ephemeral": msg.ephemeral,
            },
            "trigger_id": self.triggers.issue(started),
            "team": {"id": ws.team_id, "domain": ws.domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": ch.name if ch else ""},
            "state": {"values": {}},
            "response_url": self.hooks.url(hook),
            "actions": [action],
        }
        if msg.ephemeral:
            pass  # Slack sends no `message` copy for ephemeral containers (reference §2.1)
        else:
            payload["message"] = msg.to_api(ws.team_id)
        body = "payload=" + quote(json.dumps(payload))
        activity_before = state.visible_activity()
        ack = await self.deliverer.send("interactive", body, payload)
        outcome = self._outcome(ack, user.id, started, hook, activity_before)
        if self.faults.take("redeliver"):
            again = await self.deliverer.send("interactive", body, payload, retry=1)
            outcome["redelivery"] = again.to_dict()
        return outcome

    def _show_ack(self, ack: Ack, hook: Hook) -> None:
        """A command's ack body is a message for the invoker (ephemeral unless in_channel)."""
        if not ack.body.strip():
            return
        message: dict[str, Any]
        if ack.content_type.startswith("application/json"):
            try:
                message = json.loads(ack.body)
            except ValueError:
                message = {"text": ack.body}
        else:
            message = {"text": ack.body}
        if not isinstance(message, dict) or not (message.get("text") or message.get("blocks")):
            return
        try:
            self.hooks.show(hook, message, source="ack")
        except ResponseError as e:
            ack.status, ack.detail = "error", e.text

    def _outcome(
        self, ack: Ack, user_id: str, started: float, hook: Hook, activity_before: int
    ) -> dict[str, Any]:
        request_id = uuid.uuid4().hex[:12]
        self.state.emit(
            "command_result",
            {
                "request_id": request_id,
                "status": ack.status,
                "http_status": ack.http_status,
                "detail": ack.detail,
            },
            only_user=user_id,
        )
        return {
            "ok": True,
            "request_id": request_id,
            "status": ack.status,
            "http_status": ack.http_status,
            "ack_body": ack.body,
            "content_type": ack.content_type,
            "detail": ack.detail,
            "transport": ack.transport,
            "started": started,
            "hook_id": hook.id,
            "activity_before": activity_before,
        }


_MENTION_RE = re.compile(r"(?<![\w<])([@#])([\w.\-]+)")


def command_text(typed: str, ws: Any) -> str:
    """What the app receives as a slash command's `text` for what the user typed.

    Slack escapes `&`, `<` and `>` in it as in every message text (inferred from bots that
    html-unescape command text; reference/slack.md §1.2), and with the command's
    `should_escape` on it also turns known `@user` / `#channel` names into control sequences.
    """
    text = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if not ws.should_escape:
        return text

    def control(m: re.Match[str]) -> str:
        sigil, name = m.group(1), m.group(2)
        if sigil == "@":
            user = next((u for u in ws.users if name in (u.name, u.display_name)), None)
            return f"<@{user.id}|{user.name}>" if user else m.group(0)
        channel = ws.channel_by_name(name)
        return f"<#{channel.id}|{channel.name}>" if channel else m.group(0)

    return _MENTION_RE.sub(control, text)
