"""Fixtures of the end-to-end tests: the stack of tests/support/stack.py (the real jobs-bot,
built by `bot.wiring`, over HTTP behind the local Slack sandbox) on the small demo account."""

from __future__ import annotations

from tests.support.stack import make_stack, stack

__all__ = ["make_stack", "stack"]
