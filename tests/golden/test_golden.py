"""Golden snapshots of every answer template. Regenerate after an intended change with
`UPDATE_GOLDEN=1 ./run-tests tests/golden` and review the diff like code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.render import Renderer, default_templates_dir
from bot.render.limits import MAX_BLOCKS
from bot.slack.blocks_check import problems
from tests.support.golden.cases import NOW, cases

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
CASES = cases()


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(tz="Europe/Amsterdam", currency="USD", clock=FixedClock(NOW))


def _render(renderer: Renderer, name: str) -> dict:
    template, data = CASES[name]
    return renderer.render(template, **data)


@pytest.mark.parametrize("name", sorted(CASES))
def test_snapshot(renderer: Renderer, name: str) -> None:
    message = _render(renderer, name)
    text = json.dumps(message, ensure_ascii=False, indent=2) + "\n"
    path = SNAPSHOTS / f"{name}.json"
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"new snapshot written to {path}; review it and run again")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; if intended, regenerate with UPDATE_GOLDEN=1 ./run-tests tests/golden"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_block_kit_with_fallback_text(renderer: Renderer, name: str) -> None:
    message = _render(renderer, name)
    assert problems(message) == []
    assert message["text"].strip()
    assert len(message["blocks"]) <= MAX_BLOCKS


def test_every_answer_template_has_a_case() -> None:
    templates = {p.name for p in default_templates_dir().glob("*.json.j2")}
    assert templates == {template for template, _ in CASES.values()}


@pytest.mark.parametrize("name", ["failing", "status_unknown", "cost"])
def test_hostile_text_renders_literally(renderer: Renderer, name: str) -> None:
    body = json.dumps(_render(renderer, name), ensure_ascii=False)
    for live in ("<!channel>", "<!here>", "<http://evil|click>"):
        assert live not in body
    if name != "status_unknown":
        assert "&lt;!channel&gt; *boom* &lt;http://evil|click&gt; &amp;amp;" in body


def test_backticks_in_an_error_message_cannot_close_the_code_block(renderer: Renderer) -> None:
    message = _render(renderer, "failing")
    text = next(b["text"]["text"] for b in message["blocks"] if b.get("block_id") == "item-2")
    code = text[text.index("```") :]
    # Exactly one opening and one closing fence; the message's own ``` are broken up.
    assert code.count("```") == 2 and code.endswith("```")
    assert "&lt;!here&gt;" in code


def test_unmapped_owner_is_named_and_mapped_owner_is_mentioned(renderer: Renderer) -> None:
    body = json.dumps(_render(renderer, "failing"), ensure_ascii=False)
    assert "<@U01ALICE>" in body
    assert "someone@example.com" in body
