"""The use case "a run ended": decide what an ended run means (a failure opens or bumps the
job's incident, a success resolves it), claim it in the store, and queue the messages in the
outbox for the notifier. The runs come from each workspace's Jobs API through the run feed
(alert_feed.py) and from the system tables (alert_tables.py, also the reconcile); the alert's
facts are gathered by alert_facts.py, its cost filled in once billed by alert_costs.py.
FailureAlerts composes them and is the one face the wiring and the buttons see.

Exactly once, end to end: the store counts each failed run once (`incident_runs`), every
message has a dedupe key derived from the incident and the run, and the feed's watermark is
saved only after the runs it reported were handled. A crash anywhere makes the next poll
report the same runs again, which then change nothing in the store and enqueue nothing new.

Notifications: the first failure posts the alert (mentioning the owner); a further failure
updates that message and adds a thread line (no mention); an acknowledged incident still
updates and threads but pings nobody; a snoozed one only updates its message — except for the
outcome of a rerun (a repair, or a run the bot started), which always gets its thread line; a
muted job's incidents are recorded and post nothing. An open incident that has no message and
none on its way (muted when it opened, or its post failed for good) is posted afresh, as it
stands, by its next failure; its resolution alone posts nothing. Cancelled and skipped runs
alert only when `monitoring.alert_on_states` lists them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from bot import actions
from bot.clock import Clock
from bot.config import Config
from bot.models import (
    FAILED_STATES,
    ApiRun,
    JobInfo,
    JobKey,
    JobsApiError,
    RunCost,
    TaskError,
)
from bot.render import Renderer
from bot.render.mrkdwn import link
from bot.service.alert_costs import CostBackfill
from bot.service.alert_facts import DirectoryPort, RunFacts
from bot.service.alert_feed import FeedPoller, PollOutcome
from bot.service.alert_tables import EndedRunsPort, TablePath
from bot.service.alert_view import failure_alert, recovered_phrase
from bot.store.records import Incident, IncidentKey, IncidentKind, OutboxKind

log = logging.getLogger(__name__)

RESOLVING_STATES = frozenset({"SUCCEEDED"})


class JobsApiPort(Protocol):
    def list_runs(
        self, workspace_id: str, *, started_from: datetime | None = None, active_only: bool = False
    ) -> list[ApiRun]: ...

    def get_run(
        self, workspace_id: str, run_id: str, *, include_history: bool = True
    ) -> ApiRun: ...

    def get_task_error(self, workspace_id: str, task_run_id: str) -> TaskError: ...

    def get_job(self, workspace_id: str, job_id: str) -> JobInfo: ...


class RouterPort(Protocol):
    """bot.service.rollup.Rollup by shape: True when it took the first post (a roll-up)."""

    def route(self, channel: str, incident: Incident, message: dict[str, Any]) -> bool: ...


class StorePort(Protocol):
    """bot.store.Store by shape: the parts this use case touches."""

    incidents: Any
    outbox: Any
    watermarks: Any
    mutes: Any


class FailureAlerts:
    """Turns ended runs (polled from the Jobs API and the system tables) into incident
    messages in the outbox."""

    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        renderer: Renderer,
        store: StorePort,
        jobs_api: JobsApiPort | None,
        directory: DirectoryPort | None = None,
        p90_seconds: Callable[[JobKey], float | None] | None = None,
        on_enqueue: Callable[[], None] | None = None,
        ended_runs: EndedRunsPort | None = None,
        run_cost: Callable[[str, str], RunCost] | None = None,
        router: RouterPort | None = None,
    ) -> None:
        self.config = config
        # The roll-up (bot.service.rollup.Rollup): decides whether a first post goes alone.
        self.router = router
        self.clock = clock
        self.renderer = renderer
        self.store = store
        self.jobs_api = jobs_api
        self.directory = directory
        self._poke = on_enqueue or (lambda: None)
        self.facts = RunFacts(
            config=config,
            clock=clock,
            store=store,
            jobs_api=jobs_api,
            directory=directory,
            p90_seconds=p90_seconds,
        )
        self.feed = FeedPoller(
            config=config, clock=clock, store=store, jobs_api=jobs_api, handle=self.handle_ended
        )
        self.tables = TablePath(
            config=config, clock=clock, ended_runs=ended_runs, handle=self.handle_ended
        )
        self.costs = CostBackfill(
            clock=clock, store=store, run_cost=run_cost, enqueue_update=self.enqueue_update
        )
        # Other incident kinds draw their own messages (SLA, missed run, cost anomaly): a
        # button click re-renders any incident through `render`, which asks them.
        self.renderers: dict[str, Callable[[Incident], dict[str, Any]]] = {}

    # -- the sources of ended runs (each its own module) ---------------------------------

    def watch(self, workspace_id: str, run_id: str) -> None:
        """Follow a run the bot just repaired, until a poll sees it end (alert_feed.py)."""
        self.feed.watch(workspace_id, run_id)

    def poll(self, workspace_id: str) -> PollOutcome:
        """One poll of one workspace's run feed (alert_feed.py). Raises nothing."""
        return self.feed.poll(workspace_id)

    def poll_tables(self) -> PollOutcome:
        """The system-table path and the reconcile (alert_tables.py)."""
        return self.tables.poll()

    def backfill_costs(self, limit: int = 50) -> int:
        """Each failure's run cost, once billed (alert_costs.py). Returns how many were filled."""
        return self.costs.backfill(limit)

    # -- one ended run -------------------------------------------------------------------

    def handle_ended(
        self,
        run: ApiRun,
        *,
        late: bool = False,
        job: JobInfo | None = None,
        via: str = "tables",
        rerun: bool = False,
    ) -> str | None:
        """What an ended run means: 'alert', 'resolved', or None (nothing to say). `job`
        given (the system-table path) spares the Jobs API calls. `late`: found well after
        it ended, `via` the system tables or the Jobs API catching up. `rerun`: a run the
        bot was asked to rerun (its outcome is news even while the incident is snoozed)."""
        if run.job_id is None:
            return None  # one-time submitted runs belong to no job to alert about
        alerting = FAILED_STATES | set(self.config.monitoring.alert_on_states)
        if run.state.state in alerting:
            self._failed(run, late=late, job=job, via=via, rerun=rerun)
            return "alert"
        if run.state.state in RESOLVING_STATES:
            return "resolved" if self._succeeded(run, job) else None
        # Cancelled and skipped runs (unless alert_on_states lists them) neither alert nor
        # resolve.
        return None

    def _failed(
        self, run: ApiRun, *, late: bool, job: JobInfo | None, via: str, rerun: bool = False
    ) -> None:
        assert run.job_id is not None
        ws = run.workspace_id
        job = job if job is not None else self.facts.job(ws, run.job_id)
        full = run
        if not run.tasks_complete and self.jobs_api is not None:
            full = self.jobs_api.get_run(ws, run.run_id)
        elif via == "tables" and late and self.jobs_api is not None:
            # The reconcile found a failure the API path missed: the API (back now) has its
            # task errors, which the tables lack. If it still does not answer, the tables'
            # termination code has to do: a late alert beats none.
            try:
                full = self.jobs_api.get_run(ws, run.run_id)
            except JobsApiError as e:
                log.info("run %s of workspace %s: no task errors (%s)", run.run_id, ws, e)
        detail = self.facts.detail(full, job, late=late)
        if late:
            detail["late_via"] = via
        key = IncidentKey(ws, run.job_id, IncidentKind.FAILURE)
        at = full.end_time or self.clock.now()
        first_error = next((t["error"] for t in detail["tasks"] if t.get("error")), None)
        # A repaired run that fails again is a new failure of the same run: count it by repair.
        counted = (
            run.run_id
            if full.latest_repair_id is None
            else (f"{run.run_id}/repair/{full.latest_repair_id}")
        )
        outcome = self.store.incidents.open_or_bump_failure(
            key,
            counted,
            at,
            first_error or detail.get("message"),
            job_name=detail["job_name"],
            detail=detail,
        )
        incident: Incident = outcome.incident
        if late and via == "tables" and not outcome.is_new_run:
            return  # the Jobs API path counted (and announced) this run already
        if outcome.is_new_run and not outcome.created:
            incident = self.store.incidents.set_detail(incident.id, detail) or incident
        mute = self.store.mutes.active_mute(JobKey(ws, run.job_id))
        if mute is not None:
            return  # recorded, not posted: the job is muted
        channel = self._channel(job, ws, run.job_id, detail["job_name"])
        first = incident.streak == 1 and incident.last_run_id == counted
        rerun = rerun or full.latest_repair_id is not None
        self._enqueue_alert(incident, channel, counted, first=first, rerun=rerun)

    def _succeeded(self, run: ApiRun, job: JobInfo | None = None) -> bool:
        assert run.job_id is not None
        key = IncidentKey(run.workspace_id, run.job_id, IncidentKind.FAILURE)
        at = run.end_time or self.clock.now()
        resolved = self.store.incidents.resolve(key, at, run.run_id)
        if resolved is None:
            return False
        if not self._has_message(resolved):
            # Never posted (muted when it failed, or its post failed for good): the
            # resolution is recorded and says nothing, rather than queue an edit of a message
            # that does not exist.
            return True
        channel = resolved.channel or self._channel(
            job or self.facts.job(run.workspace_id, run.job_id), run.workspace_id, run.job_id, None
        )
        # The message is edited in place even while the job is muted (an edit pings nobody,
        # and it takes away buttons that no longer apply); the thread line is news, so a
        # muted job does not get one.
        self.enqueue_update(resolved, channel, f"resolved:{run.run_id}")
        if self.store.mutes.active_mute(JobKey(run.workspace_id, run.job_id)) is not None:
            return True
        line = f"✅ Recovered {self._when(at)}, {recovered_phrase(resolved)}."
        self.enqueue_thread(resolved, channel, f"resolved:{run.run_id}", line)
        return True

    # -- messages ------------------------------------------------------------------------

    def render(self, incident: Incident) -> dict[str, Any]:
        """The incident's message as it stands now (post or update)."""
        other = self.renderers.get(str(incident.kind))
        if other is not None:
            return other(incident)
        mute = self.store.mutes.active_mute(JobKey(incident.workspace_id, incident.job_id))
        view = failure_alert(
            incident, now=self.clock.now(), currency=self.config.cost.currency, mute=mute
        )
        return self.renderer.render("alert_failure.json.j2", a=view, ids=actions.TEMPLATE_IDS)

    def _enqueue_alert(
        self, incident: Incident, channel: str, run_id: str, *, first: bool, rerun: bool = False
    ) -> None:
        post = f"incident:{incident.id}:post"
        if first:
            self._post(incident, channel, post)
            return
        if not self._has_message(incident):
            # Open, but without a message and none on its way: muted when it opened (and
            # unmuted since), or its post failed for good. Post it now, as it stands (its
            # streak, this run), on its own (not into a roll-up: it is no part of a burst);
            # updates still waiting for the old post are given up.
            if self.store.outbox.find(post) is not None:
                self.store.outbox.give_up_orphans(incident_id=incident.id)
                post = f"incident:{incident.id}:run:{run_id}:post"
            self._post(incident, channel, post, alone=True)
            return
        self.enqueue_update(incident, channel, f"run:{run_id}")
        if incident.snoozed_at(self.clock.now()) and not rerun:
            # Snoozed: the message stays current, the thread stays quiet. A rerun someone
            # asked for is different: its outcome always goes to the thread.
            return
        d = incident.detail or {}
        error = next((t.get("error") for t in d.get("tasks") or () if t.get("error")), None)
        label = link(d.get("run_url"), f"run {run_id.split('/')[0]}")
        if rerun:
            line = f"🔴 Rerun failed: {label} ({incident.streak} in a row)"
        else:
            line = f"🔴 Failed again: {label} ({incident.streak} in a row)"
        quote = _one_line(error, 300) if error else None
        self.enqueue_thread(incident, channel, f"run:{run_id}", line, quote)

    def _post(self, incident: Incident, channel: str, key: str, *, alone: bool = False) -> None:
        message = self.render(incident)
        routed = not alone and self.router is not None
        if routed and self.router is not None and self.router.route(channel, incident, message):
            return  # in the channel's roll-up: its thread carries this alert
        self.store.outbox.enqueue(
            dedupe_key=key,
            channel=channel,
            kind=OutboxKind.POST,
            payload=message,
            incident_id=incident.id,
        )
        self._poke()

    def _has_message(self, incident: Incident) -> bool:
        """Whether the incident has its Slack message, or one is on its way (a post in the
        outbox, its entry in a roll-up's thread): what an update or thread line needs."""
        if incident.message_ts is not None:
            return True
        fresh = self.store.incidents.get(incident.id)
        if fresh is not None and fresh.message_ts is not None:
            return True
        return bool(self.store.outbox.post_coming(incident.id))

    def enqueue_update(self, incident: Incident, channel: str, why: str) -> None:
        if not self._has_message(incident):
            log.info("incident %s has no message to update (%s): nothing queued", incident.id, why)
            return
        self.store.outbox.enqueue(
            dedupe_key=f"incident:{incident.id}:update:{why}",
            channel=channel,
            kind=OutboxKind.UPDATE,
            payload=self.render(incident),
            incident_id=incident.id,
        )
        self._poke()

    def enqueue_thread(
        self, incident: Incident, channel: str, why: str, line: str, quote: str | None = None
    ) -> None:
        if not self._has_message(incident):
            log.info(
                "incident %s has no message to reply to (%s): nothing queued", incident.id, why
            )
            return
        message = self.renderer.render("alert_thread.json.j2", line=line, quote=quote)
        self.store.outbox.enqueue(
            dedupe_key=f"incident:{incident.id}:thread:{why}",
            channel=channel,
            kind=OutboxKind.THREAD_REPLY,
            payload=message,
            incident_id=incident.id,
        )
        self._poke()

    # -- routing and phrasing ------------------------------------------------------------

    def _channel(
        self, job: JobInfo | None, workspace_id: str, job_id: str, name: str | None
    ) -> str:
        return self.config.route_channel(
            (job.name if job else None) or name, workspace_id, job_id, job.tags if job else {}
        )

    def _when(self, at: datetime) -> str:
        stamp = int(at.timestamp())
        return f"<!date^{stamp}^at {{time}}|at {at:%H:%M} UTC>"


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
