"""A rerun whose start got no answer from Databricks (JobsApiUnavailable: a timeout) may have
started all the same. The person is told so, with the run's link to check, the run is watched
(so the outcome is posted if it did start), and the click's claim is replaced by an "unsure"
mark, `rerun-unsure:<workspace>:<run>`, holding the repair generation the lost attempt started
from. The next click settles it from the run's repair history before anything else: a repair
newer than that generation means the lost attempt did start — that is said (in the ephemeral
and the thread) and nothing new is started; no newer repair means it did not, and the click
repairs as usual.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from bot.config import Config
from bot.models import FAILED_STATES, ApiRun, JobsApiError, JobsApiUnavailable
from bot.render.mrkdwn import escape, link, user_mention
from bot.service.clicks import AlertsPort, Replies, Reply, StorePort
from bot.service.permissions import Person
from bot.service.rerun_target import RerunTarget, audit_rerun


class Unsure(Exception):
    """Databricks gave no answer to the call that starts the rerun: it may have started."""

    def __init__(self, kind: str, error: JobsApiError) -> None:
        super().__init__(str(error))
        self.kind = kind
        self.error = error


# The rerun's failure reply: told to the clicker and in the thread, audited (rerun.py).
Failed = Callable[[Person, RerunTarget, JobsApiError], Reply]


class LostAnswers:
    """Marks a rerun whose start got no answer, and settles the mark at the next click."""

    def __init__(
        self,
        *,
        config: Config,
        store: StorePort,
        alerts: AlertsPort,
        replies: Replies,
        failed: Failed,
        ttl: timedelta,
    ) -> None:
        self.config = config
        self.store = store
        self.alerts = alerts
        self.replies = replies
        self._failed = failed
        self._ttl = ttl

    def settle(
        self, who: Person, target: RerunTarget, run: ApiRun, generation: str
    ) -> Reply | None:
        """After a rerun whose start got no answer: did it start? The run (just read, with
        its repair history) says. None: it did not (or there was no such rerun), go on."""
        key = _unsure_key(target)
        mark = self.store.leases.holder(key)
        if mark is None:
            return None
        by, _, rest = mark.partition("#")
        then = rest.partition("#")[0]
        self.store.leases.release(key, mark)
        if then == generation:
            return None  # no repair since: the lost attempt did not start; repair as usual
        repair = run.latest_repair_id
        label = link(run.run_page_url, f"run {target.run_id}")
        state = _state_phrase(run.state.state)
        audit_rerun(
            self.store,
            "started_unseen",
            who,
            target,
            {"repair_id": repair, "timed_out_for": by, "state": run.state.state},
        )
        incident = target.thread
        if incident is not None:
            assert incident.channel is not None
            line = (
                f"🔁 The rerun by {user_mention(by)} whose answer from Databricks was lost did "
                f"start: repair {escape(repair)} of {label}, which {state}."
            )
            self.alerts.enqueue_thread(
                incident, incident.channel, f"rerun-confirmed:{target.run_id}:{repair}", line
            )
        return self.replies.say(
            f"The earlier rerun by {user_mention(by)} did start after all (Databricks' answer "
            f"was lost): repair {escape(repair)} of {label}, which {state}. Nothing new was "
            "started; click Rerun again to repair it once more.",
            "🔁",
        )

    def unsure(
        self,
        who: Person,
        target: RerunTarget,
        run: ApiRun | None,
        generation: str,
        claim: str,
        holder: str,
        e: Unsure,
    ) -> Reply:
        """No answer to the call that starts the rerun: it may or may not have started."""
        error = e.error
        surely_not = isinstance(error, JobsApiUnavailable) and error.reason.startswith("too many")
        if surely_not:  # refused before any request was made
            self.store.leases.release(claim, holder)
            return self._failed(who, target, error)
        if e.kind == "repair" and run is not None:
            # The next click checks the repair history before it repairs (settle); the
            # claim itself is given back so that check can run.
            mark = f"{who.user_id}#{generation}#{uuid.uuid4().hex[:12]}"
            self.store.leases.acquire(_unsure_key(target), mark, self._ttl)
            self.alerts.watch(target.workspace_id, target.run_id)  # its outcome, if it ran
            where = link(run.run_page_url, f"run {target.run_id}")
            check = (
                f"Check {where} in Databricks (its repair history), or click Rerun again: "
                "I look at the run's repair history first and start nothing twice."
            )
        else:
            # A new run carries an idempotency token: a second click gets the same run.
            where = link(self._runs_url(target), "the job's runs")
            check = (
                f"Check {where} in Databricks, or click Rerun again: the new run carries an "
                "idempotency token, so a second click cannot start a second one."
            )
        self.store.leases.release(claim, holder)
        text = escape(error)
        incident = target.thread
        if incident is not None:
            assert incident.channel is not None
            line = (
                f"⚠️ Rerun by {user_mention(who.user_id)}: Databricks did not answer in time, "
                f"so it may or may not have started ({text}). {check}"
            )
            why = f"rerun-unsure:{uuid.uuid4().hex[:12]}"
            self.alerts.enqueue_thread(incident, incident.channel, why, line)
        audit_rerun(self.store, "unknown", who, target, {"error": str(error)[:500], "how": e.kind})
        return self.replies.say(
            f"Databricks did not answer in time, so the rerun may or may not have started "
            f"({text}). {check}",
            "⚠️",
        )

    def _runs_url(self, target: RerunTarget) -> str | None:
        ws = self.config.workspace(target.workspace_id)
        if ws is None:
            return None
        return f"{ws.host.rstrip('/')}/jobs/{target.job_id}/runs"


def _unsure_key(target: RerunTarget) -> str:
    return f"rerun-unsure:{target.workspace_id}:{target.run_id}"


def _state_phrase(state: str) -> str:
    if state == "SUCCEEDED":
        return "has succeeded"
    if state in FAILED_STATES:
        return f"has ended {state}"
    return f"is {escape(state)}"
