"""Parsers for the small languages inside the config file: durations ("90m"), clock times
("06:00"), weekday sets ("Mon-Fri"), cron expressions, Slack ids and channel names.

Each parser raises ValueError with a message meant for the person editing the file; the
loader prefixes it with the YAML path.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.grammar import parse_span


def parse_duration(value: object) -> timedelta:
    """Parse "90m", "6h", "1d" or "1h30m" (`bot.grammar`'s one span grammar). A bare number is
    refused: is 90 minutes or hours?"""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{_show(value)} is not a duration (e.g. 90m, 6h, 1d)")
    text = str(value)
    if isinstance(value, (int, float)) or text.strip().isdigit():
        n = text.strip()
        raise ValueError(f"{_show(value)} needs a unit: {n}m, {n}h or {n}d")
    span = parse_span(text)
    if span is None:
        if re.fullmatch(r"\s*(?:0+\s*[a-z]+\s*)+", text.lower()):
            raise ValueError(f"{_show(value)} must be longer than zero")
        raise ValueError(f"{_show(value)} is not a duration (e.g. 90m, 6h, 1d)")
    return span


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock_time(value: object) -> time:
    """Parse a 24-hour "HH:MM" (a leading zero is optional)."""
    if isinstance(value, time):
        return value
    match = _HHMM.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{_show(value)} is not HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


# Python's weekday numbering (Monday = 0) is what the rest of the bot uses.
_DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAY_ALIASES = {
    **{name: i for i, name in enumerate(_DAY_NAMES)},
    **{
        full: i
        for i, full in enumerate(
            ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        )
    },
}
_DAY_WORDS = {
    "daily": frozenset(range(7)),
    "every day": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
    "weekend": frozenset({5, 6}),
}


def parse_days(value: object) -> frozenset[int]:
    """Weekdays (Monday = 0) from "Mon-Fri", "mon,wed", "daily", "weekends" or [mon, tue].

    Ranges may wrap around the week ("Fri-Mon" is Friday to Monday).
    """
    if value is None:
        return frozenset(range(7))
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [str(v) for v in value]
        if not items:
            raise ValueError("is empty: give days such as Mon-Fri or daily")
    elif isinstance(value, str):
        items = value.split(",")
    else:
        raise ValueError(f"{_show(value)} is not a set of days (e.g. Mon-Fri, [mon, wed], daily)")
    days: set[int] = set()
    for raw in items:
        item = raw.strip().lower()
        if item in _DAY_WORDS:
            days |= _DAY_WORDS[item]
            continue
        start, sep, end = item.partition("-")
        first, last = _DAY_ALIASES.get(start.strip()), _DAY_ALIASES.get(end.strip())
        if not sep and first is not None:
            days.add(first)
        elif sep and first is not None and last is not None:
            span = (last - first) % 7
            days |= {(first + k) % 7 for k in range(span + 1)}
        else:
            raise ValueError(f"{_show(raw.strip())} is not a day or range of days (e.g. Mon-Fri)")
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    """Inverse of parse_days for messages: "Mon-Fri", "daily", "Mon, Wed"."""
    if days == frozenset(range(7)):
        return "daily"
    if days == frozenset(range(5)):
        return "Mon-Fri"
    return ", ".join(_DAY_NAMES[d].title() for d in sorted(days))


# Standard cron counts weekdays from Sunday = 0 (7 is Sunday too); APScheduler 3.x counts from
# Monday = 0, so "0 9 * * 1" would fire on Tuesdays if passed through (APScheduler issue 286).
_CRON_DOW_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_CRON_DOW_ITEM = re.compile(r"^(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/(\d+))?$")


def _cron_dow_number(token: str, field: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    if token[:3] in _CRON_DOW_NAMES and len(token) == 3:
        return _CRON_DOW_NAMES.index(token)
    raise ValueError(f"day of week {_show(field)} is not 0-7 or sun-sat")


def _cron_day_of_week(field: str) -> str:
    """Translate a standard cron day-of-week field to explicit APScheduler day names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        match = _CRON_DOW_ITEM.match(item)
        if not match:
            raise ValueError(f"day of week {_show(field)} is not valid")
        start, end, step = match.group(1), match.group(2), int(match.group(3) or 1)
        if step < 1:
            raise ValueError(f"day of week {_show(field)} has a zero step")
        if start == "*":
            if end is not None:
                raise ValueError(f"day of week {_show(field)} is not valid")
            lo, hi = 0, 6
        else:
            lo = _cron_dow_number(start, field)
            if end is None:
                hi = 6 if match.group(3) else lo
            else:
                # Sunday closes a range as 7 ("fri-sun", "5-7").
                hi = 7 if end in ("7", "sun") else _cron_dow_number(end, field)
        if hi < lo:
            raise ValueError(f"day of week {_show(field)} runs backwards")
        days |= {d % 7 for d in range(lo, hi + 1, step)}
    return ",".join(_CRON_DOW_NAMES[d] for d in sorted(days))


def cron_trigger(expr: str, tz: ZoneInfo | str = "UTC") -> CronTrigger:
    """An APScheduler trigger for a 5-field crontab expression, weekdays counted as in cron."""
    if not isinstance(expr, str):
        raise ValueError(f'{_show(expr)} is not a cron expression (e.g. "0 9 * * *")')
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"{_show(expr)} has {len(fields)} fields; cron needs 5: minute hour day month weekday"
        )
    minute, hour, day, month, dow = fields
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_cron_day_of_week(dow),
            timezone=zone,
        )
    except ValueError as e:
        detail = str(e).replace("Error validating expression ", "")
        raise ValueError(f"{_show(expr)} is not a valid cron expression: {detail}") from None


def check_cron(value: object) -> str:
    """Validate a cron string and return it unchanged (the trigger is built later, in tz)."""
    cron_trigger(value, "UTC")  # type: ignore[arg-type]
    return value  # type: ignore[return-value]


_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_CHANNEL_NAME = re.compile(r"^#?[a-z0-9][a-z0-9_\-]{0,79}$")


def parse_channel(value: object) -> str:
    """A Slack channel: an id (C…, G…) or a name, returned as "#name" or the id."""
    if value is None or value == "":
        raise ValueError(
            'is empty (in YAML an unquoted "#name" is a comment: write it as "#data-alerts")'
        )
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a channel name or id")
    text = value.strip()
    if _CHANNEL_ID.match(text):
        return text
    if _CHANNEL_NAME.match(text):
        return text if text.startswith("#") else f"#{text}"
    raise ValueError(
        f"{_show(value)} is not a Slack channel (lowercase letters, digits, - and _; or an id C…)"
    )


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_user_id(value: object) -> str:
    if not isinstance(value, str) or not _USER_ID.match(value):
        raise ValueError(f"{_show(value)} is not a Slack user id (U… or W…)")
    return value


def check_group_id(value: object) -> str:
    if not isinstance(value, str) or not _GROUP_ID.match(value):
        raise ValueError(f"{_show(value)} is not a Slack user group id (S…)")
    return value


def check_email(value: object) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value):
        raise ValueError(f"{_show(value)} is not an email address")
    return value.lower()


def check_timezone(value: object) -> str:
    from zoneinfo import ZoneInfoNotFoundError

    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{_show(value)} is not a time zone name (e.g. Europe/Amsterdam)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{_show(value)} is not a known time zone") from None
    return value


def _show(value: object) -> str:
    """A value quoted the way it would be written in the file."""
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if value is None:
        return "null"
    return str(value)
