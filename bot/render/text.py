"""Block Kit as terminal text, for `jobs-bot ask` and the replay of messages: header, sections,
fields, context and buttons; mrkdwn is left readable (links become "label (url)", dates their
fallback, mentions @id, entities decoded). Pure."""

from __future__ import annotations

import re
from typing import Any


def flatten(message: dict[str, Any]) -> str:
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
