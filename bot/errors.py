"""Errors that carry a message meant for a person (CLI user or Slack user), not a traceback,
and the one error-id policy: an unexpected failure is logged in full under a short id, and the
person is told only that id."""

from __future__ import annotations

import uuid


class UserError(Exception):
    """Bad input or a known failure: the message is shown as is, without a traceback."""


def new_error_id() -> str:
    """A short id the user quotes and the operator greps the log for."""
    return uuid.uuid4().hex[:8]


def unexpected_text(error_id: str) -> str:
    """What a person is told about a failure that is not theirs to fix."""
    return (
        f"Something went wrong on my side (error id `{error_id}`). "
        "The operator can find the details in the bot's log under that id."
    )
