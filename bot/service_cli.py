"""`jobs-bot ask "/jobs failing 24h"`: answer a command end to end without Slack (parsing,
queries, monitors, templates) and print it as readable text or as the Block Kit payload.

Operators use it to check a config before deploying and, with `--at`, to replay what the bot
would have said at a past moment.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bot.clock import FixedClock, SystemClock, parse_instant
from bot.config import load_config
from bot.errors import UserError


def ask_command(
    *, text: str, at: str | None, db: str, config: str | None, user: str, as_json: bool
) -> int:
    from bot.service import CommandService
    from bot.warehouse import open_warehouse

    if not Path(db).is_file():
        raise UserError(f"No warehouse file at {db}. Create one with `jobs-bot seed --db {db}`.")
    try:
        clock = FixedClock(parse_instant(at)) if at else SystemClock()
    except ValueError as e:
        raise UserError(str(e)) from None
    cfg = load_config(config)
    warehouse = open_warehouse(db)
    try:
        answer = CommandService(warehouse, cfg, clock).answer_text(text, user_id=user)
    finally:
        warehouse.close()
    if as_json:
        print(json.dumps(answer.payload(), ensure_ascii=False, indent=2))
    else:
        print(flatten(answer.payload(), tz=cfg.timezone))
    return 0


def flatten(message: dict[str, Any], *, tz: str = "UTC") -> str:
    """A Block Kit message as terminal text: header, sections, fields, context; mrkdwn is
    left readable (links become "label (url)", dates their fallback, entities decoded)."""
    blocks = message.get("blocks") or []
    if not blocks:
        return readable(str(message.get("text", "")))
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = readable(_text(block.get("text")))
            out += ["", title, "═" * min(len(title), 72)]
        elif kind == "section":
            if block.get("text"):
                out.append(readable(_text(block.get("text"))))
            for field in block.get("fields") or []:
                label, _, value = readable(_text(field)).partition("\n")
                out.append(f"  {label}: {value}" if value else f"  {label}")
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "button":
                out.append(f"  [{readable(_text(accessory.get('text')))}]")
        elif kind == "context":
            parts = [readable(_text(e)) for e in block.get("elements") or []]
            out.append("  " + " · ".join(p for p in parts if p))
        elif kind == "actions":
            buttons = [readable(_text(e.get("text"))) for e in block.get("elements") or []]
            out.append("  " + " ".join(f"[{b}]" for b in buttons))
        elif kind == "divider":
            out.append("─" * 40)
    return "\n".join(out).strip("\n") + "\n"


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


_DATE_RE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK_RE = re.compile(r"<((?:https?|mailto):[^|>]+)\|([^>]*)>")
_BARE_LINK_RE = re.compile(r"<((?:https?|mailto):[^|>]+)>")
_MENTION_RE = re.compile(r"<@([UW][A-Z0-9]+)>")


def readable(text: str) -> str:
    text = _DATE_RE.sub(r"\1", text)
    text = _LINK_RE.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _BARE_LINK_RE.sub(r"\1", text)
    text = _MENTION_RE.sub(r"@\1", text)
    # Entities last, so an escaped "<!channel>" from a job name prints literally.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
