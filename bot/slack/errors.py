"""Slack API errors, mapped once at the client into typed exceptions, so callers handle
`NotInChannel` rather than comparing error strings, and one policy for what the user is told.

Slack answers HTTP 200 with `{"ok": false, "error": "<code>"}`; slack_sdk raises
SlackApiError carrying that body. The codes below are the ones jobs-bot reacts to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from slack_sdk.errors import SlackApiError

from bot.errors import UserError, new_error_id, unexpected_text

T = TypeVar("T")


class SlackError(Exception):
    """A Slack Web API call failed with `code` (e.g. `channel_not_found`)."""

    code: str = "unknown"

    def __init__(
        self, code: str, method: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{method or 'slack'}: {code}")
        self.code = code
        self.method = method
        self.retry_after = retry_after


class ChannelNotFound(SlackError):
    """`channel_not_found`: no such channel, or a private one the bot was never invited to."""


class NotInChannel(SlackError):
    """`not_in_channel`: a public channel the bot can join without an invite."""


class IsArchived(SlackError):
    """`is_archived`: the channel was archived; nothing can be posted there."""


class MessageTooLong(SlackError):
    """`msg_too_long`: the text is over Slack's limit."""


class InvalidBlocks(SlackError):
    """`invalid_blocks` / `invalid_blocks_format`: Block Kit that Slack rejects."""


class RateLimited(SlackError):
    """`ratelimited` (HTTP 429) after the client's own retries; `retry_after` in seconds."""


_BY_CODE: dict[str, type[SlackError]] = {
    "channel_not_found": ChannelNotFound,
    "not_in_channel": NotInChannel,
    "is_archived": IsArchived,
    "msg_too_long": MessageTooLong,
    "invalid_blocks": InvalidBlocks,
    "invalid_blocks_format": InvalidBlocks,
    "ratelimited": RateLimited,
    "rate_limited": RateLimited,
}


def typed(error: SlackApiError, method: str | None = None) -> SlackError:
    """The typed exception for a SlackApiError."""
    response = error.response
    code = str(response.get("error") or "unknown")
    retry_after: float | None = None
    header = (response.headers or {}).get("Retry-After") or (response.headers or {}).get(
        "retry-after"
    )
    if header is not None:
        try:
            retry_after = float(header[0] if isinstance(header, list) else header)
        except ValueError:
            retry_after = None
    return _BY_CODE.get(code, SlackError)(code, method, retry_after)


def call(method: str, fn: Callable[[], T]) -> T:
    """Run one Web API call, raising the typed error instead of SlackApiError."""
    try:
        return fn()
    except SlackApiError as e:
        raise typed(e, method) from e


# --- what the user is told ------------------------------------------------------------------


def user_text(error: Exception, logger: logging.Logger) -> str:
    """A UserError's own words; anything else an error id, logged in full under that id."""
    if isinstance(error, UserError):
        logger.info("told user: %s", error)
        return str(error)
    error_id = new_error_id()
    logger.error("error %s: %s", error_id, error, exc_info=error)
    return unexpected_text(error_id)
