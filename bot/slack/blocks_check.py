"""Validation of rendered messages with slack_sdk's own Block Kit models.

Kept here because only bot/slack may import slack_sdk (DESIGN.md rule 1); bot/render/limits.py
fits messages to the limits, this checks the result the way the SDK would before sending.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.render.limits import MAX_BLOCKS, MAX_FALLBACK_TEXT


def problems(message: dict[str, Any]) -> list[str]:
    """Everything slack_sdk (and the message-level limits) would reject; empty when valid."""
    found: list[str] = []
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        found.append("missing top-level text fallback")
    elif len(text) > MAX_FALLBACK_TEXT:
        found.append(f"text is {len(text)} characters (max {MAX_FALLBACK_TEXT})")
    blocks = message.get("blocks") or []
    if len(blocks) > MAX_BLOCKS:
        found.append(f"{len(blocks)} blocks (max {MAX_BLOCKS})")
    seen_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        block_id = raw.get("block_id") if isinstance(raw, dict) else None
        if block_id is not None:
            if block_id in seen_ids:
                found.append(f"block {i}: duplicate block_id {block_id!r}")
            seen_ids.add(block_id)
        parsed = Block.parse(raw)
        if parsed is None:
            found.append(f"block {i}: unknown block {raw!r:.80}")
            continue
        try:
            parsed.to_dict()
        except SlackObjectFormationError as e:
            found.append(f"block {i} ({raw.get('type')}): {e}")
    return found


def assert_valid(message: dict[str, Any]) -> None:
    """Raise ValueError listing every problem, for tests and `jobs-bot preview`."""
    found = problems(message)
    if found:
        raise ValueError("invalid Block Kit message: " + "; ".join(found))
