"""The use case "Rerun failed tasks": check who may, repair the failed run (or start a new run
where a repair is impossible), say so in the alert's thread, and follow the run so its
outcome is posted when it ends.

Two clicks make one repair: before anything is asked of Databricks the click claims
`rerun:<workspace>:<run>:<latest repair>` in the store's leases (an INSERT that only one
caller wins); the loser is told who is already on it. A call Databricks answered with an
error gives the claim back, so nothing is left half-done and the next click tries again. A
new run carries an idempotency token derived from the incident and the run, so even a claim
lost to a crash cannot start two.

A call that got no answer (JobsApiUnavailable: a timeout) may have started the repair all
the same: rerun_unsure.py tells the person so, marks the run "unsure", and the next click
settles that mark from the run's repair history before anything else. Should the lost request
still land after that check, Databricks keeps repairs sequential (`latest_repair_id`; a run
being repaired refuses another), so one of the two is refused rather than both run.

Where the outcome goes: a rerun from an alert (or from a `/jobs failing` row whose job has an
open alert) gets "🔁 Rerun started by @ana → run" and, when the repair ends, its outcome in
the alert's thread — the channel sees who did what. A `/jobs failing` rerun of a job with no
open alert has no thread to speak in, and the list it came from was the clicker's own
ephemeral: the clicker is told at once (ephemeral), and when the run ends the outcome comes to
them as a direct message from the bot (rerun_follow.py, checked by `follow_outcomes`); a
repair that fails also opens an alert in the job's channel as any failure does.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot import actions
from bot.clock import Clock
from bot.config import Config
from bot.models import (
    ApiRun,
    JobAccess,
    JobsApiError,
    JobsApiRefused,
    JobsApiUnavailable,
    RepairStarted,
    RunNotFound,
    RunStarted,
)
from bot.render.mrkdwn import escape, link, user_mention
from bot.service.clicks import (
    AlertsPort,
    Click,
    Replies,
    Reply,
    StorePort,
    read_incident,
    read_value,
    reject,
    resolved_line,
)
from bot.service.permissions import Gatekeeper, Person
from bot.service.rerun_follow import FollowedReruns
from bot.service.rerun_target import RerunTarget, audit_rerun
from bot.service.rerun_unsure import LostAnswers, Unsure
from bot.store.records import Incident, IncidentKey, IncidentKind

log = logging.getLogger(__name__)

# A claim only has to outlast the moment Databricks shows the repair as running (from then on
# the run itself refuses a second repair); an hour covers a slow API many times over.
CLAIM_TTL = timedelta(hours=1)
# Refusals of runs/repair that mean "this run cannot be repaired" rather than "not now": the
# job's tasks changed since (a task key the run has is gone), or the run is too old to keep.
_SHAPE_HINTS = ("not part of", "no longer", "does not exist in the job", "changed", "too old")


class RerunPort(Protocol):
    """bot.jobs_api.JobsApi by shape."""

    def get_run(
        self, workspace_id: str, run_id: str, *, include_history: bool = True,
        interactive: bool = False,
    ) -> ApiRun: ...  # fmt: skip

    def repair_failed_tasks(self, workspace_id: str, run_id: str) -> RepairStarted: ...

    def run_now(self, workspace_id: str, job_id: str, *, idempotency_token: str) -> RunStarted: ...

    def job_access(self, workspace_id: str, job_id: str, email: str) -> JobAccess: ...


@dataclass(frozen=True)
class _Started:
    kind: str  # "repair" | "new_run"
    run_id: str
    url: str | None
    why_new: str
    repair_id: str | None = None


class Reruns:
    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        store: StorePort,
        alerts: AlertsPort,
        jobs_api: RerunPort | None,
        gate: Gatekeeper,
        replies: Replies,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.alerts = alerts
        self.api = jobs_api
        self.gate = gate
        self.replies = replies
        self.follows = FollowedReruns(clock=clock, store=store, api=jobs_api, replies=replies)
        self.lost = LostAnswers(
            config=config,
            store=store,
            alerts=alerts,
            replies=replies,
            failed=self._failed,
            ttl=CLAIM_TTL,
        )

    def rerun(self, click: Click) -> Reply | None:
        target = self._target(click)
        who = self.gate.person(click.user_id)
        if target.resolved:
            assert target.incident is not None
            self._audit("resolved", who, target)
            return self.replies.say(
                resolved_line(target.incident, self.config.timezone)
                + " There is nothing left to rerun.",
                "✅",
            )
        decision = self.gate.check_rerun(
            self.config.permissions.rerun, who, target.workspace_id, target.job_id
        )
        if decision.error is not None:
            # Databricks did not answer the permission check: the click failed, it was not
            # refused, and the channel hears of it like any other failed rerun.
            return self._failed(who, target, decision.error, "checking permission in Databricks")
        if not decision.allowed:
            self._audit("refused", who, target, {"via": decision.via})
            return self.replies.say(decision.why or "You are not allowed to rerun this job.", "🚫")
        if self.api is None:
            self._audit("failed", who, target, {"why": "no Jobs API"})
            return self.replies.say(
                "Reruns need the Jobs API of this workspace, which is not set up. Open the "
                "run in Databricks to repair it.",
                "⚠️",
            )
        try:
            run: ApiRun | None = self.api.get_run(
                target.workspace_id, target.run_id, interactive=True
            )
        except RunNotFound:
            run = None  # removed (runs are kept 60 days): a new run is the only rerun left
        except JobsApiError as e:
            return self._failed(who, target, e)
        if run is not None and run.job_id != target.job_id:
            reject(
                self.store.audit,
                click,
                lambda _: who.email,
                workspace_id=target.workspace_id,
                job_id=target.job_id,
                run_id=target.run_id,
                detail={"why": f"run belongs to job {run.job_id}", "value": click.value},
            )
            return self.replies.say(
                "This button's run does not belong to its job, so nothing was done.", "⚠️"
            )
        if run is not None and run.in_progress:
            self._audit("already_running", who, target)
            return self.replies.say(
                f"Run {escape(target.run_id)} is running right now (being repaired or "
                "retried), so there is nothing to rerun yet. Its outcome is posted in the "
                "alert's thread when it ends.",
                "⏳",
            )
        generation = (run.latest_repair_id or "original") if run is not None else "gone"
        if run is not None:
            settled = self.lost.settle(who, target, run, generation)
            if settled is not None:
                return settled
        claim = f"rerun:{target.workspace_id}:{target.run_id}:{generation}"
        holder = f"{who.user_id}#{uuid.uuid4().hex[:12]}"
        if not self.store.leases.acquire(claim, holder, CLAIM_TTL):
            first = (self.store.leases.holder(claim) or "").split("#")[0]
            self._audit("duplicate", who, target, {"claimed_by": first})
            if first == who.user_id:
                return self.replies.say("Your rerun of this run is already under way.", "🔁")
            return self.replies.say(
                f"{user_mention(first) if first else 'Someone'} already started a rerun of "
                f"run {escape(target.run_id)}; its outcome is posted in the alert's thread.",
                "🔁",
            )
        try:
            started = self._start(target, run)
        except Unsure as e:
            return self.lost.unsure(who, target, run, generation, claim, holder, e)
        except JobsApiRefused as e:
            self.store.leases.release(claim, holder)
            if e.code == "INVALID_STATE" or "in progress" in e.reason:
                self._audit("already_running", who, target, {"why": e.reason})
                return self.replies.say(
                    f"Run {escape(target.run_id)} is already being repaired; its outcome is "
                    "posted in the alert's thread when it ends.",
                    "⏳",
                )
            return self._failed(who, target, e)
        except JobsApiError as e:
            self.store.leases.release(claim, holder)
            return self._failed(who, target, e)
        self.alerts.watch(target.workspace_id, started.run_id)
        label = link(started.url, f"run {started.run_id}")
        how = (
            "repairing its failed tasks"
            if started.kind == "repair"
            else f"as a new run ({started.why_new})"
        )
        line = f"🔁 Rerun started by {user_mention(who.user_id)} → {label}, {how}"
        reply = None
        incident = target.thread
        if incident is not None:
            assert incident.channel is not None
            self.alerts.enqueue_thread(incident, incident.channel, f"rerun:{claim}", line)
        else:
            # No alert to thread under (a /jobs failing row): tell the person who clicked
            # now, and by DM when it ends.
            self.follows.follow(
                user_id=who.user_id,
                workspace_id=target.workspace_id,
                job_id=target.job_id,
                run_id=started.run_id,
                kind=started.kind,
                repair_id=started.repair_id,
                run_name=run.run_name if run is not None else None,
            )
            reply = self.replies.say(
                line + ". I'll send you its outcome in a direct message when it ends."
            )
        # Last: the click's audit record says everything it did is done.
        detail = {"how": started.kind, "started_run": started.run_id, "via": decision.via}
        self._audit("ok", who, target, detail)
        return reply

    def follow_outcomes(self) -> int:
        """The periodic check of reruns without an alert (rerun_follow.py): each ended one's
        outcome is sent to the person who clicked, once. Returns how many it queued."""
        return self.follows.outcomes()

    # -- steps ---------------------------------------------------------------------------

    def _target(self, click: Click) -> RerunTarget:
        email_of = self.gate.email_for_audit
        value = read_value(click, self.store.audit, actions.JOBS_RERUN, email_of)
        ws, job, run = str(value.workspace_id), str(value.job_id), str(value.run_id)
        incident: Incident | None
        if value.alert_id is not None:
            incident = read_incident(click, value, self.store, email_of)
            return RerunTarget(ws, job, run, incident, resolved=not incident.is_open)
        # A /jobs failing row: the job's open alert, if it has one, gets the thread line.
        incident = self.store.incidents.find_open(IncidentKey(ws, job, IncidentKind.FAILURE))
        return RerunTarget(ws, job, run, incident)

    def _start(self, target: RerunTarget, run: ApiRun | None) -> _Started:
        """Repair the run, or start a new run where that is impossible. Raises Unsure when
        Databricks did not answer the call that may have started it."""
        assert self.api is not None
        why_new = "the run is no longer kept by Databricks"
        if run is not None:
            try:
                repair = self.api.repair_failed_tasks(target.workspace_id, target.run_id)
                return _Started("repair", target.run_id, run.run_page_url, "", repair.repair_id)
            except RunNotFound:
                pass
            except JobsApiUnavailable as e:
                raise Unsure("repair", e) from e
            except JobsApiRefused as e:
                if not _cannot_repair(e):
                    raise
                why_new = "the job changed since this run, so it cannot be repaired"
        token = idempotency_token(
            target.workspace_id, target.job_id, target.run_id, target.incident
        )
        try:
            started = self.api.run_now(target.workspace_id, target.job_id, idempotency_token=token)
        except JobsApiUnavailable as e:
            raise Unsure("new_run", e) from e
        return _Started("new_run", started.run_id, self._run_url(target, started.run_id), why_new)

    def _run_url(self, target: RerunTarget, run_id: str) -> str | None:
        ws = self.config.workspace(target.workspace_id)
        if ws is None:
            return None
        return f"{ws.host.rstrip('/')}/jobs/{target.job_id}/runs/{run_id}"

    def _failed(
        self, who: Person, target: RerunTarget, error: JobsApiError, stage: str | None = None
    ) -> Reply:
        """Databricks said no (or did not answer a call that changes nothing): told to the
        clicker and in the alert's thread, audited as failed; nothing was changed."""
        text = escape(error)
        during = f" ({stage})" if stage else ""
        incident = target.thread
        if incident is not None:
            assert incident.channel is not None
            line = f"⚠️ Rerun by {user_mention(who.user_id)} did not start{during}: {text}"
            why = f"rerun-failed:{uuid.uuid4().hex[:12]}"  # each failed attempt is news
            self.alerts.enqueue_thread(incident, incident.channel, why, line)
        detail: dict[str, Any] = {"error": str(error)[:500]}
        if stage:
            detail["stage"] = stage
        self._audit("failed", who, target, detail)
        return self.replies.say(
            f"The rerun did not start{during}, and nothing was changed: {text}", "⚠️"
        )

    def _audit(
        self, result: str, who: Person, target: RerunTarget, detail: dict[str, Any] | None = None
    ) -> None:
        audit_rerun(self.store, result, who, target, detail)


def _cannot_repair(error: JobsApiRefused) -> bool:
    reason = error.reason.lower()
    return error.code == "INVALID_PARAMETER_VALUE" and any(h in reason for h in _SHAPE_HINTS)


def idempotency_token(
    workspace_id: str, job_id: str, run_id: str, incident: Incident | None
) -> str:
    """The same for every click on the same failed run of the same incident: Databricks then
    returns the first run instead of starting another. At most 64 characters."""
    seed = f"{workspace_id}/{job_id}/{run_id}/{incident.id if incident is not None else '-'}"
    return "jobs-bot-" + hashlib.sha256(seed.encode()).hexdigest()[:40]
