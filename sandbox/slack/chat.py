"""chat.* and reactions.add: posting, editing and deleting messages as the bot."""

from __future__ import annotations

import json
from typing import Any

from sandbox.slack.apierror import ApiError, Ctx
from sandbox.slack.blockkit import MAX_TEXT_LEN, check_blocks, normalize_blocks
from sandbox.slack.state import Message
from sandbox.slack.workspace import Channel


def json_param(ctx: Ctx, name: str, bad: str) -> Any:
    """A structured parameter that form clients send as a JSON string."""
    value = ctx.params.get(name)
    if isinstance(value, str):
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(bad) from None
    return value


def visible_channel(ctx: Ctx, ref: Any) -> Channel:
    """A channel the bot can see: private channels it is not in do not exist for it."""
    ch = ctx.state.resolve_channel(str(ref)) if ref else None
    bot = ctx.state.ws.bot
    if ch is None or (ch.is_private and bot.user_id not in ch.members):
        raise ApiError("channel_not_found")
    return ch


def writable_channel(ctx: Ctx, ref: Any) -> Channel:
    ch = visible_channel(ctx, ref)
    if ch.is_archived:
        raise ApiError("is_archived")
    bot = ctx.state.ws.bot
    # chat:write.public lets a bot post to public channels it never joined (reference §7.2).
    if bot.user_id not in ch.members and "chat:write.public" not in bot.scopes:
        raise ApiError("not_in_channel")
    return ch


def message_content(ctx: Ctx, *, keep_blocks: bool = False) -> tuple[str, list | None]:
    """(text, blocks) after Slack's checks: no_text, msg_too_long, invalid_blocks."""
    text = ctx.get("text", "")
    if not isinstance(text, str):
        text = str(text)
    blocks = json_param(ctx, "blocks", "invalid_blocks_format")
    attachments = json_param(ctx, "attachments", "invalid_attachments")
    if blocks is not None and not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    if not text and not blocks and not attachments and not keep_blocks:
        raise ApiError("no_text")
    if len(text) > MAX_TEXT_LEN:
        raise ApiError("msg_too_long")
    if blocks:
        errors = check_blocks(blocks)
        if errors:
            raise ApiError(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
    return text, blocks


def message_metadata(ctx: Ctx) -> dict[str, Any] | None:
    """The `metadata` argument checked as Slack checks it: an object with a string
    `event_type` and an object `event_payload` (JSON bodies send it as an object, form
    bodies as a JSON string). The two error codes are inferred: reference/slack.md lists no
    metadata errors."""
    metadata = json_param(ctx, "metadata", "invalid_metadata_format")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise ApiError("invalid_metadata_format")
    event_type = metadata.get("event_type")
    payload = metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise ApiError("invalid_metadata_schema")
    return {"event_type": event_type, "event_payload": payload}


def bot_message(ctx: Ctx, channel: str, text: str, blocks: list | None, **kw: Any) -> Message:
    bot = ctx.state.ws.bot
    return Message(
        channel=channel,
        ts=ctx.state.next_ts(channel),
        text=text,
        blocks=normalize_blocks(blocks),
        user=bot.user_id,
        bot_id=bot.bot_id,
        app_id=bot.app_id,
        username=bot.name,
        **kw,
    )


def thread_root(ctx: Ctx, channel: str) -> str | None:
    thread_ts = ctx.get("thread_ts")
    if thread_ts is None:
        return None
    parent = ctx.state.get(channel, str(thread_ts))
    if parent is None:
        # (inferred) Slack's exact answer for an unknown thread_ts is not in the reference.
        raise ApiError("thread_not_found")
    # Replying to a reply lands in the same thread, as in Slack.
    return parent.thread_ts or parent.ts


def post_message(ctx: Ctx) -> dict[str, Any]:
    ch = writable_channel(ctx, ctx.require("channel", "channel_not_found"))
    text, blocks = message_content(ctx)
    metadata = message_metadata(ctx)
    root = thread_root(ctx, ch.id)
    broadcast = root is not None and ctx.flag("reply_broadcast")
    msg = bot_message(
        ctx,
        ch.id,
        text,
        blocks,
        thread_ts=root,
        subtype="thread_broadcast" if broadcast else None,
        metadata=metadata,
    )
    ctx.state.add_message(msg)
    return {"ok": True, "channel": ch.id, "ts": msg.ts, "message": msg.to_api(ctx.state.ws.team_id)}


def own_message(ctx: Ctx, verb: str) -> tuple[Channel, Message]:
    ch = visible_channel(ctx, ctx.require("channel", "channel_not_found"))
    ts = ctx.require("ts", "message_not_found")
    msg = ctx.state.get(ch.id, str(ts))
    if msg is None:
        raise ApiError("message_not_found")
    if msg.bot_id != ctx.state.ws.bot.bot_id:
        raise ApiError(f"cant_{verb}_message")
    return ch, msg


def update(ctx: Ctx) -> dict[str, Any]:
    ch, msg = own_message(ctx, "update")
    if ch.is_archived:
        raise ApiError("is_archived")
    # Slack keeps the old blocks when `blocks` is left out; an empty list removes them.
    text, blocks = message_content(ctx, keep_blocks=True)
    if not text and not blocks and "blocks" not in ctx.params and not msg.blocks:
        raise ApiError("no_text")
    # Left out, the message keeps its metadata; given, it replaces it.
    metadata = message_metadata(ctx)
    ctx.state.replace(msg, text, None if blocks is None else normalize_blocks(blocks), metadata)
    return {
        "ok": True,
        "channel": ch.id,
        "ts": msg.ts,
        "text": msg.text,
        "message": msg.to_api(ctx.state.ws.team_id),
    }


def delete(ctx: Ctx) -> dict[str, Any]:
    ch, msg = own_message(ctx, "delete")
    ctx.state.delete(msg)
    return {"ok": True, "channel": ch.id, "ts": msg.ts}


def post_ephemeral(ctx: Ctx) -> dict[str, Any]:
    ch = writable_channel(ctx, ctx.require("channel", "channel_not_found"))
    user_id = ctx.require("user", "user_not_found")
    if ctx.state.ws.user(str(user_id)) is None:
        raise ApiError("user_not_found")
    if user_id not in ch.members:
        raise ApiError("user_not_in_channel")
    text, blocks = message_content(ctx)
    root = thread_root(ctx, ch.id)
    msg = bot_message(ctx, ch.id, text, blocks, thread_ts=root, to_user=str(user_id))
    ctx.state.add_ephemeral(msg)
    return {"ok": True, "message_ts": msg.ts}


def get_permalink(ctx: Ctx) -> dict[str, Any]:
    ch = visible_channel(ctx, ctx.require("channel", "channel_not_found"))
    ts = str(ctx.require("message_ts", "message_not_found"))
    msg = ctx.state.get(ch.id, ts)
    if msg is None:
        raise ApiError("message_not_found")
    link = f"https://{ctx.state.ws.domain}.slack.com/archives/{ch.id}/p{ts.replace('.', '')}"
    if msg.is_reply:
        link += f"?thread_ts={msg.thread_ts}&cid={ch.id}"
    return {"ok": True, "channel": ch.id, "permalink": link}


def reactions_add(ctx: Ctx) -> dict[str, Any]:
    ch = visible_channel(ctx, ctx.require("channel", "channel_not_found"))
    msg = ctx.state.get(ch.id, str(ctx.require("timestamp", "message_not_found")))
    if msg is None:
        raise ApiError("message_not_found")
    name = str(ctx.require("name", "invalid_name")).strip(":")
    users = msg.reactions.setdefault(name, [])
    bot_user = ctx.state.ws.bot.user_id
    if bot_user in users:
        raise ApiError("already_reacted")
    users.append(bot_user)
    ctx.state.emit("message_changed", msg.to_page())
    return {"ok": True}


METHODS = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "reactions.add": reactions_add,
}
