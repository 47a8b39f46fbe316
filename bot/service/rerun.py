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
the same. The person is told so, with the run's link to check, the run is watched (so the
outcome is posted if it did start), and the claim is replaced by an "unsure" mark,
`rerun-unsure:<workspace>:<run>`, holding the repair generation the lost attempt started
from. The next click reads the run's repair history before anything else: a repair newer
than that generation means the lost attempt did start — that is said (in the ephemeral and
the thread) and nothing new is started; no newer repair means it did not, and the click
repairs as usual. Should the lost request still land after that check, Databricks keeps
repairs sequential (`latest_repair_id`; a run being repaired refuses another), so one of the
two is refused rather than both run.

Where the outcome goes: a rerun from an alert (or from a `/jobs failing` row whose job has an
open alert) gets "🔁 Rerun started by @ana → run" and, when the repair ends, its outcome in
the alert's thread — the channel sees who did what. A `/jobs failing` rerun of a job with no
open alert has no thread to speak in, and the list it came from was the clicker's own
ephemeral: the clicker is told at once (ephemeral), and when the run ends the outcome comes to
them as a direct message from the bot (the outbox: retried, deduplicated, and still there
when they look later, unlike an ephemeral or the click's 30-minute response_url). Those runs
are kept in the `rerun-follow` watermark until `follow_outcomes` (periodic) sees them end; a
repair that fails also opens an alert in the job's channel as any failure does.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot import actions
from bot.clock import Clock
from bot.config import Config
from bot.models import (
    FAILED_STATES,
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
from bot.store.records import Incident, IncidentKey, IncidentKind, OutboxKind

log = logging.getLogger(__name__)

# A claim only has to outlast the moment Databricks shows the repair as running (from then on
# the run itself refuses a second repair); an hour covers a slow API many times over.
CLAIM_TTL = timedelta(hours=1)
# Refusals of runs/repair that mean "this run cannot be repaired" rather than "not now": the
# job's tasks changed since (a task key the run has is gone), or the run is too old to keep.
_SHAPE_HINTS = ("not part of", "no longer", "does not exist in the job", "changed", "too old")
# Runs without an alert whose outcome goes to the clicker by DM (see the module docstring).
FOLLOW = "rerun-follow"
# A followed run that has not ended after this long is given up (its alert, if it fails,
# still comes through the failure watcher).
FOLLOW_FOR = timedelta(days=2)
_CAS_TRIES = 5


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
class _Target:
    workspace_id: str
    job_id: str
    run_id: str
    incident: Incident | None
    # The button is on an alert (not a /jobs failing row) whose incident has resolved.
    resolved: bool = False

    @property
    def thread(self) -> Incident | None:
        """The alert whose thread hears about this rerun, if there is one."""
        incident = self.incident
        return incident if incident is not None and incident.channel is not None else None


@dataclass(frozen=True)
class _Started:
    kind: str  # "repair" | "new_run"
    run_id: str
    url: str | None
    why_new: str
    repair_id: str | None = None


class _Unsure(Exception):
    """Databricks gave no answer to the call that starts the rerun: it may have started."""

    def __init__(self, kind: str, error: JobsApiError) -> None:
        super().__init__(str(error))
        self.kind = kind
        self.error = error


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
            settled = self._settle_unsure(who, target, run, generation)
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
        except _Unsure as e:
            return self._unsure(who, target, run, generation, claim, holder, e)
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
            self._follow(who, target, run, started)
            reply = self.replies.say(
                line + ". I'll send you its outcome in a direct message when it ends."
            )
        # Last: the click's audit record says everything it did is done.
        detail = {"how": started.kind, "started_run": started.run_id, "via": decision.via}
        self._audit("ok", who, target, detail)
        return reply

    def follow_outcomes(self) -> int:
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
            self._update_follows(lambda runs: [r for r in runs if _follow_key(r) not in done])
        return queued

    # -- steps ---------------------------------------------------------------------------

    def _target(self, click: Click) -> _Target:
        email_of = self.gate.email_for_audit
        value = read_value(click, self.store.audit, actions.JOBS_RERUN, email_of)
        ws, job, run = str(value.workspace_id), str(value.job_id), str(value.run_id)
        incident: Incident | None
        if value.alert_id is not None:
            incident = read_incident(click, value, self.store, email_of)
            return _Target(ws, job, run, incident, resolved=not incident.is_open)
        # A /jobs failing row: the job's open alert, if it has one, gets the thread line.
        incident = self.store.incidents.find_open(IncidentKey(ws, job, IncidentKind.FAILURE))
        return _Target(ws, job, run, incident)

    def _start(self, target: _Target, run: ApiRun | None) -> _Started:
        """Repair the run, or start a new run where that is impossible. Raises _Unsure when
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
                raise _Unsure("repair", e) from e
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
            raise _Unsure("new_run", e) from e
        return _Started("new_run", started.run_id, self._run_url(target, started.run_id), why_new)

    def _settle_unsure(
        self, who: Person, target: _Target, run: ApiRun, generation: str
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
        self._audit(
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

    def _unsure(
        self,
        who: Person,
        target: _Target,
        run: ApiRun | None,
        generation: str,
        claim: str,
        holder: str,
        e: _Unsure,
    ) -> Reply:
        """No answer to the call that starts the rerun: it may or may not have started."""
        error = e.error
        surely_not = isinstance(error, JobsApiUnavailable) and error.reason.startswith("too many")
        if surely_not:  # refused before any request was made
            self.store.leases.release(claim, holder)
            return self._failed(who, target, error)
        if e.kind == "repair" and run is not None:
            # The next click checks the repair history before it repairs (_settle_unsure);
            # the claim itself is given back so that check can run.
            mark = f"{who.user_id}#{generation}#{uuid.uuid4().hex[:12]}"
            self.store.leases.acquire(_unsure_key(target), mark, CLAIM_TTL)
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
        self._audit("unknown", who, target, {"error": str(error)[:500], "how": e.kind})
        return self.replies.say(
            f"Databricks did not answer in time, so the rerun may or may not have started "
            f"({text}). {check}",
            "⚠️",
        )

    def _follow(self, who: Person, target: _Target, run: ApiRun | None, started: _Started) -> None:
        entry = {
            "ws": target.workspace_id,
            "job": target.job_id,
            "run": started.run_id,
            "kind": started.kind,
            "repair": started.repair_id,
            "user": who.user_id,
            "name": run.run_name if run is not None else None,
            "at": self.clock.now().isoformat(),
        }
        key = _follow_key(entry)
        self._update_follows(lambda runs: [*[r for r in runs if _follow_key(r) != key], entry])

    def _update_follows(self, change: Any) -> None:
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

    def _run_url(self, target: _Target, run_id: str) -> str | None:
        ws = self.config.workspace(target.workspace_id)
        if ws is None:
            return None
        return f"{ws.host.rstrip('/')}/jobs/{target.job_id}/runs/{run_id}"

    def _runs_url(self, target: _Target) -> str | None:
        ws = self.config.workspace(target.workspace_id)
        if ws is None:
            return None
        return f"{ws.host.rstrip('/')}/jobs/{target.job_id}/runs"

    def _failed(
        self, who: Person, target: _Target, error: JobsApiError, stage: str | None = None
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
        self, result: str, who: Person, target: _Target, detail: dict[str, Any] | None = None
    ) -> None:
        self.store.audit.record(
            "rerun",
            result,
            actor_id=who.user_id,
            actor_email=who.email,
            workspace_id=target.workspace_id,
            job_id=target.job_id,
            run_id=target.run_id,
            incident_id=target.incident.id if target.incident is not None else None,
            detail={
                **(detail or {}),
                "job_name": target.incident.job_name if target.incident is not None else None,
            },
        )


def _unsure_key(target: _Target) -> str:
    return f"rerun-unsure:{target.workspace_id}:{target.run_id}"


def _follow_key(entry: dict[str, Any]) -> str:
    return f"{entry['ws']}:{entry['run']}:{entry.get('repair') or 'run'}"


def _state_phrase(state: str) -> str:
    if state == "SUCCEEDED":
        return "has succeeded"
    if state in FAILED_STATES:
        return f"has ended {state}"
    return f"is {escape(state)}"


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
