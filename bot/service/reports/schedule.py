"""When a scheduled report is due: the cron's fire time on the current local day, and the
outbox-based "exactly once, maybe late" rule both reports share.

Why `due(now)` called every minute rather than an APScheduler cron job plus a catch-up on
start: the outbox already holds the only state that matters — whether today's report was
queued — under a dedupe key of kind + local day. A tick that asks "has today's slot passed,
and is its key still unused?" is then idempotent by construction: a restart, a second replica
or a tick that overran changes nothing, a slot missed while the bot was down is taken by the
first tick after it comes back (the same local day), and a bot down until the next day never
sees the missed day again, because a tick only ever looks at *today's* slot. A cron job would
need the same check anyway (its misfire grace and a catch-up at start are the same question
asked twice), and its own job store would be a second source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import as_utc
from bot.config import cron_trigger

# A report queued this long after its slot says it is late (a tick runs every minute and a
# report takes seconds to read, so only a bot that was down or stuck gets there).
LATE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Slot:
    """Today's firing of a report's cron: the local day and the instant (UTC)."""

    day: date
    at: datetime

    def late_at(self, now: datetime) -> bool:
        return as_utc(now) - self.at > LATE_AFTER

    def local(self, tz: ZoneInfo) -> datetime:
        return self.at.astimezone(tz)


def last_slot_today(cron: str, tz: ZoneInfo, now: datetime) -> Slot | None:
    """The latest time `cron` fired on `now`'s local day, at or before `now`; None when it has
    not fired yet today (or does not fire on this day)."""
    now = as_utc(now)
    today = now.astimezone(tz).date()
    trigger = cron_trigger(cron, tz)
    start = datetime.combine(today, time(0), tzinfo=tz)
    fire = trigger.get_next_fire_time(None, start)
    last: datetime | None = None
    while fire is not None and as_utc(fire) <= now and fire.astimezone(tz).date() == today:
        last = as_utc(fire)
        # APScheduler's cron works in whole seconds: the next fire is at least a second later.
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return Slot(today, last) if last is not None else None


def local_day_window(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of a local day, in UTC (23 or 25 hours on DST days)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return as_utc(start), as_utc(end)
