"""SLA decisions, pure: is a job's SLA met, pending, at risk or breached right now?

Three kinds of rule (`SlaSpec.kind`):
- `deadline`: "must have succeeded by HH:MM on days D in tz". Met when the first successful
  run ending on that local day ended by the deadline; met late when after it; breached at
  the deadline without a success; at risk before the deadline when the job has not started
  and now + p90 is past the deadline, or it is running and start + p90 is past it.
- `max_duration`: "must finish within N minutes". A run's own deadline is start + N;
  running past it is breached, a p90 above N makes a running run at risk, a finished run
  over N is met late (succeeded) or breached (failed).
- `freshness`: "must succeed at least every N hours". The deadline is the last success + N;
  at risk when the next run (p90) cannot land before it.

On a day not in `days` the rule does not apply. Deadlines are local wall-clock times, so a
07:00 deadline is 06:00 UTC in winter and 05:00 UTC in summer in Amsterdam; a deadline that
falls in the spring-forward gap (02:30 that night) is read with the pre-change offset, i.e.
it lands an hour later on the clock (03:30).

Inputs are small frozen dataclasses the caller fills from the warehouse (one row per local
day) and the config (SlaSpec), so this module depends on neither. The output is facts, not
sentences: a state, why (`SlaReason`) and the instants and durations behind it; the service
phrases them for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from bot.clock import as_utc

ALL_DAYS = frozenset(range(7))  # date.weekday(): 0 = Monday … 6 = Sunday


class SlaState(StrEnum):
    MET = "met"
    MET_LATE = "met_late"
    PENDING = "pending"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class SlaSpec:
    kind: Literal["deadline", "max_duration", "freshness"]
    deadline: time | None = None
    days: frozenset[int] = ALL_DAYS
    tz: str = "UTC"
    max_minutes: float | None = None
    every_hours: float | None = None

    def __post_init__(self) -> None:
        needs = {"deadline": "deadline", "max_duration": "max_minutes", "freshness": "every_hours"}
        if self.kind not in needs:
            raise ValueError(f"unknown SLA kind {self.kind!r}")
        if getattr(self, needs[self.kind]) is None:
            raise ValueError(f"a {self.kind} SLA needs {needs[self.kind]}")
        if not self.days <= ALL_DAYS:
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        ZoneInfo(self.tz)  # fail on a bad timezone name now, not at the first check


@dataclass(frozen=True)
class DayRuns:
    """One local day (in the SLA's tz) of a job's runs. Instants may be naive UTC.

    `first_success_end` / `success_ends`: successful runs that *ended* on this day.
    `last_start` / `last_end` / `last_result`: the latest *finished* run that started this day.
    `running_starts`: runs that started this day and are still in progress now.
    """

    day: date
    first_success_end: datetime | None = None
    last_start: datetime | None = None
    last_end: datetime | None = None
    last_result: str | None = None
    running_starts: tuple[datetime, ...] = ()
    success_ends: tuple[datetime, ...] = ()


class SlaReason(StrEnum):
    """Why the state is what it is; the SlaStatus fields named here carry the details."""

    NO_SLA_TODAY = "no_sla_today"  # the rule does not apply on this day
    SUCCEEDED = "succeeded"  # succeeded_at (late_by when after the deadline)
    NO_SUCCESS = "no_success"  # the deadline passed without a success
    RUNNING = "running"  # running_since; p90 and expected_finish when there is history
    NOT_RUNNING = "not_running"  # a run started now would end past the deadline (p90)
    NOT_STARTED = "not_started"  # nothing yet, with time to spare
    RUNNING_FOR = "running_for"  # max_duration: elapsed vs limit; p90 when it makes it at risk
    NO_FINISHED_RUN = "no_finished_run"  # max_duration: nothing to judge this day
    TOOK = "took"  # max_duration: took vs limit, last_result of that run
    NO_SUCCESS_ON_RECORD = "no_success_on_record"  # freshness: never succeeded
    LAST_SUCCESS = "last_success"  # freshness: last_success and every


@dataclass(frozen=True)
class SlaStatus:
    """An SLA's state on one day and the facts behind it. Instants are UTC."""

    state: SlaState
    reason: SlaReason
    day: date
    deadline: datetime | None = None
    late_by: timedelta | None = None
    expected_finish: datetime | None = None
    succeeded_at: datetime | None = None
    # A deadline rule: the result of the day's latest finished run when it did not succeed.
    # A max_duration rule (TOOK): the result of the run it judged.
    last_result: str | None = None
    running_since: datetime | None = None
    p90: timedelta | None = None  # set when the reason rests on the usual duration
    elapsed: timedelta | None = None
    took: timedelta | None = None
    limit: timedelta | None = None
    last_success: datetime | None = None
    every: timedelta | None = None


def evaluate(
    spec: SlaSpec,
    history: Sequence[DayRuns],
    p90_seconds: float | None,
    now: datetime,
    day: date | None = None,
) -> SlaStatus:
    """The SLA's state for local `day` (default: today in the SLA's tz) as seen at `now`."""
    now = as_utc(now)
    zone = ZoneInfo(spec.tz)
    day = day or now.astimezone(zone).date()
    if day.weekday() not in spec.days:
        return SlaStatus(SlaState.NOT_APPLICABLE, SlaReason.NO_SLA_TODAY, day)
    p90 = timedelta(seconds=p90_seconds) if p90_seconds is not None else None
    ctx = _Ctx(spec, zone, {d.day: d for d in history}, history, p90, now, day)
    if spec.kind == "deadline":
        return _deadline(ctx)
    if spec.kind == "max_duration":
        return _max_duration(ctx)
    return _freshness(ctx)


def last_days(
    spec: SlaSpec,
    history: Sequence[DayRuns],
    p90_seconds: float | None,
    now: datetime,
    n: int = 7,
) -> list[bool | None]:
    """✓/✗ for the last `n` local days, oldest first, today last.

    True = met on time, False = missed (breached or met late), None = not judged (no SLA
    that day, no run to judge, or today still pending / at risk).
    """
    today = as_utc(now).astimezone(ZoneInfo(spec.tz)).date()
    out: list[bool | None] = []
    for back in range(n - 1, -1, -1):
        day = today - timedelta(days=back)
        if spec.kind == "freshness" and back > 0 and day.weekday() in spec.days:
            out.append(_fresh_through_day(spec, history, day, now))
            continue
        state = evaluate(spec, history, p90_seconds, now, day).state
        out.append(_VERDICT.get(state))
    return out


_VERDICT = {
    SlaState.MET: True,
    SlaState.MET_LATE: False,
    SlaState.BREACHED: False,
}


@dataclass(frozen=True)
class _Ctx:
    spec: SlaSpec
    zone: ZoneInfo
    by_day: dict[date, DayRuns]
    history: Sequence[DayRuns]
    p90: timedelta | None
    now: datetime
    day: date

    def running(self) -> list[datetime]:
        return sorted(as_utc(s) for d in self.history for s in d.running_starts)

    def successes(self) -> list[datetime]:
        ends = {as_utc(s) for d in self.history for s in d.success_ends}
        ends |= {as_utc(d.first_success_end) for d in self.history if d.first_success_end}
        return sorted(s for s in ends if s <= self.now)


def _deadline(c: _Ctx) -> SlaStatus:
    assert c.spec.deadline is not None
    deadline = as_utc(datetime.combine(c.day, c.spec.deadline, tzinfo=c.zone))
    runs = c.by_day.get(c.day)
    success = as_utc(runs.first_success_end) if runs and runs.first_success_end else None
    if success is not None and success <= c.now:
        if success <= deadline:
            return SlaStatus(
                SlaState.MET, SlaReason.SUCCEEDED, c.day, deadline, succeeded_at=success
            )
        return SlaStatus(
            SlaState.MET_LATE,
            SlaReason.SUCCEEDED,
            c.day,
            deadline,
            late_by=success - deadline,
            succeeded_at=success,
        )
    failed = runs.last_result if runs and runs.last_result != "SUCCEEDED" else None
    if c.now >= deadline:
        return SlaStatus(
            SlaState.BREACHED,
            SlaReason.NO_SUCCESS,
            c.day,
            deadline,
            late_by=c.now - deadline,
            last_result=failed,
        )
    return _before(c, deadline, failed)


def _before(c: _Ctx, deadline: datetime, failed: str | None) -> SlaStatus:
    """Before a deadline without a success: pending or at risk, from the p90 duration."""
    running = c.running()
    if running:
        start = running[0]
        if c.p90 is None:
            return SlaStatus(
                SlaState.PENDING,
                SlaReason.RUNNING,
                c.day,
                deadline,
                last_result=failed,
                running_since=start,
            )
        expected = start + c.p90
        return SlaStatus(
            SlaState.AT_RISK if expected > deadline else SlaState.PENDING,
            SlaReason.RUNNING,
            c.day,
            deadline,
            expected_finish=expected,
            last_result=failed,
            running_since=start,
            p90=c.p90,
        )
    if c.p90 is not None and c.now + c.p90 > deadline:
        return SlaStatus(
            SlaState.AT_RISK,
            SlaReason.NOT_RUNNING,
            c.day,
            deadline,
            expected_finish=c.now + c.p90,
            last_result=failed,
            p90=c.p90,
        )
    return SlaStatus(SlaState.PENDING, SlaReason.NOT_STARTED, c.day, deadline, last_result=failed)


def _max_duration(c: _Ctx) -> SlaStatus:
    assert c.spec.max_minutes is not None
    limit = timedelta(minutes=c.spec.max_minutes)
    today = c.now.astimezone(c.zone).date()
    running = c.running() if c.day == today else []
    if running:
        start = running[0]
        deadline = start + limit
        elapsed = c.now - start
        if c.now >= deadline:
            return SlaStatus(
                SlaState.BREACHED,
                SlaReason.RUNNING_FOR,
                c.day,
                deadline,
                late_by=c.now - deadline,
                running_since=start,
                elapsed=elapsed,
                limit=limit,
            )
        if c.p90 is not None and start + c.p90 > deadline:
            return SlaStatus(
                SlaState.AT_RISK,
                SlaReason.RUNNING_FOR,
                c.day,
                deadline,
                expected_finish=start + c.p90,
                running_since=start,
                p90=c.p90,
                elapsed=elapsed,
                limit=limit,
            )
        return SlaStatus(
            SlaState.PENDING,
            SlaReason.RUNNING_FOR,
            c.day,
            deadline,
            running_since=start,
            elapsed=elapsed,
            limit=limit,
        )
    runs = c.by_day.get(c.day)
    if not runs or runs.last_start is None or runs.last_end is None:
        state = SlaState.PENDING if c.day == today else SlaState.NOT_APPLICABLE
        return SlaStatus(state, SlaReason.NO_FINISHED_RUN, c.day)
    start, end = as_utc(runs.last_start), as_utc(runs.last_end)
    took, deadline = end - start, start + limit
    if took <= limit:
        state = SlaState.MET
    elif runs.last_result == "SUCCEEDED":
        state = SlaState.MET_LATE
    else:
        state = SlaState.BREACHED
    return SlaStatus(
        state,
        SlaReason.TOOK,
        c.day,
        deadline,
        late_by=took - limit if took > limit else None,
        last_result=runs.last_result,
        took=took,
        limit=limit,
    )


def _freshness(c: _Ctx) -> SlaStatus:
    assert c.spec.every_hours is not None
    every = timedelta(hours=c.spec.every_hours)
    successes = c.successes()
    if not successes:
        return SlaStatus(SlaState.BREACHED, SlaReason.NO_SUCCESS_ON_RECORD, c.day)
    last = successes[-1]
    deadline = last + every
    if c.now >= deadline:
        return SlaStatus(
            SlaState.BREACHED,
            SlaReason.LAST_SUCCESS,
            c.day,
            deadline,
            late_by=c.now - deadline,
            last_success=last,
            every=every,
        )
    status = _before(c, deadline, None)
    if status.state is SlaState.AT_RISK:
        return status
    return SlaStatus(
        SlaState.MET, SlaReason.LAST_SUCCESS, c.day, deadline, last_success=last, every=every
    )


def _fresh_through_day(
    spec: SlaSpec, history: Sequence[DayRuns], day: date, now: datetime
) -> bool | None:
    """Whether no gap longer than `every_hours` between successes touched local `day`."""
    assert spec.every_hours is not None
    zone = ZoneInfo(spec.tz)
    every = timedelta(hours=spec.every_hours)
    start = as_utc(datetime.combine(day, time(0), tzinfo=zone))
    end = min(as_utc(datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)), as_utc(now))
    ends = sorted(
        {as_utc(s) for d in history for s in d.success_ends}
        | {as_utc(d.first_success_end) for d in history if d.first_success_end}
    )
    before = [s for s in ends if s <= start]
    last = before[-1] if before else None
    for success in (s for s in ends if start < s < end):
        if last is not None and last + every < success:
            return False
        last = success
    if last is None:
        return None
    return not last + every < end
