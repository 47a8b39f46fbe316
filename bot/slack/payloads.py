"""Outbox payloads: the shape the notifier sends, the metadata that names a row in Slack, and
the notifier's own rewrites (a plain-text stand-in, a re-routed copy).

A payload is a JSON object:

- every kind: ``text`` (str, mrkdwn: the notification text and the fallback for blocks),
  optionally ``blocks`` (a Block Kit list) and ``unfurl_links`` (bool, default false).
- POST (chat.postMessage to the row's channel): optionally ``channel_name`` (what to call
  the channel in a "couldn't post in #…" notice). Slack's ts becomes the incident's message.
- UPDATE (chat.update): edits the incident's message; a row without an incident names the
  message with ``ts`` (in the row's channel).
- THREAD_REPLY (chat.postMessage with thread_ts): replies under the incident's message, or
  under ``thread_ts`` when there is no incident; ``reply_broadcast`` (bool) also shows it in
  the channel.
- EPHEMERAL (chat.postEphemeral): ``user`` (required: who sees it), ``thread_ts`` optional.
- a POST or THREAD_REPLY with ``file`` shares a file instead of posting text (the weekly
  report's chart): ``file`` = {``filename``, ``title``, ``alt_txt`` (optional),
  ``content_b64`` (the bytes, base64)}; ``text`` becomes the file message's comment.
- set only by the notifier, on rows it adds itself: ``plain`` (true: a text-only stand-in for
  a message Slack refused), ``replaces`` (the refused row's id: a stand-in update keeps its
  place in line) and ``rerouted_from`` (the channel a POST could not reach).
"""

from __future__ import annotations

from typing import Any

from bot.render.limits import MAX_BLOCKS
from bot.render.mrkdwn import escape, truncate_text
from bot.store.records import OutboxMessage

# The metadata event type on every message jobs-bot posts. Slack's message metadata is an
# object with a string `event_type` and an object `event_payload`; conversations.history and
# conversations.replies return it only when called with include_all_metadata=true.
EVENT_TYPE = "jobs_bot_alert"

# Slack takes 40,000 characters of top-level text; a plain stand-in is kept readable.
PLAIN_FALLBACK_CHARS = 3000


def metadata(message: OutboxMessage) -> dict[str, Any]:
    """The metadata that lets a later claim find this row's message in the channel."""
    payload: dict[str, Any] = {"outbox_id": message.id, "dedupe_key": message.dedupe_key}
    if message.incident_id is not None:
        payload["incident_id"] = message.incident_id
    return {"event_type": EVENT_TYPE, "event_payload": payload}


def is_ours(found: dict[str, Any], message: OutboxMessage) -> bool:
    """Whether a message from conversations.history is this row's."""
    meta = found.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    # Id and key both: a store rebuilt from scratch reuses ids, never with the same keys.
    return (
        meta.get("event_type") == EVENT_TYPE
        and payload.get("outbox_id") == message.id
        and payload.get("dedupe_key") == message.dedupe_key
    )


def plain_text(payload: dict[str, Any]) -> str:
    """The message as text alone: its `text`, or else the text found in its blocks."""
    text = payload.get("text")
    if isinstance(text, str) and text.strip():
        return text
    parts: list[str] = []
    for block in payload.get("blocks") or []:
        if not isinstance(block, dict):
            continue
        body = block.get("text")
        if isinstance(body, dict) and isinstance(body.get("text"), str):
            parts.append(body["text"])
        for element in block.get("elements") or block.get("fields") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts) or "(a jobs-bot message Slack could not show)"


def plain_fallback(payload: dict[str, Any], reason: str) -> dict[str, Any]:
    """The text-only stand-in for a message Slack refused (msg_too_long, invalid_blocks):
    its text cut to PLAIN_FALLBACK_CHARS, no blocks."""
    note = f"\n_(shown as plain text: Slack refused the message: {reason})_"
    text = truncate_text(plain_text(payload), PLAIN_FALLBACK_CHARS - len(note)) + note
    fallback = {k: v for k, v in payload.items() if k != "blocks"}
    fallback.update(text=text, plain=True)
    return fallback


def channel_label(payload: dict[str, Any], channel: str) -> str:
    """How a notice names a channel: its name if the payload has it, else a channel link
    (which Slack shows as "private channel" to those who cannot see it)."""
    name = payload.get("channel_name")
    if isinstance(name, str) and name:
        return "#" + escape(name.lstrip("#"))
    if channel[:1] in ("C", "G") and channel.isalnum():
        return f"<#{channel}>"
    return "#" + escape(channel.lstrip("#"))


def rerouted(payload: dict[str, Any], channel: str, why: str) -> dict[str, Any]:
    """A POST for `channel` re-addressed to the default channel, its first line saying why."""
    notice = f"⚠️ I couldn't post in {channel_label(payload, channel)} ({why}):"
    out = dict(payload)
    out["text"] = f"{notice}\n{plain_text(payload)}"
    blocks = payload.get("blocks")
    if isinstance(blocks, list) and blocks and len(blocks) < MAX_BLOCKS:
        context = {"type": "context", "elements": [{"type": "mrkdwn", "text": notice}]}
        out["blocks"] = [context, *blocks]
    out["rerouted_from"] = channel
    return out
