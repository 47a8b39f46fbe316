"""Test helper: type a `/jobs` command in the sandbox and get back what the person saw, checked
for the things every answer must have (ephemeral to the asker, a text fallback, valid blocks
that Slack accepted)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.slack.blocks_check import problems
from sandbox.slack.driver import Seen, SlackSandbox
from sandbox.slack.state import Message

LINKED_NAME = re.compile(r"\*<[^|>]+\|([^>]+)>\*")


@dataclass
class Shown:
    seen: Seen
    message: Message  # the answer as the sandbox holds it
    payload: dict[str, Any]  # the answer as the app sent it through response_url

    @property
    def text(self) -> str:
        return self.payload["text"]

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self.payload.get("blocks") or []

    @property
    def body(self) -> str:
        """Every string of the answer, for "does it say X" checks."""
        return json.dumps(self.payload, ensure_ascii=False)

    @property
    def rendered(self) -> str:
        """What Slack renders: the fallback and every text object, not button values."""
        out = [self.text]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key, child in node.items():
                    if key == "text" and isinstance(child, str):
                        out.append(child)
                    elif key != "value":
                        walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        walk(self.blocks)
        return "\n".join(out)

    def items(self) -> list[dict[str, Any]]:
        """The list entries (failing jobs, SLAs, "did you mean" choices…) in order."""
        return [b for b in self.blocks if re.fullmatch(r"item-\d+", b.get("block_id", ""))]

    def linked_names(self) -> list[str]:
        return [m for b in self.items() for m in LINKED_NAME.findall(b["text"]["text"])]


def ask(
    sb: SlackSandbox,
    text: str,
    *,
    user: str = "U01ALICE",
    channel: str = "C02ALERTS",
    timeout: float = 10.0,
) -> Shown:
    seen = sb.command(f"/jobs {text}".strip(), user=user, channel=channel, timeout=timeout)
    assert (seen.status, seen.http_status) == ("ok", 200), seen
    assert seen.ack_body == "", "the app acks empty and answers through response_url"
    assert seen.responses, f"no answer to /jobs {text}"
    for post in seen.responses:
        assert (post["status"], post["answer"]) == (200, "ok"), post  # e.g. invalid_blocks
    payload = json.loads(seen.responses[-1]["body"])
    assert payload.get("response_type") == "ephemeral"
    assert problems(payload) == [], problems(payload)
    assert payload["text"].strip()
    mine = [m for m in seen.ephemerals if m.to_user == user]
    assert mine and mine[-1].text == payload["text"]
    # Nobody else sees it: not in the channel, not in another person's ephemerals.
    assert seen.messages == []
    for other in sb.workspace.humans():
        if other.id != user:
            assert all(m.id != mine[-1].id for m in sb.ephemerals(other.id, channel))
    return Shown(seen, mine[-1], payload)
