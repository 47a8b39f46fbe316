"""The use case "a scheduled job did not start": each check reads the scheduled jobs from the
jobs table (queries/scheduled_jobs.sql, cached for a few minutes), judges each one's latest
due fire with the pure decision (`bot.monitors.missed`), and keeps one incident per job
(kind MISSED_RUN) while its schedule keeps firing without runs: the first missed start posts
"expected at 02:00 Europe/Amsterdam, no run by 02:15", each further one updates that message
(the streak counts them), and the first run to start resolves it in place.

Where it looks:
- workspaces with the Jobs API: jobs/get gives the live schedule and pause state (a job gone
  from it is deleted and never alerts), and runs/list of that job since the fire tells, in
  real time, whether a run started. The API is asked only for a fire that is due and not yet
  seen covered, and for a job with an open incident.
- other workspaces: the table's schedule and the latest run start the run timeline shows, with
  the decision waiting until a run's first hourly slice could have been written.

Paused jobs, deleted jobs and jobs without a schedule never alert; an open incident of a job
that becomes one of those is resolved ("paused: no run is expected").

A first post goes through the roll-up when one is given (`router`): many jobs missing their
start at once (a scheduler outage) make one summary message per channel, not a flood.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import actions
from bot.clock import Clock, as_utc
from bot.config import Config
from bot.models import JobKey, JobsApiError, ScheduledJob
from bot.monitors import missed
from bot.monitors.missed import JobSchedule, MissedState, MissedStatus, Source
from bot.render import Renderer
from bot.render.formatting import duration
from bot.render.mrkdwn import slack_date
from bot.service.lateness import (
    DirectoryPort,
    JobLookup,
    LiveJobsPort,
    Publisher,
    RouterPort,
    StorePort,
)
from bot.service.lateness_view import missed_run_alert
from bot.service.ports import Warehouse
from bot.store.records import Incident, IncidentKey, IncidentKind
from bot.warehouse import queries

log = logging.getLogger(__name__)

KEY = "schedule"  # one open missed-run incident per job: its schedule

_GONE = {
    MissedState.PAUSED: "the job was paused, so no run is expected",
    MissedState.DELETED: "the job was deleted",
    MissedState.NO_SCHEDULE: "the job no longer has a schedule",
}


@dataclass
class MissedOutcome:
    jobs: int = 0
    missed: int = 0
    resolved: int = 0
    api_calls: int = 0
    errors: list[str] = field(default_factory=list)


class MissedRuns:
    """Watches scheduled jobs for starts that did not happen."""

    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        renderer: Renderer,
        store: StorePort,
        warehouse: Warehouse,
        jobs_api: LiveJobsPort | None = None,
        directory: DirectoryPort | None = None,
        on_enqueue: Any = None,
        # Schedules change rarely and a run's start is confirmed live where the API is
        # watched; the tables' copy is read at most every quarter hour.
        warehouse_ttl: timedelta = timedelta(minutes=15),
        router: RouterPort | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.renderer = renderer
        self.store = store
        self.warehouse = warehouse
        self.jobs = JobLookup(config, clock, warehouse, jobs_api, directory)
        self.out = Publisher(store, clock, renderer, on_enqueue, router)
        self._api = jobs_api
        self._ttl = warehouse_ttl
        self._rows: tuple[datetime, list[ScheduledJob]] | None = None
        # (workspace, job) -> the latest fire seen covered by a run: not asked about again.
        self._covered: dict[tuple[str, str], datetime] = {}

    @property
    def grace(self) -> timedelta:
        return self.config.schedules.missed_run_grace

    @property
    def table_lag(self) -> timedelta:
        return self.config.schedules.missed_run_table_lag

    # -- the check -----------------------------------------------------------------------

    def check(self) -> MissedOutcome:
        """One round over every scheduled job. Raises nothing."""
        out = MissedOutcome()
        now = self.clock.now()
        try:
            rows = self._scheduled(now)
        except Exception as e:  # the warehouse is down: judge nothing rather than guess
            out.errors.append(str(e))
            log.warning("scheduled_jobs: %s", e, exc_info=True)
            return out
        open_by_job = {
            (i.workspace_id, i.job_id): i
            for i in self.store.incidents.open_incidents(IncidentKind.MISSED_RUN)
        }
        watched = {w.id for w in self.config.workspaces}
        for row in rows:
            if watched and row.workspace_id not in watched:
                continue  # a workspace of the region this bot is not set up to watch
            out.jobs += 1
            incident = open_by_job.pop((row.workspace_id, row.job_id), None)
            try:
                self._check_job(row, incident, now, out)
            except Exception as e:
                out.errors.append(f"{row.name}: {e}")
                log.warning("missed runs of %s: %s", row.name, e, exc_info=True)
        for incident in open_by_job.values():
            # Not in the table's scheduled jobs any more: deleted or unscheduled.
            self._close(incident, MissedStatus(MissedState.NO_SCHEDULE), out)
        return out

    def _check_job(
        self, row: ScheduledJob, incident: Incident | None, now: datetime, out: MissedOutcome
    ) -> None:
        ws, job_id = row.workspace_id, row.job_id
        schedule = JobSchedule(row.quartz_cron, row.timezone_id, row.paused, False, row.change_time)
        source: Source = "tables"
        starts = [row.last_run_start] if row.last_run_start else []
        if incident is None and self.jobs.live(ws):
            # The tables' copy of the schedule and last start first: the Jobs API is asked
            # only about a job that looks due, not about every scheduled job every round
            # (5,000 jobs would be 5,000 jobs/get calls). A schedule changed or a job resumed
            # in the last minutes is judged once the jobs table has the change.
            pre = self._evaluate(schedule, starts, now, "api")
            if pre.state is not MissedState.MISSED:
                return
        info, deleted = self.jobs.job_info(ws, job_id)
        if info is not None or deleted:
            source = "api"
            schedule = JobSchedule(
                info.quartz_cron if info else None,
                info.timezone if info else None,
                info.paused if info else False,
                deleted,
                row.change_time,
            )
        # On the API path, first only ask which fire is due; runs/list is called for it below.
        status = self._evaluate(schedule, starts if source == "tables" else [], now, source)
        if source == "api" and (incident is not None or status.state is MissedState.MISSED):
            fires = [f.earliest for f in (status.fire,) if f is not None]
            since = min([*fires, *[e for e in (_expected(incident),) if e is not None], now])
            if status.fire is not None and self._covered.get((ws, job_id)) == status.fire.earliest:
                starts = [status.fire.earliest]  # seen covered by a run already
            else:
                found = self._api_starts(ws, job_id, since, out)
                if found is None:
                    return  # the API did not answer: judge next round, never on a guess
                # A run either source saw counts: the tables also know runs the API's
                # history no longer (or never) lists, e.g. from before a workspace moved.
                starts = [*found, *([row.last_run_start] if row.last_run_start else [])]
            status = self._evaluate(schedule, starts, now, source)
        if status.state is MissedState.OK and status.fire is not None:
            self._covered[(ws, job_id)] = status.fire.earliest
        if incident is not None:
            started = missed.first_start_since(starts, _expected(incident) or now)
            if started is not None:
                self._resolve_started(incident, started, out)
                return
            if status.state in _GONE:
                self._close(incident, status, out)
                return
        if status.state is MissedState.MISSED:
            self._missed(row, status, source, out)
        elif status.state is MissedState.BAD_SCHEDULE:
            log.info("schedule of %s/%s: %s", ws, job_id, status.problem)

    def _evaluate(
        self, schedule: JobSchedule, starts: list[datetime], now: datetime, source: Source
    ) -> MissedStatus:
        return missed.evaluate(
            schedule, starts, now, grace=self.grace, source=source, table_lag=self.table_lag
        )

    # -- state changes -------------------------------------------------------------------

    def _missed(
        self, row: ScheduledJob, status: MissedStatus, source: Source, out: MissedOutcome
    ) -> None:
        assert status.fire is not None
        fire = status.fire
        facts = self.jobs.facts(
            row.workspace_id, row.job_id, name=row.name, owner=row.owner, tags=_tags(row)
        )
        info, _ = self.jobs.job_info(row.workspace_id, row.job_id)
        cron = (info.quartz_cron if info else None) or row.quartz_cron
        tz = (info.timezone if info else None) or row.timezone_id or "UTC"
        zone = ZoneInfo(tz)
        no_run_by = (fire.latest + self.grace).astimezone(zone)
        phrase = f"at {fire.wall:%H:%M} {tz}, no run by {no_run_by:%H:%M}"
        detail = {
            **facts.as_detail(),
            "channel": facts.channel,
            "cron": cron,
            "timezone": tz,
            "expected_at": fire.earliest.isoformat(),
            "expected_phrase": phrase,
            "source": source,
        }
        key = IncidentKey(row.workspace_id, row.job_id, IncidentKind.MISSED_RUN, KEY)
        existing = self.store.incidents.find_open(key)
        if existing is not None and existing.detail:
            # The first missed fire stays the one the message names; later ones are counted.
            first = existing.detail
            detail["expected_at"] = first.get("expected_at", detail["expected_at"])
            detail["expected_phrase"] = first.get("expected_phrase", phrase)
        outcome = self.store.incidents.open_or_bump_failure(
            key, fire.earliest.isoformat(), fire.latest, f"expected {phrase}",
            job_name=facts.name, detail=detail,
        )  # fmt: skip
        incident = outcome.incident
        if not outcome.is_new_run:
            if incident.is_open and not self.out.posted(incident):
                self._publish(incident, f"missed:{incident.version}", None)  # a crash before
            return
        out.missed += 1
        line = None if outcome.created else (
            f"⏰ Missed again: expected {phrase} ({incident.streak} scheduled runs in a row)."
        )  # fmt: skip
        self._publish(incident, f"missed:{fire.earliest.isoformat()}", line)

    def _resolve_started(self, incident: Incident, started: datetime, out: MissedOutcome) -> None:
        expected = _expected(incident)
        late = f", {duration(started - expected)} after it was expected" if expected else ""
        when = slack_date(started, self.config.timezone, "{time}")
        self._finish(
            incident,
            max(started, incident.last_failure_at),
            f"▶️ A run started at {when}{late}.",
            out,
        )

    def _close(self, incident: Incident, status: MissedStatus, out: MissedOutcome) -> None:
        why = _GONE.get(status.state, "the job is no longer scheduled")
        self._finish(
            incident, max(self.clock.now(), incident.last_failure_at), f"⏹️ Closed: {why}.", out
        )

    def _finish(self, incident: Incident, at: datetime, line: str, out: MissedOutcome) -> None:
        detail = {**(incident.detail or {}), "resolution": line}
        self.store.incidents.set_detail(incident.id, detail)
        resolved = self.store.incidents.resolve(incident.incident_key, as_utc(at))
        if resolved is None:
            return
        out.resolved += 1
        self._publish(resolved, "resolved", line)

    def _publish(self, incident: Incident, why: str, line: str | None) -> None:
        detail = incident.detail or {}
        channel = incident.channel or str(
            detail.get("channel") or self.config.slack.default_channel
        )
        self.out.publish(incident, channel, why, self.render(incident), line)

    def render(self, incident: Incident) -> dict[str, Any]:
        """The incident's message as it stands now (post or update)."""
        mute = self.store.mutes.active_mute(JobKey(incident.workspace_id, incident.job_id))
        view = missed_run_alert(incident, now=self.clock.now(), mute=mute)
        return self.renderer.render("alert_missed.json.j2", a=view, ids=actions.TEMPLATE_IDS)

    # -- inputs ----------------------------------------------------------------------------

    def _scheduled(self, now: datetime) -> list[ScheduledJob]:
        if self._rows is not None and timedelta(0) <= now - self._rows[0] < self._ttl:
            return self._rows[1]
        since = now - missed.LOOKBACK - self.grace - self.table_lag - timedelta(hours=1)
        rows = queries.scheduled_jobs(self.warehouse, now=now, since=since)
        self._rows = (now, rows)
        return rows

    def _api_starts(
        self, workspace_id: str, job_id: str, since: datetime, out: MissedOutcome
    ) -> list[datetime] | None:
        assert self._api is not None
        out.api_calls += 1
        try:
            runs = self._api.list_runs(
                workspace_id, job_id=job_id, started_from=since - missed.SKEW, max_runs=25
            )
        except JobsApiError as e:
            out.errors.append(str(e))
            log.info("runs/list %s/%s: %s", workspace_id, job_id, e)
            return None
        return [r.start_time for r in runs if r.start_time is not None]


def _expected(incident: Incident | None) -> datetime | None:
    value = (incident.detail or {}).get("expected_at") if incident else None
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _tags(row: ScheduledJob) -> dict[str, str]:
    try:
        raw = json.loads(row.tags_json or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
