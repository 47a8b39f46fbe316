"""The run feed: which runs of one workspace ended since the last poll, each reported exactly
once, at a cost that grows with the number of new and active runs, never with the number of
jobs.

One poll, in this order:
1. window: runs/list with start_time_from = the lower bound (every state). The server filters
   on start time, so this is O(runs started since the last poll). It finds every run that
   started and ended in between, and every new run still going.
2. active: runs/list active_only. O(active runs). It tells which tracked runs are still going.
3. vanished: a run tracked as active at the last poll that is in neither listing started
   before the lower bound and has probably ended: one runs/get each (O(runs that ended),
   plus runs that runs/list active_only leaves out: BLOCKED, WAITING_FOR_RETRY). A run that
   runs/get no longer knows (deleted) is reported in `gone` and tracked no more.

Why exactly once (given the listing delay and the clock skew stay under `overlap`):
- At least once: a run that starts after the previous poll (less `overlap`) is in this
  poll's window. A run in the window while still active is tracked from then on, and a
  tracked run stays tracked until a poll sees it ended (in the window, or by runs/get once it
  leaves the active listing), so a run spanning any number of polls is found when it ends,
  and it ended after the previous poll less `overlap`.
- At most once: a run is news only if it ended at or after the previous poll less `overlap`
  (what ended earlier was news then); within that overlap a report is keyed by (run id, end
  time), and the watermark keeps just the keys of runs that ended in it. A repaired run ends
  again with a new end time: that is a new report, as it should be (the rerun's outcome).
- Restarts: the watermark (last poll instant, lower bound, tracked runs, recent report keys)
  is a small value the caller stores with what it did with the reported runs; polling again
  from a stored watermark is the same as never having stopped. A failed poll raises and
  leaves the stored watermark as it was.

The lower bound comes from our clock (the poll instant), the run times from the workspace's:
`overlap` must exceed their skew plus the listing delay (default 60 s, costing one poll's
worth of runs listed twice and dropped by the report keys).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from bot.clock import Clock
from bot.models import ApiRun, RunNotFound

_VERSION = 1


class RunSource(Protocol):
    """The two Jobs API calls the feed needs (bot.jobs_api.JobsApi has them)."""

    def list_runs(
        self,
        workspace_id: str,
        *,
        started_from: datetime | None = None,
        active_only: bool = False,
    ) -> list[ApiRun]: ...

    def get_run(
        self, workspace_id: str, run_id: str, *, include_history: bool = True
    ) -> ApiRun: ...


class RequestCount(Protocol):
    @property
    def requests(self) -> int: ...


@runtime_checkable
class CountsRequests(Protocol):
    """A source that can count the HTTP requests its calls make on this thread (JobsApi can):
    a listing of N pages is N requests. Without it a poll counts one per listing or get."""

    def count_requests(self) -> AbstractContextManager[RequestCount]: ...


def _ms(ts: datetime) -> int:
    return round(ts.timestamp() * 1000)


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass(frozen=True)
class FeedWatermark:
    """Where the feed of one workspace stands; times are epoch ms, as the API's."""

    polled_at: int  # our clock at the start of the last poll
    lower_bound: int  # start_time_from of the last poll's window; never decreases
    active: dict[str, int] = field(default_factory=dict)  # run id -> start ms, active then
    # run id -> (start, end) of runs reported that ended within `overlap` of polled_at
    reported: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": _VERSION,
                "polled_at": self.polled_at,
                "lower_bound": self.lower_bound,
                "active": self.active,
                "reported": {k: list(v) for k, v in self.reported.items()},
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> FeedWatermark:
        data = json.loads(text)
        if data.get("v") != _VERSION:
            raise ValueError(f"run feed watermark version {data.get('v')!r} is not {_VERSION}")
        return cls(
            polled_at=int(data["polled_at"]),
            lower_bound=int(data["lower_bound"]),
            active={str(k): int(v) for k, v in data["active"].items()},
            reported={str(k): (int(v[0]), int(v[1])) for k, v in data["reported"].items()},
        )


@dataclass(frozen=True)
class FeedPoll:
    ended: tuple[ApiRun, ...]  # runs that ended since the last poll, oldest end first
    active: tuple[ApiRun, ...]  # runs going now, as last seen in this poll
    watermark: FeedWatermark  # store it together with what was done with `ended`
    # HTTP requests made (every page of a listing), when the source counts them (JobsApi
    # does); else listings and gets made.
    calls: int
    # Tracked or watched runs that no longer exist (runs/get: "does not exist"; deleted, or
    # deleted with their job): nothing to report, ever. They are out of the new watermark; a
    # caller that keeps its own watch list should drop them from it too.
    gone: tuple[str, ...] = ()


class RunFeed:
    """Polls one workspace. `lookback` bounds the first poll without a watermark: runs that
    started and ended before now - lookback are history, not news."""

    def __init__(
        self,
        source: RunSource,
        workspace_id: str,
        clock: Clock,
        *,
        overlap: timedelta = timedelta(seconds=60),
        lookback: timedelta = timedelta(0),
    ) -> None:
        self._source = source
        self._ws = workspace_id
        self._clock = clock
        self._overlap = _ms_delta(overlap)
        self._lookback = _ms_delta(lookback)

    def poll(self, watermark: FeedWatermark | None, *, watch: Iterable[str] = ()) -> FeedPoll:
        """One poll. `watch`: run ids to treat as tracked (e.g. runs the bot has just
        repaired, which may run and end again between two polls). Raises the source's
        errors (JobsApiUnavailable …); then keep the old watermark and poll again later."""
        source = self._source
        counting: AbstractContextManager[RequestCount | None] = (
            source.count_requests() if isinstance(source, CountsRequests) else nullcontext()
        )
        with counting as tally:
            result = self._poll(watermark, watch)
        return result if tally is None else replace(result, calls=tally.requests)

    def _poll(self, watermark: FeedWatermark | None, watch: Iterable[str]) -> FeedPoll:
        now = _ms(self._clock.now())
        if watermark is None:
            lower = min_end = now - self._lookback
            tracked: dict[str, int] = {}
            reported: dict[str, tuple[int, int]] = {}
        else:
            lower = max(watermark.lower_bound, watermark.polled_at - self._overlap)
            # Anything that ended before this was news at an earlier poll (or history).
            min_end = watermark.polled_at - self._overlap
            tracked = dict(watermark.active)
            reported = dict(watermark.reported)
        for run_id in watch:
            tracked.setdefault(str(run_id), lower)
        calls = 0
        gone: list[str] = []
        ended: dict[str, ApiRun] = {}
        going: dict[str, ApiRun] = {}

        def take(run: ApiRun) -> None:
            if run.in_progress:
                going[run.run_id] = run
                return
            going.pop(run.run_id, None)
            key = (_ms_or(run.start_time, lower), _ms_or(run.end_time, now))
            if key[1] < min_end:
                return  # reported at an earlier poll, or history before the first one
            if reported.get(run.run_id, (None, None))[1] == key[1]:
                return  # reported at the last poll: the windows overlap
            reported[run.run_id] = key
            ended[run.run_id] = run

        window = self._source.list_runs(self._ws, started_from=_at(lower))
        calls += 1
        for run in window:
            take(run)
        active = self._source.list_runs(self._ws, active_only=True)
        calls += 1
        for run in active:
            if run.run_id not in ended:  # ended in the window listing, a moment before
                take(run)
        seen = {r.run_id for r in window} | {r.run_id for r in active}
        for run_id in tracked:
            if run_id in seen:
                continue
            calls += 1
            try:
                # With the repair history: a watched run that a repair made fail again is
                # counted per repair, so the incident learns of it.
                take(self._source.get_run(self._ws, run_id, include_history=True))
            except RunNotFound:
                gone.append(run_id)  # deleted (or with its job): nothing to report, ever

        next_min_end = now - self._overlap
        new_mark = FeedWatermark(
            polled_at=now,
            lower_bound=lower,
            active={rid: _ms_or(r.start_time, lower) for rid, r in going.items()},
            # Only ends the next poll can still take for news need remembering.
            reported={rid: key for rid, key in reported.items() if key[1] >= next_min_end},
        )
        order = sorted(ended.values(), key=lambda r: (r.end_time or _at(now), r.run_id))
        return FeedPoll(
            ended=tuple(order),
            active=tuple(sorted(going.values(), key=lambda r: r.run_id)),
            watermark=new_mark,
            calls=calls,
            gone=tuple(gone),
        )


def _ms_or(ts: datetime | None, default: int) -> int:
    return default if ts is None else _ms(ts)


def _ms_delta(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)
