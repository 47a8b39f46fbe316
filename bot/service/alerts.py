"""The use case "a run ended": watch each workspace's Jobs API through the run feed, decide what
an ended run means (a failure opens or bumps the job's incident, a success resolves it), claim
it in the store, and queue the messages in the outbox for the notifier.

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
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot import actions
from bot.clock import Clock
from bot.config import Config
from bot.errors import UserError
from bot.models import (
    FAILED_STATES,
    ApiRun,
    ApiRunState,
    EndedRun,
    JobInfo,
    JobKey,
    JobsApiError,
    RunCost,
    TaskError,
    TaskRun,
)
from bot.render import Renderer
from bot.render.mrkdwn import link
from bot.run_feed import FeedWatermark, RunFeed
from bot.service.alert_view import MAX_ERROR_CHARS, failure_alert, recovered_phrase
from bot.service.common import run_url
from bot.store.records import Incident, IncidentKey, IncidentKind, OutboxKind

log = logging.getLogger(__name__)

FEED = "run_feed"  # watermark name
RESOLVING_STATES = frozenset({"SUCCEEDED"})
# The first poll of a workspace with no watermark looks back this far, so a bot started
# (or restarted without state) still alerts on what failed just before.
FIRST_LOOKBACK = timedelta(minutes=10)
# The system tables are read over a sliding window this long: their rows land minutes (the
# lakeflow lag is undocumented) after the run ended, so each poll looks back far enough to
# see late rows, and the store counts each run end once.
TABLE_LOOKBACK = timedelta(hours=6)
# A failure the system tables show for a workspace the Jobs API watches is "missed" only if
# the API path had this long to see it first (it polls every 30 s by default).
API_HEAD_START = timedelta(minutes=10)
# A resolved incident's failed run may be billed hours after the recovery: its cost is still
# looked for this long after the run ended (billing lags hours, not days).
COST_HORIZON = timedelta(days=2)
# The trigger of a run whose latest end is a repair (not an API trigger value).
REPAIR_TRIGGER = "REPAIR"


class JobsApiPort(Protocol):
    def list_runs(
        self, workspace_id: str, *, started_from: datetime | None = None, active_only: bool = False
    ) -> list[ApiRun]: ...

    def get_run(
        self, workspace_id: str, run_id: str, *, include_history: bool = True
    ) -> ApiRun: ...

    def get_task_error(self, workspace_id: str, task_run_id: str) -> TaskError: ...

    def get_job(self, workspace_id: str, job_id: str) -> JobInfo: ...


class EndedRunsPort(Protocol):
    """The system tables' run ends (bot.warehouse.queries.runs_ended over the warehouse)."""

    def __call__(self, *, now: datetime, since: datetime, until: datetime) -> list[EndedRun]: ...


class RouterPort(Protocol):
    """bot.service.rollup.Rollup by shape: True when it took the first post (a roll-up)."""

    def route(self, channel: str, incident: Incident, message: dict[str, Any]) -> bool: ...


class DirectoryPort(Protocol):
    def user_id_for_email(self, email: str) -> str | None: ...


class StorePort(Protocol):
    """bot.store.Store by shape: the parts this use case touches."""

    incidents: Any
    outbox: Any
    watermarks: Any
    mutes: Any


@dataclass
class PollOutcome:
    workspace_id: str
    ended: int = 0
    alerted: int = 0
    resolved: int = 0
    calls: int = 0
    errors: list[str] = field(default_factory=list)


class FailureAlerts:
    """Polls workspaces and turns ended runs into incident messages in the outbox."""

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
        self._p90 = p90_seconds
        self._ended_runs = ended_runs
        self._run_cost = run_cost
        self._poke = on_enqueue or (lambda: None)
        self._feeds: dict[str, RunFeed] = {}
        # A run seen ending more than two polls (at least 3 min) after it ended is late.
        self._late_after = max(
            timedelta(seconds=2 * config.schedules.failure_poll_seconds), timedelta(minutes=3)
        )
        self._jobs: dict[tuple[str, str], tuple[datetime, JobInfo | None]] = {}
        self._lock = threading.Lock()
        # Other incident kinds draw their own messages (SLA, missed run, cost anomaly): a
        # button click re-renders any incident through `render`, which asks them.
        self.renderers: dict[str, Callable[[Incident], dict[str, Any]]] = {}

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

    # -- polling -------------------------------------------------------------------------

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
                kind = self.handle_ended(run, late=late, via="api", rerun=run.run_id in watched)
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

    def poll_tables(self) -> PollOutcome:
        """The system-table path: run ends of the last TABLE_LOOKBACK, for workspaces without
        Jobs API access (their only source) and, as the reconcile, for the others (failures
        the API path never saw — a restart, a workspace outage — alerted late, marked so)."""
        out = PollOutcome("system tables")
        if self._ended_runs is None:
            return out
        now = self.clock.now()
        try:
            rows = self._ended_runs(now=now, since=now - TABLE_LOOKBACK, until=now)
        except UserError as e:
            out.errors.append(str(e))
            log.warning("system-table run ends: %s", e)
            return out
        out.calls = 1
        watched = {w.id for w in self.config.workspaces if w.jobs_api}
        known = {w.id for w in self.config.workspaces}
        # Only a job's latest end speaks: an older failure under a newer success is history.
        latest: dict[tuple[str, str], datetime] = {}
        for row in rows:
            key = (row.workspace_id, row.job_id)
            latest[key] = max(latest.get(key, row.end_time), row.end_time)
        for row in rows:
            if known and row.workspace_id not in known:
                continue  # a workspace this bot is not configured for
            late = row.workspace_id in watched
            if late and row.end_time > now - API_HEAD_START:
                continue  # the Jobs API path sees it first
            if row.end_time < latest[(row.workspace_id, row.job_id)]:
                continue
            out.ended += 1
            kind = self.handle_ended(_run_of(row), late=late, job=_job_of(row))
            out.alerted += kind == "alert"
            out.resolved += kind == "resolved"
        return out

    def backfill_costs(self, limit: int = 50) -> int:
        """What each open failure's run cost, once billing has it (hours after the run):
        the alert, until then "pending", is updated in place. Returns how many were filled."""
        if self._run_cost is None:
            return 0
        filled = 0
        now = self.clock.now()
        # Open incidents, and resolved ones whose failed run may still be billed: only those
        # still missing their cost count towards `limit` (so the filled ones cannot crowd the
        # rest out), newest run first.
        waiting = []
        for incident in self.store.incidents.open_or_resolved_since(
            IncidentKind.FAILURE, now - COST_HORIZON
        ):
            d = incident.detail or {}
            if d.get("cost") is not None or not d.get("run_id") or not d.get("ended_at"):
                continue
            if datetime.fromisoformat(str(d["ended_at"])) < now - COST_HORIZON:
                continue
            waiting.append(incident)
        for incident in waiting[:limit]:
            d = dict(incident.detail or {})
            run_id = str(d.get("run_id") or "")
            ended = d.get("ended_at")
            try:
                cost = self._run_cost(incident.workspace_id, run_id)
            except UserError as e:
                log.info("run cost of %s: %s", run_id, e)
                return filled
            # Billing is written by the hour: the run is fully billed once a usage row
            # reaches its end.
            end = datetime.fromisoformat(str(ended))
            if (
                not cost.billed
                or cost.last_usage_end_time is None
                or cost.last_usage_end_time < end
            ):
                continue
            d["cost"] = str(cost.cost)
            d["currency"] = cost.currency_code
            updated = self.store.incidents.set_detail(incident.id, d) or incident
            if updated.channel and updated.message_ts:
                self.enqueue_update(updated, updated.channel, f"cost:{run_id}")
            filled += 1
        return filled

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
        job = job if job is not None else self._job(ws, run.job_id)
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
        detail = self._detail(full, job, late=late)
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
            job or self._job(run.workspace_id, run.job_id), run.workspace_id, run.job_id, None
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

    # -- facts ---------------------------------------------------------------------------

    def _job(self, workspace_id: str, job_id: str) -> JobInfo | None:
        """jobs/get, cached for ten minutes (routing tags and owners rarely change)."""
        now = self.clock.now()
        hit = self._jobs.get((workspace_id, job_id))
        if hit is not None and now - hit[0] < timedelta(minutes=10):
            return hit[1]
        if self.jobs_api is None:
            return None
        try:
            job: JobInfo | None = self.jobs_api.get_job(workspace_id, job_id)
        except JobsApiError as e:
            log.info("jobs/get %s/%s: %s", workspace_id, job_id, e)
            job = None
        self._jobs[(workspace_id, job_id)] = (now, job)
        return job

    def _channel(
        self, job: JobInfo | None, workspace_id: str, job_id: str, name: str | None
    ) -> str:
        return self.config.route_channel(
            (job.name if job else None) or name, workspace_id, job_id, job.tags if job else {}
        )

    def _detail(self, run: ApiRun, job: JobInfo | None, *, late: bool) -> dict[str, Any]:
        assert run.job_id is not None
        ws_cfg = self.config.workspace(run.workspace_id)
        host = ws_cfg.host.rstrip("/") if ws_cfg else None
        tasks: list[dict[str, Any]] = []
        # The tasks to show: the failed ones, or (a cancelled or skipped run, alerted by
        # monitoring.alert_on_states) the tasks that ended the way the run did.
        shown = run.failed_tasks or tuple(
            t for t in run.latest_attempts() if t.state.state == run.state.state
        )
        for task in shown:
            error: str | None = None
            if len(tasks) < 3 and self.jobs_api is not None:
                try:
                    found = self.jobs_api.get_task_error(run.workspace_id, task.run_id)
                    error = found.error or _tail(found.error_trace)
                except JobsApiError as e:
                    log.info("runs/get-output %s: %s", task.run_id, e)
            tasks.append(
                {
                    "key": task.task_key,
                    "attempts": _attempts(run, task),
                    # attempt x of (max_retries + 1): the run's own copy of the task's
                    # settings, else the job's (jobs/get, cached); None: not known.
                    "max_retries": task.max_retries
                    if task.max_retries is not None
                    else (job.max_retries(task.task_key) if job else None),
                    "error": error[:MAX_ERROR_CHARS] if error else None,
                    "url": task.run_page_url,
                }
            )
        owner = job.owner if job else run.creator_user_name
        p90 = self._p90(JobKey(run.workspace_id, run.job_id)) if self._p90 else None
        name = (job.name if job else None) or run.run_name or f"job {run.job_id}"
        repaired = run.latest_repair_id is not None
        return {
            "job_name": name,
            "job_url": f"{host}/jobs/{run.job_id}" if host else None,
            "workspace": ws_cfg.name if ws_cfg else run.workspace_id,
            "run_id": run.run_id,
            "run_url": run.run_page_url or run_url(host, run.job_id, run.run_id),
            "state": run.state.state,
            "code": run.state.termination_code,
            "type": run.state.termination_type,
            "message": run.state.message,
            "ended_at": run.end_time.isoformat() if run.end_time else None,
            "duration_seconds": run.duration_seconds,
            "p90_seconds": p90,
            # The run that ended is a repair: say so, and who asked for it when the bot did.
            "trigger": REPAIR_TRIGGER if repaired else run.trigger,
            "trigger_by": self._repaired_by(run) if repaired else None,
            "owner": owner,
            "owner_id": self._owner_id(owner),
            "cost": None,
            "currency": self.config.cost.currency,
            "tasks": tasks,
            "late": late,
        }

    def _repaired_by(self, run: ApiRun) -> str | None:
        """Who started the repair that just ended, from the audit log of the Rerun button
        (None for a repair started in Databricks, or a store without an audit log)."""
        audit = getattr(self.store, "audit", None)
        if audit is None or run.job_id is None:
            return None
        # Newest first: the latest repair of this run is the one that just ended.
        for entry in audit.entries(
            job=JobKey(run.workspace_id, run.job_id), action="rerun", limit=50
        ):
            d = entry.detail or {}
            if (
                entry.result == "ok"
                and d.get("how") == "repair"
                and str(d.get("started_run") or entry.run_id) == run.run_id
            ):
                return str(entry.actor_id) if entry.actor_id else None
        return None

    def _owner_id(self, owner: str | None) -> str | None:
        if not owner:
            return None
        mapped = self.config.owner_slack_id(owner)
        if mapped:
            return mapped
        if self.directory is not None and "@" in owner:
            return self.directory.user_id_for_email(owner)
        return None

    def _when(self, at: datetime) -> str:
        stamp = int(at.timestamp())
        return f"<!date^{stamp}^at {{time}}|at {at:%H:%M} UTC>"


def _attempts(run: ApiRun, task: TaskRun) -> int:
    """Which attempt of the task the failed one was: counted from the start of the run, or
    of its latest repair when the run ended in a repair (a repair starts the retries anew)."""
    tries = run.attempts(task.task_key)
    total = max(len(tries), task.attempt_number + 1)
    repairs = [r for r in run.repair_history if r.kind == "REPAIR"]
    if repairs and repairs[-1].task_run_ids:
        ids = set(repairs[-1].task_run_ids)
        began = next((t for t in tries if t.run_id in ids), None)
        if began is not None:
            return max(1, task.attempt_number - began.attempt_number + 1)
    return total


def _tail(trace: str | None, lines: int = 8) -> str | None:
    if not trace:
        return None
    return "\n".join(trace.strip().splitlines()[-lines:])


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _run_of(row: EndedRun) -> ApiRun:
    """A system-table run end in the shape of a Jobs API run (no tasks: the tables' task
    rows carry no error messages; the alert then shows the termination code)."""
    state = ApiRunState(
        state=row.result_state,
        ended=True,
        status_state="TERMINATED",
        life_cycle_state=None,
        result_state=row.result_state,
        termination_code=row.termination_code,
        termination_type=None,
        message=None,
    )
    duration = (row.end_time - row.start_time).total_seconds() if row.start_time else None
    return ApiRun(
        workspace_id=row.workspace_id,
        job_id=row.job_id,
        run_id=row.run_id,
        run_name=row.name,
        state=state,
        start_time=row.start_time,
        end_time=row.end_time,
        duration_seconds=duration,
        queue_seconds=None,
        run_page_url=None,
        run_type=None,
        trigger=row.trigger_type,
        creator_user_name=None,
        tasks_complete=True,
    )


def _job_of(row: EndedRun) -> JobInfo:
    tags = {k: v for k, v in (("team", row.team), ("owner", row.owner)) if v}
    return JobInfo(
        workspace_id=row.workspace_id,
        job_id=row.job_id,
        name=row.name,
        tags=tags,
        creator_user_name=None,
        run_as_user_name=None,
        quartz_cron=None,
        timezone=None,
        paused=False,
    )
