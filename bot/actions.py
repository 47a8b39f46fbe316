"""Action ids and button values: the contract between posted messages and the listeners.

Messages already posted in Slack carry these `action_id` strings and values, possibly for
months, so ids never change and values are versioned (`"v": 1`). A value is small JSON with
short keys (Slack allows 2000 characters), decoded and validated once, where the click
arrives; a forged or garbled value becomes a `BadButtonValue` with a message for the user.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.errors import UserError

# The public contract. Never rename: old messages keep sending the old strings.
JOBS_RERUN = "jobs_rerun"
JOBS_RERUN_CONFIRMED = "jobs_rerun_confirmed"
JOBS_ACK = "jobs_ack"
JOBS_UNACK = "jobs_unack"
JOBS_SNOOZE = "jobs_snooze"
JOBS_OPEN_RUN = "jobs_open_run"
JOBS_OPEN_JOB = "jobs_open_job"
JOBS_SHARE = "jobs_share"
JOBS_PICK_JOB = "jobs_pick_job"
JOBS_FEEDBACK_EXPECTED = "jobs_feedback_expected"
JOBS_FEEDBACK_NOT_ANOMALY = "jobs_feedback_not_anomaly"
JOBS_UNMUTE = "jobs_unmute"

ALL_ACTION_IDS: tuple[str, ...] = (
    JOBS_RERUN,
    JOBS_RERUN_CONFIRMED,
    JOBS_ACK,
    JOBS_UNACK,
    JOBS_SNOOZE,
    JOBS_OPEN_RUN,
    JOBS_OPEN_JOB,
    JOBS_SHARE,
    JOBS_PICK_JOB,
    JOBS_FEEDBACK_EXPECTED,
    JOBS_FEEDBACK_NOT_ANOMALY,
    JOBS_UNMUTE,
)

# The names templates use for action ids (`ids.rerun`), so templates never spell an id.
TEMPLATE_IDS: dict[str, str] = {
    "rerun": JOBS_RERUN,
    "ack": JOBS_ACK,
    "unack": JOBS_UNACK,
    "snooze": JOBS_SNOOZE,
    "pick_job": JOBS_PICK_JOB,
    "open_run": JOBS_OPEN_RUN,
    "open_job": JOBS_OPEN_JOB,
    "share": JOBS_SHARE,
    "expected": JOBS_FEEDBACK_EXPECTED,
    "not_anomaly": JOBS_FEEDBACK_NOT_ANOMALY,
    "unmute": JOBS_UNMUTE,
}

# URL buttons still send a click to the app; it only needs an ack, so they carry no value.
URL_ONLY_ACTIONS = frozenset({JOBS_OPEN_RUN, JOBS_OPEN_JOB})

# Ids kept in the contract so their strings are never reused, but no longer handled: a click
# on one gets the "older version" answer (bot/slack/app.py's catch-all) and changes nothing.
# JOBS_RERUN_CONFIRMED was meant for a second "confirm" message; the rerun button's own
# confirm dialog does that job, and no template ever posted it.
RETIRED_ACTION_IDS = frozenset({JOBS_RERUN_CONFIRMED})

# What a click on a retired or unknown action id is told.
OLD_BUTTON_TEXT = (
    "This button is from an older version of jobs-bot and does nothing any more, so nothing "
    "was done. Run the command again (or use the buttons of a current alert) to get "
    "buttons that work."
)

SNOOZE_CHOICES = ("1h", "4h", "24h", "tomorrow")
MAX_VALUE_CHARS = 2000
VERSION: Final = 1

# Which fields each action needs: checked at decode time so listeners can rely on them.
_REQUIRED: dict[str, tuple[str, ...]] = {
    JOBS_RERUN: ("workspace_id", "job_id", "run_id"),
    JOBS_ACK: ("alert_id",),
    JOBS_UNACK: ("alert_id",),
    JOBS_SNOOZE: ("alert_id", "snooze"),
    JOBS_SHARE: ("command",),
    JOBS_PICK_JOB: ("workspace_id", "job_id"),
    JOBS_FEEDBACK_EXPECTED: ("key", "day"),
    JOBS_FEEDBACK_NOT_ANOMALY: ("key", "day"),
    JOBS_UNMUTE: ("workspace_id", "job_id"),
}


class BadButtonValue(UserError):
    """A button value that is not ours, is damaged, or is from an unknown version."""


class ButtonValue(BaseModel):
    """What a button carries. Short JSON keys (aliases) keep values far under 2000 chars."""

    # strict: a forged "12" or 12.0 where an id belongs is rejected, not coerced.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)

    v: Literal[1] = VERSION
    workspace_id: int | None = Field(default=None, alias="w", ge=0)
    job_id: int | None = Field(default=None, alias="j", ge=0)
    run_id: int | None = Field(default=None, alias="r", ge=0)
    alert_id: str | None = Field(default=None, alias="a", min_length=1, max_length=64)
    snooze: Literal["1h", "4h", "24h", "tomorrow"] | None = Field(default=None, alias="s")
    # Cost feedback: what the anomaly was about ("job:123/456", "sku:…") and for which day.
    key: str | None = Field(default=None, alias="k", min_length=1, max_length=300)
    day: date | None = Field(default=None, alias="d")
    # Share in channel: the command text to answer again, visibly, and the instant it was
    # answered for, so the shared answer is the one the user saw.
    command: str | None = Field(default=None, alias="c", max_length=1000)
    at: int | None = Field(default=None, alias="t", ge=0)

    @model_validator(mode="after")
    def _workspace_with_job(self) -> ButtonValue:
        # Job and run ids are only unique within a workspace.
        if (self.job_id is not None or self.run_id is not None) and self.workspace_id is None:
            raise ValueError("a job or run id needs its workspace id")
        return self


def encode(value: ButtonValue | None = None, **fields: Any) -> str:
    """Compact JSON for a button's `value`; raises ValueError if it would exceed 2000 chars."""
    model = value if value is not None else ButtonValue(**fields)
    text = json.dumps(
        model.model_dump(by_alias=True, exclude_none=True, mode="json"),
        separators=(",", ":"),
        ensure_ascii=False,
    )
    if len(text) > MAX_VALUE_CHARS:
        raise ValueError(f"button value is {len(text)} characters; Slack allows {MAX_VALUE_CHARS}")
    return text


def share_value(command: str, at: int | None) -> str:
    """The Share button's value: a reference to the answer, not the answer itself.

    The command text and the instant it was answered for name the answer exactly (answers
    are computed as of `at`), so the click answers it again for that instant and posts what
    the person saw. The text arrives already bounded (500 characters) with control characters
    stripped, so JSON escapes at most double it (`"` and `\\`; non-ASCII stays one character)
    and the value stays under 1,100 characters. A longer text raises ValueError rather than
    being cut: a cut command would share a different answer.
    """
    return encode(command=command, at=at)


def decode(raw: str | None, action_id: str | None = None) -> ButtonValue:
    """Parse and validate a clicked button's value, checking what `action_id` needs."""
    if not raw or len(raw) > MAX_VALUE_CHARS:
        raise BadButtonValue(_garbled())
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise BadButtonValue(_garbled()) from None
    if not isinstance(data, dict):
        raise BadButtonValue(_garbled())
    version = data.get("v")
    if type(version) is not int or version != VERSION:
        raise BadButtonValue(
            f"This button comes from a version of jobs-bot this one does not understand "
            f"(value version {version!r}). Run the command again to get a fresh message."
        )
    try:
        value = ButtonValue.model_validate_json(raw)
    except ValidationError:
        raise BadButtonValue(_garbled()) from None
    if action_id is not None:
        if action_id not in ALL_ACTION_IDS:
            raise BadButtonValue(f"Unknown button. {OLD_BUTTON_TEXT}")
        if action_id in RETIRED_ACTION_IDS:
            raise BadButtonValue(OLD_BUTTON_TEXT)
        missing = [f for f in _REQUIRED.get(action_id, ()) if getattr(value, f) is None]
        if missing:
            raise BadButtonValue(_garbled())
    return value


def _garbled() -> str:
    return (
        "This button's data is damaged or was not made by jobs-bot, so nothing was done. "
        "Run the command again to get a fresh message."
    )
