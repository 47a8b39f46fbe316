"""The doctor's questions to Slack, asked through the bot's own adapter (bot.slack's WebClient
factory and its error mapping): who the token is and which scopes it holds (`auth.test` and its
`x-oauth-scopes` response header), whether the Socket Mode token works, and what the bot sees
of a channel. Nothing is posted or joined."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from bot.doctor.slack_checks import ChannelState, SlackIdentity, SlackProblem

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


class WebSlackProbe:
    def __init__(self, bot_token: str, app_token: str, api_url: str) -> None:
        from bot.slack.client import web_client

        self._client = web_client(bot_token, api_url, timeout=10)
        self._app_client = web_client(app_token, api_url, timeout=10) if app_token else None
        self._app_token = app_token

    def identity(self) -> SlackIdentity:
        found = _call("auth.test", self._client.auth_test)
        # Header names are case-insensitive; Slack sends them lower-case over HTTP/2.
        headers = {str(k).lower(): v for k, v in (found.headers or {}).items()}
        raw = headers.get("x-oauth-scopes")
        if isinstance(raw, list):
            raw = ",".join(raw)
        scopes = None if raw is None else frozenset(s.strip() for s in str(raw).split(",") if s)
        team = str(found.get("team") or found.get("team_id") or "?")
        user = str(found.get("user") or found.get("user_id") or "?")
        return SlackIdentity(team=team, bot_user=user, scopes=scopes)

    def app_token_works(self) -> None:
        if self._app_client is None:
            raise SlackProblem("not_authed")
        client = self._app_client
        # Returns a one-time websocket URL; it is not opened, so no connection is made.
        _call(
            "apps.connections.open", lambda: client.apps_connections_open(app_token=self._app_token)
        )

    def channel(self, ref: str) -> ChannelState:
        channel_id = ref if _CHANNEL_ID.match(ref) else self._find(ref.removeprefix("#"))
        found = _call(
            "conversations.info", lambda: self._client.conversations_info(channel=channel_id)
        )
        ch = found.get("channel") or {}
        return ChannelState(
            id=str(ch.get("id") or channel_id),
            name=str(ch.get("name") or ref.removeprefix("#")),
            is_private=bool(ch.get("is_private")),
            is_archived=bool(ch.get("is_archived")),
            is_member=bool(ch.get("is_member")),
        )

    def _find(self, name: str) -> str:
        # conversations.info takes ids only; the config may name a channel "#data-alerts".
        # Archived channels are listed too, so the doctor can say "archived" rather than
        # "not found".
        cursor: str | None = None
        while True:
            page = _call(
                "conversations.list",
                functools.partial(
                    self._client.conversations_list,
                    types="public_channel,private_channel",
                    limit=1000,
                    cursor=cursor,
                ),
            )
            for ch in page.get("channels") or ():
                if ch.get("name") == name:
                    return str(ch["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                raise SlackProblem("channel_not_found")


def _call(method: str, fn: Callable[[], Any]) -> Any:
    from bot.slack import errors

    try:
        return errors.call(method, fn)
    except errors.SlackError as e:
        raise SlackProblem(e.code) from e
    except OSError as e:  # no route to Slack: refused, DNS, timeout
        raise SlackProblem(f"unreachable ({type(e).__name__})") from e
