"""Hostile command text, end to end: quotes that overflowed the Share button's 2,000-character
value, control characters and right-to-left overrides echoed back (and shared into the
channel), and a newline that forged a line in the bot's log."""

from __future__ import annotations

import json
import logging

import pytest

from bot.actions import JOBS_SHARE, MAX_VALUE_CHARS
from tests.support.ask import ask
from tests.support.stack import Stack

INVISIBLE = ("\x00", "\x1b", "\x07", "\u202e", "\u2066", "\u200f")


def _share_value(blocks: list[dict]) -> str:
    row = next(b for b in blocks if b.get("block_id") == "jobs_share")
    return str(row["elements"][0]["value"])


def test_992_quotes_get_a_clear_answer_not_something_went_wrong(stack: Stack) -> None:
    sb = stack.sb
    seen = sb.command("/jobs status " + '"' * 992, user="U02BOB", timeout=5)
    assert (seen.status, seen.http_status) == ("ok", 200)
    said = " ".join([seen.ack_body, *seen.texts])
    assert "Something went wrong" not in said and "error id" not in said
    assert "at most 500" in said


def test_quotes_and_backslashes_up_to_the_limit_keep_a_small_share_value_that_shares(
    stack: Stack,
) -> None:
    sb = stack.sb
    text = "status " + '"\\' * 246  # 499 characters, every one escaped in JSON
    shown = ask(sb, text, user="U02BOB")
    assert "Something went wrong" not in shown.text
    value = _share_value(shown.blocks)
    assert len(value) <= MAX_VALUE_CHARS
    clicked = sb.click(shown.message, JOBS_SHARE, block_id="jobs_share", user="U02BOB")
    assert clicked.status == "ok"
    shared = [m for m in sb.messages("C02ALERTS") if m.text == shown.text]
    assert shared, "the Share click posted what the user saw"


def test_nul_characters_do_not_break_the_answer_or_its_share_button(stack: Stack) -> None:
    sb = stack.sb
    shown = ask(sb, "status nightly_sales" + "\x00" * 400, user="U03CAROL")
    assert "nightly_sales" in shown.text and "Something went wrong" not in shown.text
    assert "\\u0000" not in _share_value(shown.blocks) and "\x00" not in shown.body


def test_control_characters_and_rtl_overrides_are_never_echoed_nor_shared(stack: Stack) -> None:
    sb = stack.sb
    before = len(sb.hook_posts)
    hostile = "status ev\u202eil\x1b[31m\x07na\u2066me\x00\u200f"
    shown = ask(sb, hostile, user="U04DAVE")
    for ch in INVISIBLE:
        assert ch not in shown.body, repr(ch)
        for post in sb.hook_posts[before:]:
            assert ch not in json.loads(post["body"]).get("text", ""), repr(ch)
    clicked = sb.click(shown.message, JOBS_SHARE, block_id="jobs_share", user="U04DAVE")
    assert clicked.status == "ok"
    shared = [m for m in sb.messages("C02ALERTS") if m.text == shown.text]
    assert shared
    posted = json.dumps([shared[-1].text, shared[-1].blocks], ensure_ascii=False)
    for ch in INVISIBLE:
        assert ch not in posted, repr(ch)


def test_a_newline_in_the_command_cannot_forge_a_log_line(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    # `jobs-bot run` as a process shows the same on its stderr (test_shutdown_delivery.py).
    with caplog.at_level(logging.INFO, logger="bot.slack"):
        ask(stack.sb, "status foo\nERROR bot.slack: forged line", user="U01ALICE")
    asked = [r for r in caplog.records if r.name == "bot.slack.app" and "forged" in r.getMessage()]
    assert asked, "the command is logged"
    assert all("\n" not in r.getMessage() for r in asked)
    assert "'status foo\\nERROR bot.slack: forged line'" in asked[0].getMessage()
