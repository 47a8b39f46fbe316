"""`SlackWorkspace`, the sandbox's Slack workspace: team, the bot's identity and scopes, users,
channels, user groups.

Built-in defaults give a small, believable team; a short YAML file can replace any part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import UserError

# The scopes a production install of jobs-bot asks for (reference/slack.md §7.2).
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:read",
    "channels:history",
    "groups:read",
    "groups:history",
    "channels:join",
    "reactions:write",
    "users:read",
    "users:read.email",
    "usergroups:read",
    "files:write",
)


@dataclass
class User:
    id: str
    name: str
    real_name: str
    display_name: str
    email: str | None = None
    is_bot: bool = False
    tz: str = "Europe/Amsterdam"


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    topic: str = ""
    purpose: str = ""
    created: int = 1_700_000_000


@dataclass
class Usergroup:
    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    disabled: bool = False


@dataclass
class Bot:
    user_id: str = "U0JOBSBOT"
    bot_id: str = "B0JOBSBOT"
    app_id: str = "A0JOBSBOT"
    name: str = "jobs-bot"
    bot_token: str = "xoxb-sandbox-bot-token"
    app_token: str = "xapp-1-sandbox-app-token"
    scopes: tuple[str, ...] = DEFAULT_SCOPES


@dataclass
class SlackWorkspace:
    team_id: str = "T0SANDBOX"
    team_name: str = "Sandbox Data Co"
    domain: str = "sandbox-data"
    bot: Bot = field(default_factory=Bot)
    users: list[User] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    usergroups: list[Usergroup] = field(default_factory=list)
    commands: tuple[str, ...] = ("/jobs",)
    # The manifest's `should_escape` for the commands: mentions typed in the command text reach
    # the app as `<@U…|name>` / `<#C…|name>` control sequences instead of plain `@name`.
    should_escape: bool = False

    def user(self, user_id: str) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.lstrip("#")
        return next((c for c in self.channels if c.name == name), None)

    def usergroup(self, group_id: str) -> Usergroup | None:
        return next((g for g in self.usergroups if g.id == group_id), None)

    def humans(self) -> list[User]:
        return [u for u in self.users if not u.is_bot]


def default_workspace() -> SlackWorkspace:
    """A small data team: public, private and archived channels, an on-call group."""
    people = [
        User("U01ALICE", "alice", "Alice Jansen", "alice", "alice@example.com"),
        User("U02BOB", "bob", "Bob Okafor", "bob.o", "bob@example.com"),
        User("U03CAROL", "carol", "Carol Nguyen", "carol", "carol@example.com"),
        User("U04DAVE", "dave", "Dave Müller", "dave", "dave@example.com", tz="America/New_York"),
    ]
    bot = Bot()
    ws = SlackWorkspace(bot=bot, users=list(people))
    ws.users.append(User(bot.user_id, bot.name, "Jobs Bot", bot.name, None, is_bot=True))
    everyone = {u.id for u in people}
    ws.channels = [
        Channel("C01GENERAL", "general", members=everyone | {bot.user_id}, purpose="Everything"),
        Channel("C02ALERTS", "data-alerts", members=everyone | {bot.user_id}),
        Channel("C03RANDOM", "random", members=set(everyone)),
        Channel(
            "G04ONCALL",
            "platform-oncall",
            is_private=True,
            members={"U01ALICE", "U02BOB", bot.user_id},
        ),
        Channel("G05FINANCE", "finance-private", is_private=True, members={"U03CAROL"}),
        Channel("C06OLD", "old-alerts", is_archived=True, members=everyone | {bot.user_id}),
        # Channels the demo config routes to (sandbox/demo_config.yml).
        Channel("C07FINANCE", "finance-data", members=everyone | {bot.user_id}),
        Channel("C08ML", "ml-platform", members=everyone | {bot.user_id}),
    ]
    ws.usergroups = [
        Usergroup("S01ONCALL", "data-oncall", "Data on-call", ["U01ALICE", "U02BOB"]),
        Usergroup("S02PLATFORM", "platform", "Platform team", ["U03CAROL", "U04DAVE"]),
    ]
    return ws


def load_workspace(path: str | Path) -> SlackWorkspace:
    """Read a workspace YAML; keys left out keep their built-in defaults.

    Shape: ``team: {id, name, domain}``, ``scopes: [...]``, ``commands: [/jobs]``, ``should_escape: false``,
    ``users: [{id, name, real_name, display_name, email}]``,
    ``channels: [{id, name, private, archived, members: [ids] | all}]``,
    ``usergroups: [{id, handle, name, users: [ids]}]``. The bot is always a member of
    channels listing ``bot`` among their members.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise UserError(f"{path}: cannot read workspace YAML ({e})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping at the top level")
    return workspace_from_dict(raw, where=str(path))


def workspace_from_dict(raw: dict[str, Any], where: str = "workspace") -> SlackWorkspace:
    ws = default_workspace()
    bot = ws.bot
    team = raw.get("team") or {}
    ws.team_id = team.get("id", ws.team_id)
    ws.team_name = team.get("name", ws.team_name)
    ws.domain = team.get("domain", ws.domain)
    if "scopes" in raw:
        bot.scopes = tuple(raw["scopes"])
    if "commands" in raw:
        ws.commands = tuple(raw["commands"])
    if "should_escape" in raw:
        ws.should_escape = bool(raw["should_escape"])
    try:
        if "users" in raw:
            ws.users = [
                User(
                    id=u["id"],
                    name=u["name"],
                    real_name=u.get("real_name", u["name"]),
                    display_name=u.get("display_name", u["name"]),
                    email=u.get("email"),
                    tz=u.get("tz", "UTC"),
                )
                for u in raw["users"]
            ]
            ws.users.append(User(bot.user_id, bot.name, "Jobs Bot", bot.name, is_bot=True))
        humans = {u.id for u in ws.humans()}
        if "channels" in raw:
            ws.channels = []
            for c in raw["channels"]:
                members = c.get("members", "all")
                ids = set(humans) if members == "all" else set(members)
                if "bot" in ids:
                    ids.discard("bot")
                    ids.add(bot.user_id)
                ws.channels.append(
                    Channel(
                        id=c["id"],
                        name=c["name"],
                        is_private=bool(c.get("private", False)),
                        is_archived=bool(c.get("archived", False)),
                        members=ids,
                    )
                )
        if "usergroups" in raw:
            ws.usergroups = [
                Usergroup(g["id"], g["handle"], g.get("name", g["handle"]), list(g["users"]))
                for g in raw["usergroups"]
            ]
    except (KeyError, TypeError) as e:
        raise UserError(f"{where}: workspace entry is missing or malformed: {e}") from None
    return ws
