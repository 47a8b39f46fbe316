"""Slack-side Block Kit validation: what Slack refuses with `invalid_blocks`.

Errors read like Slack's own: a reason followed by ``[json-pointer:/blocks/0/text/text]``.
Limits are reference/slack.md §6.1. Unknown keys are tolerated (Slack ignores some and
rejects others; we only enforce what the reference lists).
"""

from __future__ import annotations

import copy
import secrets
import string
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_LEN = 40_000  # top-level `text` of a message (msg_too_long above this)

MESSAGE_BLOCK_TYPES = {
    "section",
    "header",
    "divider",
    "context",
    "actions",
    "image",
    "markdown",
    "rich_text",
}
VIEW_BLOCK_TYPES = MESSAGE_BLOCK_TYPES | {"input"}
INTERACTIVE = {
    "button",
    "overflow",
    "static_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "external_select",
    "multi_static_select",
    "multi_users_select",
    "datepicker",
    "timepicker",
    "checkboxes",
    "radio_buttons",
    "plain_text_input",
}


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, reason: str, path: str) -> None:
        self.errors.append(f"{reason} [json-pointer:{path}]")

    def text_obj(
        self,
        obj: Any,
        path: str,
        *,
        max_len: int = 3000,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.err("missing required field: text", path)
            return
        if not isinstance(obj, dict):
            self.err("must be an object", path)
            return
        kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.err("must be a valid enum value", f"{path}/type")
        self.string(obj.get("text"), f"{path}/text", max_len)

    def string(self, value: Any, path: str, max_len: int, min_len: int = 1) -> None:
        if not isinstance(value, str):
            self.err("must be a string", path)
        elif len(value) < min_len:
            self.err(f"must be more than {min_len - 1} characters", path)
        elif len(value) > max_len:
            self.err(f"must be less than {max_len + 1} characters", path)

    def opt_string(self, block: dict, key: str, path: str, max_len: int) -> None:
        if key in block:
            self.string(block[key], f"{path}/{key}", max_len)

    def array(self, value: Any, path: str, max_items: int, min_items: int = 1) -> list:
        if not isinstance(value, list):
            self.err("must provide an array", path)
            return []
        if len(value) < min_items:
            self.err(f"must provide at least {min_items} items", path)
        if len(value) > max_items:
            self.err(f"no more than {max_items} items allowed", path)
        return value

    def option(self, opt: Any, path: str) -> None:
        if not isinstance(opt, dict):
            self.err("must be an object", path)
            return
        self.text_obj(opt.get("text"), f"{path}/text", max_len=75)
        self.string(opt.get("value"), f"{path}/value", 150)

    def confirm(self, c: Any, path: str) -> None:
        if not isinstance(c, dict):
            self.err("must be an object", path)
            return
        self.text_obj(c.get("title"), f"{path}/title", max_len=100, plain_only=True)
        self.text_obj(c.get("text"), f"{path}/text", max_len=300)
        self.text_obj(c.get("confirm"), f"{path}/confirm", max_len=30, plain_only=True)
        self.text_obj(c.get("deny"), f"{path}/deny", max_len=30, plain_only=True)
        if "style" in c and c["style"] not in ("primary", "danger"):
            self.err("must be a valid enum value", f"{path}/style")

    def element(self, el: Any, path: str, *, in_context: bool = False) -> None:
        if not isinstance(el, dict):
            self.err("must be an object", path)
            return
        kind = el.get("type")
        if in_context:
            if kind in ("plain_text", "mrkdwn"):
                self.text_obj(el, path)
            elif kind == "image":
                self.image_fields(el, path)
            else:
                self.err(f"unsupported type: {kind}", f"{path}/type")
            return
        if kind == "image":
            self.image_fields(el, path)
            return
        if kind not in INTERACTIVE:
            self.err(f"unsupported type: {kind}", f"{path}/type")
            return
        if "action_id" in el:
            self.string(el["action_id"], f"{path}/action_id", 255)
        if "confirm" in el:
            self.confirm(el["confirm"], f"{path}/confirm")
        if kind == "button":
            self.text_obj(el.get("text"), f"{path}/text", max_len=75, plain_only=True)
            self.opt_string(el, "value", path, 2000)
            self.opt_string(el, "url", path, 3000)
            if "style" in el and el["style"] not in ("primary", "danger"):
                self.err("must be a valid enum value", f"{path}/style")
        elif kind == "overflow":
            for i, opt in enumerate(self.array(el.get("options"), f"{path}/options", 5, 2)):
                self.option(opt, f"{path}/options/{i}")
        elif kind in ("static_select", "multi_static_select"):
            if "placeholder" in el:
                self.text_obj(
                    el["placeholder"], f"{path}/placeholder", max_len=150, plain_only=True
                )
            if "option_groups" in el:
                groups = self.array(el["option_groups"], f"{path}/option_groups", 100)
                for g, group in enumerate(groups):
                    gpath = f"{path}/option_groups/{g}"
                    opts = group.get("options") if isinstance(group, dict) else None
                    for i, opt in enumerate(self.array(opts, f"{gpath}/options", 100)):
                        self.option(opt, f"{gpath}/options/{i}")
            else:
                for i, opt in enumerate(self.array(el.get("options"), f"{path}/options", 100)):
                    self.option(opt, f"{path}/options/{i}")

    def image_fields(self, el: dict, path: str) -> None:
        self.string(el.get("image_url"), f"{path}/image_url", 3000)
        self.string(el.get("alt_text"), f"{path}/alt_text", 2000)

    def block(self, block: Any, path: str, allowed: set[str]) -> None:
        if not isinstance(block, dict):
            self.err("must be an object", path)
            return
        kind = block.get("type")
        if kind not in allowed:
            self.err(f"unsupported type: {kind}", f"{path}/type")
            return
        if "block_id" in block:
            self.string(block["block_id"], f"{path}/block_id", 255)
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.err("must define either `text` or `fields`", f"{path}/type")
            if "text" in block:
                self.text_obj(block["text"], f"{path}/text", max_len=3000)
            if "fields" in block:
                fields = self.array(block["fields"], f"{path}/fields", 10)
                for i, f in enumerate(fields):
                    self.text_obj(f, f"{path}/fields/{i}", max_len=2000)
            if "accessory" in block:
                self.element(block["accessory"], f"{path}/accessory")
        elif kind == "header":
            self.text_obj(block.get("text"), f"{path}/text", max_len=150, plain_only=True)
        elif kind == "context":
            for i, el in enumerate(self.array(block.get("elements"), f"{path}/elements", 10)):
                self.element(el, f"{path}/elements/{i}", in_context=True)
        elif kind == "actions":
            for i, el in enumerate(self.array(block.get("elements"), f"{path}/elements", 25)):
                self.element(el, f"{path}/elements/{i}")
        elif kind == "image":
            self.image_fields(block, path)
            if "title" in block:
                self.text_obj(block["title"], f"{path}/title", 2000, plain_only=True)
        elif kind == "markdown":
            self.string(block.get("text"), f"{path}/text", 12_000)
        elif kind == "rich_text":
            self.array(block.get("elements"), f"{path}/elements", 1000)
        elif kind == "input":
            self.text_obj(block.get("label"), f"{path}/label", 2000, plain_only=True)
            self.element(block.get("element"), f"{path}/element")


def check_blocks(blocks: Any, *, view: bool = False) -> list[str]:
    """Slack's complaints about a `blocks` array; empty when Slack would accept it."""
    c = _Checker()
    limit = MAX_VIEW_BLOCKS if view else MAX_MESSAGE_BLOCKS
    allowed = VIEW_BLOCK_TYPES if view else MESSAGE_BLOCK_TYPES
    if not isinstance(blocks, list):
        c.err("must provide an array", "/blocks")
        return c.errors
    if len(blocks) > limit:
        c.err(f"no more than {limit} items allowed", "/blocks")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        c.block(block, f"/blocks/{i}", allowed)
        bid = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(bid, str):
            if bid in block_ids:
                c.err("duplicate block_id", f"/blocks/{i}/block_id")
            block_ids.add(bid)
    return c.errors


def check_view(view: Any) -> list[str]:
    """Complaints about a modal/home view (reference §2.3 limits)."""
    c = _Checker()
    if not isinstance(view, dict):
        c.err("must be an object", "/view")
        return c.errors
    if view.get("type") not in ("modal", "home"):
        c.err("must be a valid enum value", "/view/type")
    if view.get("type") == "modal":
        c.text_obj(view.get("title"), "/view/title", max_len=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                c.text_obj(view[key], f"/view/{key}", max_len=24, plain_only=True)
    if "private_metadata" in view:
        c.string(view["private_metadata"], "/view/private_metadata", 3000, min_len=0)
    if "callback_id" in view:
        c.string(view["callback_id"], "/view/callback_id", 255)
    c.errors.extend(
        e.replace("json-pointer:/blocks", "json-pointer:/view/blocks")
        for e in check_blocks(view.get("blocks"), view=True)
    )
    return c.errors


def normalize_blocks(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Blocks as Slack stores them: every block gets a block_id and every interactive
    element an action_id (Slack invents short random ones when the app gave none)."""
    out = copy.deepcopy(blocks or [])
    for block in out:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", _short_id())
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for el in elements:
            if isinstance(el, dict) and el.get("type") in INTERACTIVE:
                el.setdefault("action_id", _short_id())
    return out


def _short_id() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))
