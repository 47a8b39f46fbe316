"""QuartzSchedule: when a Databricks job schedule (a Quartz cron expression in a time zone)
fires next, by translating the expression to APScheduler's CronTrigger.

Quartz has a seconds field first, an optional year last, `?` for "no specific value" in
day-of-month or day-of-week, and numbers its weekdays 1=SUN..7=SAT, where APScheduler counts
0=MON..6=SUN. Its `x/y` ("from x every y") needs an explicit range in APScheduler. `L`, `W`
and `#` are rare in job schedules and are refused rather than guessed.

DST follows Quartz: a wall time skipped in spring fires an hour later (02:30 CET on the
spring-forward day is 01:30 UTC, i.e. 03:30 CEST); a wall time that happens twice in autumn
fires once, at its first occurrence.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_NAMES = ("second", "minute", "hour", "day", "month", "day_of_week", "year")
_MAX = {"second": 59, "minute": 59, "hour": 23, "day": 31, "month": 12, "year": 2199}
_SPECIAL = re.compile(r"\d*L|\d+W|LW", re.IGNORECASE)
_DOW = {1: "sun", 2: "mon", 3: "tue", 4: "wed", 5: "thu", 6: "fri", 7: "sat"}


def _dow_atom(atom: str) -> str:
    """One weekday: Quartz numbers (1=SUN) become names, so APScheduler cannot misread them."""
    if atom.isdigit():
        n = int(atom)
        if n not in _DOW:
            raise ValueError(f"day-of-week {atom} is not 1-7")
        return _DOW[n]
    return atom.lower()


def _field(name: str, text: str) -> str:
    if text == "?":
        return "*"
    # Names (JUL, WED) contain L and W, so look at whole atoms: "L", "5L", "15W", "LW", "6#3".
    if "#" in text or any(_SPECIAL.fullmatch(a) for a in re.split(r"[,/\-]", text)):
        raise ValueError(f"Quartz {name} field {text!r}: L, W and # are not supported")
    parts = []
    for part in text.split(","):
        base, _, step = part.partition("/")
        if name == "day_of_week":
            base = "-".join(_dow_atom(a) for a in base.split("-")) if base != "*" else "*"
            if step and "-" not in base and base != "*":
                base = f"{base}-sat"
        elif step and base != "*" and "-" not in base:
            base = f"{base}-{_MAX[name]}"  # Quartz "5/15": from 5 to the field's end, every 15
        parts.append(f"{base}/{step}" if step else base)
    return ",".join(parts)


def trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise ValueError(f"{expression!r}: a Quartz expression has 6 or 7 fields")
    kwargs = {name: _field(name, text) for name, text in zip(_NAMES, fields, strict=False)}
    return CronTrigger(timezone=ZoneInfo(timezone), **kwargs)


class QuartzSchedule:
    def __init__(self, expression: str, timezone: str = "UTC") -> None:
        self.expression = expression
        self.tz = ZoneInfo(timezone)
        self._trigger = trigger(expression, timezone)

    def next_after(self, after: datetime) -> datetime | None:
        """The first fire time strictly after `after` (aware), in UTC; None when none is left."""
        probe = after.astimezone(UTC) + timedelta(seconds=1)
        for _ in range(1000):
            found: datetime | None = self._trigger.get_next_fire_time(None, probe)
            if found is None:
                return None
            fire = found.astimezone(UTC)
            if fire <= after:
                # APScheduler 3.x can answer a time before `now` around an autumn fold.
                probe += timedelta(hours=1)
                continue
            local = fire.astimezone(self.tz)
            if local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset():
                probe = fire + timedelta(seconds=1)  # the repeated hour: Quartz fires once
                continue
            return fire
        raise RuntimeError(f"{self.expression!r}: no fire time found after {after}")
