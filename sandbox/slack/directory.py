"""Read-side Web API methods: auth, conversations, users and user groups."""

from __future__ import annotations

import base64
from typing import Any

from sandbox.slack.apierror import ApiError, Ctx
from sandbox.slack.chat import visible_channel
from sandbox.slack.workspace import Channel, User


def auth_test(ctx: Ctx) -> dict[str, Any]:
    ws = ctx.state.ws
    # Bolt reads the granted scopes from this header (reference §4.7).
    ctx.headers["x-oauth-scopes"] = ",".join(ws.bot.scopes)
    return {
        "ok": True,
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot.name,
        "team_id": ws.team_id,
        "user_id": ws.bot.user_id,
        "bot_id": ws.bot.bot_id,
        "is_enterprise_install": False,
    }


def api_test(ctx: Ctx) -> dict[str, Any]:
    if ctx.get("error"):
        raise ApiError(str(ctx.get("error")), args={k: v for k, v in ctx.params.items()})
    out: dict[str, Any] = {"ok": True}
    if ctx.params:
        out["args"] = dict(ctx.params)
    return out


def channel_json(ctx: Ctx, ch: Channel) -> dict[str, Any]:
    bot = ctx.state.ws.bot
    out: dict[str, Any] = {
        "id": ch.id,
        "name": ch.name,
        "is_channel": not ch.is_private and not ch.is_im,
        "is_group": ch.is_private and not ch.is_im,
        "is_im": ch.is_im,
        "is_mpim": False,
        "is_private": ch.is_private,
        "is_archived": ch.is_archived,
        "is_general": ch.name == "general",
        "is_member": bot.user_id in ch.members,
        "created": ch.created,
        "creator": "",
        "context_team_id": ctx.state.ws.team_id,
        "topic": {"value": ch.topic, "creator": "", "last_set": 0},
        "purpose": {"value": ch.purpose, "creator": "", "last_set": 0},
    }
    if ch.is_im:
        out["user"] = next(m for m in ch.members if m != bot.user_id)
    return out


def conversations_info(ctx: Ctx) -> dict[str, Any]:
    ch = visible_channel(ctx, ctx.require("channel", "channel_not_found"))
    info = channel_json(ctx, ch)
    if ctx.flag("include_num_members"):
        info["num_members"] = len(ch.members)
    return {"ok": True, "channel": info}


def conversations_list(ctx: Ctx) -> dict[str, Any]:
    types = set(str(ctx.get("types", "public_channel")).split(","))
    bot = ctx.state.ws.bot
    wanted = []
    for ch in ctx.state.ws.channels:
        kind = "im" if ch.is_im else "private_channel" if ch.is_private else "public_channel"
        if kind not in types:
            continue
        if ch.is_private and bot.user_id not in ch.members:
            continue  # a bot only lists the private channels it was invited to
        if ch.is_archived and ctx.flag("exclude_archived"):
            continue
        wanted.append(ch)
    limit = max(1, min(ctx.int("limit", 100), 1000))
    start = decode_cursor(ctx.get("cursor"))
    page = wanted[start : start + limit]
    next_cursor = encode_cursor(start + limit) if start + limit < len(wanted) else ""
    return {
        "ok": True,
        "channels": [channel_json(ctx, c) for c in page],
        "response_metadata": {"next_cursor": next_cursor},
    }


def encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.b64decode(str(cursor)).decode().partition(":")
        if kind != "offset":
            raise ValueError(kind)
        return int(value)
    except ValueError:
        raise ApiError("invalid_cursor") from None


def conversations_join(ctx: Ctx) -> dict[str, Any]:
    ch = visible_channel(ctx, ctx.require("channel", "channel_not_found"))
    bot = ctx.state.ws.bot
    if ch.is_archived:
        raise ApiError("is_archived")
    if ch.is_private or ch.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    out: dict[str, Any] = {"ok": True}
    if bot.user_id in ch.members:
        out["warning"] = "already_in_channel"
        out["response_metadata"] = {"warnings": ["already_in_channel"]}
    ch.members.add(bot.user_id)
    ctx.state.touch()
    out["channel"] = channel_json(ctx, ch)
    return out


def readable_channel(ctx: Ctx) -> Channel:
    ch = visible_channel(ctx, ctx.require("channel", "channel_not_found"))
    if ctx.state.ws.bot.user_id not in ch.members:
        raise ApiError("not_in_channel")
    return ch


def conversations_history(ctx: Ctx) -> dict[str, Any]:
    ch = readable_channel(ctx)
    oldest = float(ctx.get("oldest", 0))
    latest = float(ctx.get("latest", 1e12))
    inclusive = ctx.flag("inclusive")
    msgs = [
        m
        for m in reversed(ctx.state.top_level(ch.id))  # Slack lists newest first
        if (oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest)
    ]
    limit = max(1, min(ctx.int("limit", 100), 999))
    start = decode_cursor(ctx.get("cursor"))
    page = msgs[start : start + limit]
    has_more = start + limit < len(msgs)
    team = ctx.state.ws.team_id
    metadata = ctx.flag("include_all_metadata")
    return {
        "ok": True,
        "messages": [m.to_api(team, with_metadata=metadata) for m in page],
        "has_more": has_more,
        "pin_count": 0,
        "response_metadata": {"next_cursor": encode_cursor(start + limit) if has_more else ""},
    }


def conversations_replies(ctx: Ctx) -> dict[str, Any]:
    ch = readable_channel(ctx)
    ts = str(ctx.require("ts"))
    msg = ctx.state.get(ch.id, ts)
    if msg is None:
        raise ApiError("thread_not_found")
    root = msg.thread_ts or msg.ts
    thread = ctx.state.thread(ch.id, root)
    limit = max(1, min(ctx.int("limit", 1000), 1000))
    start = decode_cursor(ctx.get("cursor"))
    page = thread[start : start + limit]
    has_more = start + limit < len(thread)
    team = ctx.state.ws.team_id
    metadata = ctx.flag("include_all_metadata")
    return {
        "ok": True,
        "messages": [m.to_api(team, with_metadata=metadata) for m in page],
        "has_more": has_more,
        "response_metadata": {"next_cursor": encode_cursor(start + limit) if has_more else ""},
    }


def user_json(ctx: Ctx, user: User) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "display_name": user.display_name,
        "real_name": user.real_name,
        "team": ctx.state.ws.team_id,
    }
    # Slack hides emails from tokens without users:read.email.
    if user.email and "users:read.email" in ctx.state.ws.bot.scopes:
        profile["email"] = user.email
    out: dict[str, Any] = {
        "id": user.id,
        "team_id": ctx.state.ws.team_id,
        "name": user.name,
        "real_name": user.real_name,
        "deleted": False,
        "is_bot": user.is_bot,
        "is_admin": False,
        "tz": user.tz,
        "profile": profile,
    }
    if user.is_bot:
        profile["bot_id"] = ctx.state.ws.bot.bot_id
    return out


def users_info(ctx: Ctx) -> dict[str, Any]:
    user = ctx.state.ws.user(str(ctx.require("user", "user_not_found")))
    if user is None:
        raise ApiError("user_not_found")
    return {"ok": True, "user": user_json(ctx, user)}


def users_lookup_by_email(ctx: Ctx) -> dict[str, Any]:
    email = str(ctx.require("email", "users_not_found")).lower()
    user = next((u for u in ctx.state.ws.users if (u.email or "").lower() == email), None)
    if user is None:
        raise ApiError("users_not_found")
    return {"ok": True, "user": user_json(ctx, user)}


def usergroups_users_list(ctx: Ctx) -> dict[str, Any]:
    group = ctx.state.ws.usergroup(str(ctx.require("usergroup")))
    if group is None or (group.disabled and not ctx.flag("include_disabled")):
        # (inferred) reference §5.2 guesses this code; Slack's docs were not reachable here.
        raise ApiError("no_such_subteam")
    return {"ok": True, "users": list(group.users)}


METHODS = {
    "auth.test": auth_test,
    "api.test": api_test,
    "conversations.info": conversations_info,
    "conversations.list": conversations_list,
    "conversations.join": conversations_join,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.users.list": usergroups_users_list,
}
