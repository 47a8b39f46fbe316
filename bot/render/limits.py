"""Block Kit limits (reference/slack.md §6), applied to a rendered message before it is sent.

Slack rejects a whole message for one field over a limit (`invalid_blocks`), so a long answer
would become no answer. Here long text is cut with "…", extra fields/elements are dropped, and
long lists lose their tail, replaced by a context block "…and N more".

Droppable list items: a template marks each item's blocks with a `block_id` of the form
`item-<key>` or `item-<key>.<part>` (e.g. `item-7` for the section and `item-7.actions` for its
buttons). Blocks sharing a key are one item and are kept or dropped together; other blocks
(header, summary, footer) are always kept.

Values that cannot be shortened without breaking them (button `value`, `url`, ids) raise
RenderError instead: that is a template or data bug, not something to hide.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from bot.render.mrkdwn import truncate_text

log = logging.getLogger(__name__)

MAX_BLOCKS = 50
MAX_FALLBACK_TEXT = 40_000  # Slack truncates longer top-level text (changelog 2018-04)
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_TEXT_OBJECT = 3000
MAX_MARKDOWN_BLOCK = 12_000
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ID = 255

ITEM_PREFIX = "item-"

# A broadcast ping in a bot message is never intended here: if one slips through a template
# that forgot the `mrkdwn` filter, it is shown as text instead of paging a channel.
_BROADCAST_RE = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>")


class RenderError(Exception):
    """A template produced something that cannot be sent (a bug, not bad user input)."""


def enforce(message: dict[str, Any], *, allow_broadcast: bool = False) -> dict[str, Any]:
    """Return a copy of `message` that fits Block Kit's limits (see the module docstring)."""
    out = copy.deepcopy(message)
    text = out.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RenderError("every message needs a non-empty top-level `text` fallback")
    out["text"] = truncate_text(text, MAX_FALLBACK_TEXT)
    blocks = out.get("blocks")
    if blocks is not None:
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            raise RenderError("`blocks` must be a list of objects")
        out["blocks"] = cut_items([_fit_block(b) for b in blocks])
    if not allow_broadcast:
        out = _neutralise_broadcasts(out)
    _verbatim(out)
    return out


def item_key(block: dict[str, Any]) -> str | None:
    """The list-item key of a block (`item-7.actions` → `item-7`), or None if not an item."""
    block_id = block.get("block_id")
    if not isinstance(block_id, str) or not block_id.startswith(ITEM_PREFIX):
        return None
    return block_id.split(".", 1)[0]


MORE_ID = "more"
_MORE_RE = re.compile(r"…and (\d+) more")


def more_block(count: int) -> dict[str, Any]:
    return {
        "type": "context",
        "block_id": MORE_ID,
        "elements": [{"type": "mrkdwn", "text": f"…and {count} more"}],
    }


def _hidden_by(block: dict[str, Any]) -> int | None:
    """How many items an earlier cut's "…and N more" block stands for (None: not one)."""
    if block.get("block_id") != MORE_ID:
        return None
    for element in block.get("elements") or []:
        found = (
            _MORE_RE.search(str(element.get("text") or "")) if isinstance(element, dict) else None
        )
        if found:
            return int(found.group(1))
    return 0


def cut_items(blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    """Drop list items from the end until the blocks plus a "…and N more" line fit `limit`.

    A message is often cut twice: once when rendered (to 50 blocks) and again when a button
    row is added under it. The second cut folds into the first's "…and N more" line instead
    of adding another: two blocks with the same block_id make Slack refuse the whole message
    (`invalid_blocks`), so the answer would not arrive at all.
    """
    if len(blocks) <= limit:
        return blocks
    earlier = 0
    rest: list[dict[str, Any]] = []
    for block in blocks:
        hidden = _hidden_by(block)
        if hidden is None:
            rest.append(block)
        else:
            earlier += hidden
    # Block counts per item, computed once: a 1,000-item list is cut in linear time.
    keys = [item_key(b) for b in rest]
    sizes: dict[str, int] = {}
    for key in keys:
        if key is not None:
            sizes[key] = sizes.get(key, 0) + 1
    order = list(sizes)  # first-seen order; the tail goes first
    budget = limit - 1  # room for the one "…and N more" context block
    size = len(rest)
    dropped: set[str] = set()
    while size > budget and len(dropped) < len(order):
        key = order[len(order) - 1 - len(dropped)]
        dropped.add(key)
        size -= sizes[key]
    kept_at = [i for i, key in enumerate(keys) if key not in dropped]
    if size > budget:
        # Not enough droppable items: a template with too many fixed blocks. Still send
        # something Slack accepts rather than nothing.
        log.warning("message has %d fixed blocks; cutting to %d", size, budget)
        cut = len(kept_at) - budget
        return [*(rest[i] for i in kept_at[:budget]), more_block(earlier + len(dropped) + cut)]
    items_kept = [i for i in kept_at if keys[i] is not None]
    if items_kept:
        anchor = items_kept[-1]
    else:
        anchor = min(i for i, key in enumerate(keys) if key in dropped) - 1
    out: list[dict[str, Any]] = [] if anchor >= 0 else [more_block(earlier + len(dropped))]
    for i in kept_at:
        out.append(rest[i])
        if i == anchor:
            out.append(more_block(earlier + len(dropped)))
    return out


def _fit_block(block: dict[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    _check_len(block.get("block_id"), MAX_ID, "block_id")
    if kind == "section":
        _fit_text(block.get("text"), MAX_SECTION_TEXT)
        fields = block.get("fields")
        if isinstance(fields, list):
            block["fields"] = fields[:MAX_FIELDS]
            for field in block["fields"]:
                _fit_text(field, MAX_FIELD_TEXT)
        if isinstance(block.get("accessory"), dict):
            _fit_element(block["accessory"])
    elif kind == "header":
        _fit_text(block.get("text"), MAX_HEADER_TEXT)
    elif kind == "context":
        elements = block.get("elements")
        if isinstance(elements, list):
            block["elements"] = elements[:MAX_CONTEXT_ELEMENTS]
            for element in block["elements"]:
                _fit_text(element, MAX_TEXT_OBJECT)
    elif kind == "actions":
        elements = block.get("elements")
        if isinstance(elements, list):
            block["elements"] = elements[:MAX_ACTIONS_ELEMENTS]
            for element in block["elements"]:
                _fit_element(element)
    elif kind == "markdown" and isinstance(block.get("text"), str):
        block["text"] = truncate_text(block["text"], MAX_MARKDOWN_BLOCK)
    return block


def _fit_element(element: dict[str, Any]) -> None:
    if not isinstance(element, dict):
        return
    _check_len(element.get("action_id"), MAX_ID, "action_id")
    if element.get("type") == "button":
        _fit_text(element.get("text"), MAX_BUTTON_TEXT)
        _check_len(element.get("value"), MAX_BUTTON_VALUE, "button value")
        _check_len(element.get("url"), MAX_URL, "button url")
    elif isinstance(element.get("text"), dict):
        _fit_text(element.get("text"), MAX_TEXT_OBJECT)


def _fit_text(obj: Any, limit: int) -> None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        obj["text"] = truncate_text(obj["text"], limit)


def _check_len(value: Any, limit: int, what: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        raise RenderError(f"{what} is {len(value)} characters; Slack allows {limit}")


def _verbatim(node: Any) -> None:
    """Default every mrkdwn text object to `verbatim: true`.

    Without it Slack auto-parses plain text: bare URLs, `#channel` names and "certain
    mentions" (docs: text object, `verbatim`) — so a job literally named `@channel` could
    become markup even though `&`, `<`, `>` were escaped. Our own links, mentions and dates
    are explicit `<…>` sequences, which verbatim keeps. A template may opt out with
    `"verbatim": false`.
    """
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            node.setdefault("verbatim", True)
        for value in node.values():
            _verbatim(value)
    elif isinstance(node, list):
        for value in node:
            _verbatim(value)


def _neutralise_broadcasts(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _neutralise_broadcasts(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_neutralise_broadcasts(v) for v in node]
    if isinstance(node, str) and _BROADCAST_RE.search(node):
        log.warning("a rendered message contained a broadcast mention; shown as text instead")
        return _BROADCAST_RE.sub(
            lambda m: m.group(0).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            node,
        )
    return node
