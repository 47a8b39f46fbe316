"""The Jobs API path of the failure alerts: each workspace's run feed (bot.run_feed), polled
from the `run_feed` watermark, each run it reports ended handed to the ended-run handler
(FailureAlerts.handle_ended), and the runs the bot repaired kept watched in that watermark.

The watermark is saved only after the runs it reported were handled: a crash, or a run whose
handling failed, makes the next poll report the same runs again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import Config
from bot.models import ApiRun, JobsApiError
from bot.run_feed import FeedWatermark, RunFeed, RunSource

log = logging.getLogger(__name__)

FEED = "run_feed"  # watermark name
# The first poll of a workspace with no watermark looks back this far, so a bot started
# (or restarted without state) still alerts on what failed just before.
FIRST_LOOKBACK = timedelta(minutes=10)


class HandlerPort(Protocol):
    """FailureAlerts.handle_ended by shape: 'alert', 'resolved' or None."""

    def __call__(self, run: ApiRun, *, late: bool, via: str, rerun: bool) -> str | None: ...


class StorePort(Protocol):
    """bot.store.Store by shape: the feed's watermarks."""

    watermarks: Any


@dataclass
class PollOutcome:
    workspace_id: str
    ended: int = 0
    alerted: int = 0
    resolved: int = 0
    calls: int = 0
    errors: list[str] = field(default_factory=list)


class FeedPoller:
    """Polls each workspace's run feed and hands the runs that ended to `handle`."""

    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        store: StorePort,
        jobs_api: RunSource | None,
        handle: HandlerPort,
    ) -> None:
        self.clock = clock
        self.store = store
        self.jobs_api = jobs_api
        self._handle = handle
        self._feeds: dict[str, RunFeed] = {}
        # A run seen ending more than two polls (at least 3 min) after it ended is late.
        self._late_after = max(
            timedelta(seconds=2 * config.schedules.failure_poll_seconds), timedelta(minutes=3)
        )
        self._lock = threading.Lock()

    def watch(self, workspace_id: str, run_id: str) -> None:
        """Follow a run the bot just repaired: a repair can start and end between two polls,
        and the run's start time (hours ago) keeps it out of the feed's window. Kept in the
        watermark, so a restart keeps watching."""
        self._change_feed_mark(
            workspace_id,
            lambda value: {**value, "watch": sorted({*value.get("watch", ()), str(run_id)})},
        )

    def _change_feed_mark(
        self, workspace_id: str, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        """Read, change and write the workspace's feed watermark as one compare-and-set, tried
        again when another process wrote in between (a click on a standby replica adds a watch
        while the leader's poll advances the feed): neither write is lost."""
        with self._lock:
            for _ in range(20):
                mark = self.store.watermarks.get(FEED, workspace_id)
                value = change(dict(mark.value) if mark is not None else {})
                if self.store.watermarks.compare_and_set(FEED, mark, value, workspace_id):
                    return
            raise RuntimeError(f"feed watermark of workspace {workspace_id}: 20 writers raced")

    def poll(self, workspace_id: str) -> PollOutcome:
        """One poll of one workspace. Raises nothing: a workspace that does not answer is
        logged and polled again next time from the same watermark."""
        out = PollOutcome(workspace_id)
        if self.jobs_api is None:
            return out
        feed = self._feeds.get(workspace_id)
        if feed is None:
            feed = RunFeed(self.jobs_api, workspace_id, self.clock, lookback=FIRST_LOOKBACK)
            self._feeds[workspace_id] = feed
        with self._lock:
            mark = self.store.watermarks.get(FEED, workspace_id)
        value = dict(mark.value) if mark is not None else {}
        watermark = FeedWatermark.from_json(value["feed"]) if value.get("feed") else None
        watched = set(value.get("watch", ()))
        try:
            result = feed.poll(watermark, watch=watched)
        except JobsApiError as e:
            out.errors.append(str(e))
            log.warning("run feed of workspace %s: %s", workspace_id, e)
            return out
        out.calls = result.calls
        late_before = self.clock.now() - self._late_after
        for run in result.ended:
            out.ended += 1
            # A run that ended long before this poll saw it (the workspace's API was down,
            # or the bot was): alerted all the same, and marked late.
            late = run.end_time is not None and run.end_time < late_before
            try:
                kind = self._handle(run, late=late, via="api", rerun=run.run_id in watched)
            except JobsApiError as e:
                # The run stays unreported: keep the old watermark so the next poll retries.
                out.errors.append(str(e))
                log.warning("run %s of workspace %s: %s", run.run_id, workspace_id, e)
                return out
            out.alerted += kind == "alert"
            out.resolved += kind == "resolved"
        # Watched runs stay watched until a poll saw them end (a watch added meanwhile by a
        # click, in this process or another, is kept); runs that ended, and runs Databricks no
        # longer has (deleted), are watched no more.
        done = {r.run_id for r in result.ended} | set(result.gone)
        advanced = result.watermark.to_json()
        self._change_feed_mark(
            workspace_id,
            lambda value: {
                "feed": advanced,
                "watch": sorted((set(value.get("watch", ())) | watched) - done),
            },
        )
        return out
