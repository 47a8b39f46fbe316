"""Missed runs, pure: did a scheduled job start when its own Quartz schedule said it would?

The decision looks at the most recent fire of the schedule that can already be judged and
asks whether any run started at or after it. When a fire can be judged depends on where the
runs are seen:
- the Jobs API shows a run the moment it starts, so a fire is judged `grace` after it (after
  its second occurrence, in a fall-back overlap);
- the system tables show a run only once its first hourly slice of `job_run_timeline` is
  written — at the end of the clock hour it started in, or when it ends if sooner — and
  then with the table's own write lag. A run that started by fire + grace is therefore
  visible by the end of that clock hour plus the lag, and only then can its absence mean
  anything.

Paused jobs, deleted jobs and jobs without a (parsable) schedule are never missed. A fire
before the job's last settings change is not judged either: the schedule may have been
set or changed after it.

The output is facts (`MissedStatus`); the service phrases and posts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from bot.clock import as_utc
from bot.monitors.quartz import Fire, QuartzError, parse

# How far back a check looks for the fire to judge. A day and a bit: enough to judge the fire
# that fell while the bot was down overnight, small enough to stay cheap per job per check.
LOOKBACK = timedelta(hours=26)
# A run that started this much before the scheduled instant still counts for it (clocks of
# the scheduler and the API are not ours).
SKEW = timedelta(minutes=1)

Source = Literal["api", "tables"]


class MissedState(StrEnum):
    OK = "ok"  # a run started for the fire (started_at)
    MISSED = "missed"  # no run started for the fire by judge_at
    NOT_DUE = "not_due"  # no fire that can be judged yet
    PAUSED = "paused"
    DELETED = "deleted"
    NO_SCHEDULE = "no_schedule"
    BAD_SCHEDULE = "bad_schedule"  # the expression could not be evaluated (problem says why)


@dataclass(frozen=True)
class JobSchedule:
    """What a job's settings say (system.lakeflow.jobs or jobs/get)."""

    quartz_cron: str | None
    timezone: str | None
    paused: bool
    deleted: bool = False
    changed_at: datetime | None = None  # last settings change, when known


@dataclass(frozen=True)
class MissedStatus:
    state: MissedState
    fire: Fire | None = None  # the fire judged
    judge_at: datetime | None = None  # when that fire could first be judged
    started_at: datetime | None = None  # the first run start counted for it
    problem: str | None = None


def judge_time(fire: Fire, grace: timedelta, source: Source, table_lag: timedelta) -> datetime:
    """When absence of a run for `fire` first means something."""
    due = fire.latest + grace
    if source == "api":
        return due
    hour_end = due.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return hour_end + table_lag


def first_start_since(starts: Iterable[datetime], since: datetime) -> datetime | None:
    """The first run start counted for a fire at `since` (a little before it counts too)."""
    counted = [as_utc(s) for s in starts if as_utc(s) >= as_utc(since) - SKEW]
    return min(counted, default=None)


def evaluate(
    job: JobSchedule,
    starts: Iterable[datetime],
    now: datetime,
    *,
    grace: timedelta,
    source: Source,
    table_lag: timedelta = timedelta(0),
) -> MissedStatus:
    """The job's missed-run state at `now`, from the run starts seen (`starts`, any order)."""
    now = as_utc(now)
    if job.deleted:
        return MissedStatus(MissedState.DELETED)
    if not job.quartz_cron:
        return MissedStatus(MissedState.NO_SCHEDULE)
    if job.paused:
        return MissedStatus(MissedState.PAUSED)
    try:
        cron = parse(job.quartz_cron)
        fires = cron.fires(job.timezone or "UTC", now - LOOKBACK, now)
    except (QuartzError, KeyError, ValueError) as e:  # ZoneInfoNotFoundError is a KeyError
        return MissedStatus(MissedState.BAD_SCHEDULE, problem=str(e))
    due = [
        (f, judge_time(f, grace, source, table_lag))
        for f in fires
        if judge_time(f, grace, source, table_lag) <= now
    ]
    if job.changed_at is not None:
        due = [(f, at) for f, at in due if f.earliest >= as_utc(job.changed_at)]
    if not due:
        return MissedStatus(MissedState.NOT_DUE)
    fire, judge_at = due[-1]
    started = first_start_since(starts, fire.earliest)
    if started is not None:
        return MissedStatus(MissedState.OK, fire, judge_at, started)
    return MissedStatus(MissedState.MISSED, fire, judge_at)
