"""The outcomes of reruns that have no alert to thread under (a `/jobs failing` rerun of a job
with no open alert): each such run is kept in the `rerun-follow` watermark, and the periodic
`outcomes` check sends its outcome to the person who clicked, as a direct message from the
bot, once the run has ended (the outbox: retried, deduplicated, still there when they look
later). A followed run that has not ended after FOLLOW_FOR is given up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.models import FAILED_STATES, ApiRun, JobsApiError, RunNotFound
from bot.render.mrkdwn import escape, link
from bot.service.clicks import Replies, StorePort
from bot.store.records import OutboxKind

log = logging.getLogger(__name__)

# Runs without an alert whose outcome goes to the clicker by DM (see the module docstring).
FOLLOW = "rerun-follow"
# A followed run that has not ended after this long is given up (its alert, if it fails,
# still comes through the failure watcher).
FOLLOW_FOR = timedelta(days=2)
_CAS_TRIES = 5


class RunsPort(Protocol):
    """bot.jobs_api.JobsApi by shape: reading the followed run."""

    def get_run(
        self, workspace_id: str, run_id: str, *, include_history: bool = True
    ) -> ApiRun: ...


class FollowedReruns:
    """The reruns followed for their outcome by DM, in the `rerun-follow` watermark."""

    def __init__(
        self, *, clock: Clock, store: StorePort, api: RunsPort | None, replies: Replies
    ) -> None:
        self.clock = clock
        self.store = store
        self.api = api
        self.replies = replies

    def follow(
        self,
        *,
        user_id: str,
        workspace_id: str,
        job_id: str,
        run_id: str,
        kind: str,
        repair_id: str | None,
        run_name: str | None,
    ) -> None:
        """Follow a rerun someone started (`kind` "repair" or "new_run") until it ends."""
        entry = {
            "ws": workspace_id,
            "job": job_id,
            "run": run_id,
            "kind": kind,
            "repair": repair_id,
            "user": user_id,
            "name": run_name,
            "at": self.clock.now().isoformat(),
        }
        key = _follow_key(entry)
        self._update(lambda runs: [*[r for r in runs if _follow_key(r) != key], entry])

    def outcomes(self) -> int:
        """The periodic check of reruns without an alert: each one that has ended gets its
        outcome sent to the person who clicked, once (the outbox's dedupe key names the run
        and the repair), however often this runs and on however many replicas. Returns how
        many outcomes it queued."""
        mark = self.store.watermarks.get(FOLLOW)
        followed = list((mark.value if mark is not None else {}).get("runs") or ())
        if not followed or self.api is None:
            return 0
        now = self.clock.now()
        done: set[str] = set()
        queued = 0
        for entry in followed:
            key = _follow_key(entry)
            try:
                outcome = self._outcome_of(entry)
            except JobsApiError as e:
                log.info("rerun outcome of %s: %s", key, e)
                outcome = None
            if outcome is not None:
                text, icon = outcome
                reply = self.replies.say(text, icon)
                self.store.outbox.enqueue(
                    dedupe_key=f"rerun-outcome:{key}",
                    channel=str(entry["user"]),  # a user id: the bot's DM with them
                    kind=OutboxKind.POST,
                    payload={"text": reply.text, "blocks": reply.blocks},
                )
                queued += 1
                done.add(key)
            elif now - datetime.fromisoformat(str(entry["at"])) > FOLLOW_FOR:
                done.add(key)
        if done:
            self._update(lambda runs: [r for r in runs if _follow_key(r) not in done])
        return queued

    def _update(self, change: Callable[[list[Any]], list[Any]]) -> None:
        for _ in range(_CAS_TRIES):
            mark = self.store.watermarks.get(FOLLOW)
            runs = list((mark.value if mark is not None else {}).get("runs") or ())
            if self.store.watermarks.compare_and_set(FOLLOW, mark, {"runs": change(runs)}):
                return
        log.warning("could not update the followed reruns (store busy); an outcome may be missed")

    def _outcome_of(self, entry: dict[str, Any]) -> tuple[str, str] | None:
        """(the DM's line, its icon) once the followed run has ended, else None."""
        assert self.api is not None
        try:
            run = self.api.get_run(str(entry["ws"]), str(entry["run"]), include_history=True)
        except RunNotFound:
            return None
        if run.in_progress:
            return None
        since = datetime.fromisoformat(str(entry["at"]))
        if entry.get("repair") is not None and (
            run.latest_repair_id != str(entry["repair"])
            or (run.end_time is not None and run.end_time < since)
        ):
            return None  # still shows the attempt before the repair (runs/get lags a repair)
        name = escape(entry.get("name")) or f"job {escape(entry['job'])}"
        what = "repair" if entry.get("kind") == "repair" else "new run"
        label = link(run.run_page_url, f"run {run.run_id}")
        state = run.state.state
        if state == "SUCCEEDED":
            return f"Your rerun of *{name}* succeeded: {label} ({what}).", "✅"
        if state in FAILED_STATES:
            reason = f": {escape(run.state.message)}" if run.state.message else ""
            return f"Your rerun of *{name}* failed again ({state}{reason}) — {label}.", "🔴"
        return f"Your rerun of *{name}* ended {escape(state)}: {label} ({what}).", "⚪"


def _follow_key(entry: dict[str, Any]) -> str:
    return f"{entry['ws']}:{entry['run']}:{entry.get('repair') or 'run'}"
