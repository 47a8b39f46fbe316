"""Quartz cron expressions, the schedule language of Databricks jobs, evaluated in pure Python:
which instants a job's schedule says it should have started at.

A Quartz expression is not 5-field cron. It has 6 or 7 fields — seconds, minutes, hours,
day-of-month, month, day-of-week, optional year — and day-of-week counts 1 = Sunday … 7 =
Saturday (names SUN–SAT also work). One of day-of-month / day-of-week is normally `?` ("no
value"). Supported: `*`, `?`, numbers, names, lists `a,b`, ranges `a-b` (wrapping, e.g.
`FRI-MON` or hours `22-2`), steps `*/n`, `a/n`, `a-b/n`. Refused with a clear QuartzError:
`L` (last), `W` (nearest weekday), `#` (nth weekday) — a missed-run alert built on a guess
would page someone for nothing.

Time zones: the fields are wall-clock times in the schedule's IANA zone, so a fire is a
`Fire` with a local wall time and the instant(s) it maps to:
- a wall time in the spring-forward gap (02:30 on the night clocks jump 02:00 → 03:00) does
  not exist; it yields no fire. Schedulers disagree about such times (Databricks warns that
  runs near a DST change may be skipped), so nothing is *expected* then and nothing can be
  reported missed.
- a wall time in the fall-back overlap (02:30 twice) is one fire with `earliest` = the first
  occurrence and `latest` = the second: a run at either counts, and absence is only judged
  after the second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Quartz numbering: 1 = SUN … 7 = SAT.
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


class QuartzError(ValueError):
    """An expression this module cannot (or will not) evaluate; the message says why."""


@dataclass(frozen=True)
class _Spec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] means low + i


_FIELDS = (
    _Spec("seconds", 0, 59),
    _Spec("minutes", 0, 59),
    _Spec("hours", 0, 23),
    _Spec("day-of-month", 1, 31),
    _Spec("month", 1, 12, MONTHS),
    _Spec("day-of-week", 1, 7, WEEKDAYS),
    _Spec("year", 1970, 2199),
)


@dataclass(frozen=True)
class Fire:
    """One scheduled start. `wall` is the local wall time; `earliest`/`latest` are the UTC
    instants it maps to (equal except in a fall-back overlap)."""

    wall: datetime
    earliest: datetime
    latest: datetime


@dataclass(frozen=True)
class QuartzCron:
    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # day-of-month; None = `?` or `*` (no restriction)
    months: frozenset[int]
    weekdays: frozenset[int] | None  # Quartz numbering; None = `?` or `*`
    years: frozenset[int] | None

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        if self.years is not None and day.year not in self.years:
            return False
        if self.days is not None and day.day not in self.days:
            return False
        return self.weekdays is None or quartz_weekday(day) in self.weekdays

    def fires(self, tz: str | ZoneInfo, start: datetime, end: datetime) -> list[Fire]:
        """Fires whose first instant lies in [start, end), oldest first (aware instants)."""
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        # Wall-clock bounds with a margin wider than any UTC offset change (≤ 2 h in practice).
        lo = start.astimezone(zone).replace(tzinfo=None) - timedelta(hours=3)
        hi = end.astimezone(zone).replace(tzinfo=None) + timedelta(hours=3)
        out = []
        for wall in self._walls(lo, hi):
            fire = resolve(wall, zone)
            if fire is not None and start <= fire.earliest < end:
                out.append(fire)
        return out

    def _walls(self, lo: datetime, hi: datetime) -> Iterator[datetime]:
        day = lo.date()
        while day <= hi.date():
            if self.matches_day(day):
                for h in sorted(self.hours):
                    if not _overlaps(day, time(h), time(h, 59, 59), lo, hi):
                        continue
                    for m in sorted(self.minutes):
                        if not _overlaps(day, time(h, m), time(h, m, 59), lo, hi):
                            continue
                        for s in sorted(self.seconds):
                            wall = datetime.combine(day, time(h, m, s))
                            if lo <= wall <= hi:
                                yield wall
            day += timedelta(days=1)


def _overlaps(day: date, first: time, last: time, lo: datetime, hi: datetime) -> bool:
    return datetime.combine(day, last) >= lo and datetime.combine(day, first) <= hi


def quartz_weekday(day: date) -> int:
    """1 = Sunday … 7 = Saturday (date.weekday() has 0 = Monday)."""
    return (day.weekday() + 1) % 7 + 1


def resolve(wall: datetime, zone: ZoneInfo) -> Fire | None:
    """The instants a local wall time maps to; None when it falls in a DST gap."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    a, b = first.astimezone(UTC), second.astimezone(UTC)
    # A wall time that does not exist does not survive the round trip back to local time.
    if a.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return Fire(wall, min(a, b), max(a, b))


def parse(expression: str) -> QuartzCron:
    """Parse a Quartz expression; QuartzError names the field and the problem."""
    parts = expression.split()
    if len(parts) not in (6, 7):
        raise QuartzError(
            f"{expression!r} has {len(parts)} fields; a Quartz expression has 6 or 7 "
            "(seconds minutes hours day-of-month month day-of-week [year])"
        )
    values: list[frozenset[int] | None] = []
    for spec, text in zip(_FIELDS, parts, strict=False):
        values.append(_field(spec, text))
    if len(parts) == 6:
        values.append(None)
    seconds, minutes, hours, days, months, weekdays, years = values
    dom_free = parts[3] in ("?", "*")
    dow_free = parts[5] in ("?", "*")
    if not dom_free and not dow_free:
        raise QuartzError(
            f"{expression!r} restricts both day-of-month and day-of-week; Quartz wants `?` "
            "in one of them"
        )
    assert seconds is not None and minutes is not None and hours is not None
    assert months is not None
    return QuartzCron(
        expression=expression,
        seconds=seconds,
        minutes=minutes,
        hours=hours,
        days=None if dom_free else days,
        months=months,
        weekdays=None if dow_free else weekdays,
        years=None if parts[6:] in ([], ["*"]) else years,
    )


def _field(spec: _Spec, text: str) -> frozenset[int] | None:
    upper = text.upper()
    if upper == "?":
        if spec.name not in ("day-of-month", "day-of-week"):
            raise QuartzError(
                f"`?` is only allowed in day-of-month or day-of-week, not {spec.name}"
            )
        return None
    for mark, what in (("L", "L (last)"), ("W", "W (nearest weekday)"), ("#", "# (nth weekday)")):
        # Names hold letters too (WED, JUL): strip them before looking for the specials.
        stripped = upper
        for name in spec.names:
            stripped = stripped.replace(name, "")
        if mark in stripped:
            raise QuartzError(f"{what} in {spec.name} ({text!r}) is not supported")
    out: set[int] = set()
    for item in upper.split(","):
        out |= _item(spec, item, text)
    return frozenset(out)


def _item(spec: _Spec, item: str, text: str) -> set[int]:
    base, _, step_text = item.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise QuartzError(f"bad step {step_text!r} in {spec.name} ({text!r})")
        step = int(step_text)
    if base == "*" or base == "":
        if base == "" and not step_text:
            raise QuartzError(f"empty list item in {spec.name} ({text!r})")
        first, last = spec.low, spec.high
    elif "-" in base:
        a, _, b = base.partition("-")
        first, last = _value(spec, a, text), _value(spec, b, text)
    else:
        first = _value(spec, base, text)
        # `a/n` runs from a to the end of the range; a bare `a` is just a.
        last = spec.high if step_text else first
    span = spec.high - spec.low + 1
    count = (last - first) % span + 1  # a wrapping range (FRI-MON, 22-2) goes round
    return {spec.low + (first - spec.low + i) % span for i in range(0, count, step)}


def _value(spec: _Spec, token: str, text: str) -> int:
    if token in spec.names:
        return spec.low + spec.names.index(token)
    if not token.isdigit():
        raise QuartzError(f"{token!r} is not a value of {spec.name} ({text!r})")
    value = int(token)
    if not spec.low <= value <= spec.high:
        raise QuartzError(
            f"{value} is out of range for {spec.name} ({spec.low}–{spec.high}) in {text!r}"
        )
    return value
