"""The doctor's Slack checks: the bot token and its scopes against manifest.yml, the Socket
Mode token, and every configured channel (exists, not archived, the bot is in it or may join).
They ask a `SlackProbe`; `slack_probe.WebSlackProbe` is the real one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.doctor.lines import Line


class SlackProblem(Exception):
    """A Slack call answered with an error `code` (invalid_auth, channel_not_found, …)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class SlackIdentity:
    team: str
    bot_user: str
    scopes: frozenset[str] | None  # None: Slack sent no x-oauth-scopes header


@dataclass(frozen=True)
class ChannelState:
    id: str
    name: str
    is_private: bool
    is_archived: bool
    is_member: bool


class SlackProbe(Protocol):
    def identity(self) -> SlackIdentity: ...

    def app_token_works(self) -> None:
        """Raises SlackProblem when the Socket Mode (xapp-) token is refused."""
        ...

    def channel(self, ref: str) -> ChannelState: ...


def check_slack(
    probe: SlackProbe,
    *,
    wanted_scopes: frozenset[str] | None,
    channels: Sequence[str],
    socket_mode: bool,
) -> list[Line]:
    try:
        me = probe.identity()
    except SlackProblem as e:
        fix = "SLACK_BOT_TOKEN is wrong or revoked: reinstall the app and copy the xoxb- token"
        if e.code not in ("invalid_auth", "not_authed", "token_revoked", "account_inactive"):
            fix = "check slack.api_url and the network path to Slack"
        lines = [Line("fail", "slack token", f"auth.test: {e.code}", fix)]
        return lines + [Line("skip", f"channel {c}", "Slack token refused") for c in channels]
    lines = [Line("ok", "slack token", f"bot {me.bot_user} in {me.team}")]
    lines.append(_scope_line(me.scopes, wanted_scopes))
    if socket_mode:
        try:
            probe.app_token_works()
            lines.append(Line("ok", "slack app token", "Socket Mode connection allowed"))
        except SlackProblem as e:
            lines.append(
                Line(
                    "fail",
                    "slack app token",
                    f"apps.connections.open: {e.code}",
                    "turn on Socket Mode and make an app-level token with "
                    "connections:write (Basic Information → App-Level Tokens)",
                )
            )
    lines.extend(_channel_line(probe, ref, me.scopes) for ref in channels)
    return lines


def _scope_line(granted: frozenset[str] | None, wanted: frozenset[str] | None) -> Line:
    if wanted is None:
        return Line(
            "warn",
            "slack scopes",
            "manifest.yml not found, scopes not compared",
            "run from the checkout or pass --manifest FILE",
        )
    if granted is None:
        return Line(
            "warn",
            "slack scopes",
            "Slack sent no x-oauth-scopes header",
            "compare OAuth & Permissions with manifest.yml by hand",
        )
    missing = sorted(wanted - granted)
    if missing:
        return Line(
            "fail",
            "slack scopes",
            f"missing {', '.join(missing)}",
            "add them from manifest.yml (OAuth & Permissions → Scopes) and reinstall "
            "the app to the workspace",
        )
    return Line("ok", "slack scopes", f"all {len(wanted)} scopes of manifest.yml granted")


def _channel_line(probe: SlackProbe, ref: str, scopes: frozenset[str] | None) -> Line:
    check = f"channel {ref}"
    try:
        ch = probe.channel(ref)
    except SlackProblem as e:
        if e.code == "channel_not_found":
            return Line(
                "fail",
                check,
                "no such channel the bot can see",
                "create it, fix the name in the config, or (private) /invite @jobs-bot",
            )
        if e.code == "missing_scope":
            return Line("fail", check, "missing_scope", "grant channels:read and groups:read")
        return Line("fail", check, e.code, "check the channel in the config")
    if ch.is_archived:
        return Line("fail", check, f"#{ch.name} is archived", "unarchive it or route elsewhere")
    if ch.is_member:
        return Line("ok", check, f"#{ch.name} ({ch.id}), the bot is a member")
    if ch.is_private:
        return Line(
            "fail",
            check,
            f"#{ch.name} is private and the bot is not in it",
            f"/invite @jobs-bot in #{ch.name}",
        )
    can_post = scopes is None or "chat:write.public" in scopes or "channels:join" in scopes
    if can_post:
        return Line("ok", check, f"#{ch.name} ({ch.id}), public: the bot joins on first post")
    return Line(
        "fail",
        check,
        f"#{ch.name}: the bot is not a member and cannot join",
        f"/invite @jobs-bot in #{ch.name}, or grant channels:join",
    )
