"""The daily digest: yesterday (a local day) in runs, success rate, failures, SLAs met and
missed, cost against the 7-day average with the top movers, waste, and the alerts still open —
to the default channel for the whole account, and to each routed team channel for its jobs.

`Digests.due(now)` is called every minute (bot/service/reports/schedule.py says why that is
the whole scheduling story). One digest per channel per local day: its outbox dedupe key is
``digest:<local day it was sent>:<channel>``, so a restart, a second replica or a demo's
`send_now` never repeats one, a tick that died half-way queues only the channels still
missing, and a digest queued more than a few minutes after its slot says it is late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.clock import Clock, as_utc
from bot.config import Config, SlaRule
from bot.models import JobKey, JobMatch, ReportJob, WasteItem
from bot.monitors import sla as monitor
from bot.render import Renderer
from bot.service.alert_list import message_url
from bot.service.answer import Reader, WarehouseUnavailable
from bot.service.common import amount, job_name, job_url, num, run_url, workspace_host
from bot.service.ports import Warehouse
from bot.service.reports import common
from bot.service.reports.schedule import Slot, last_slot_today, local_day_window
from bot.service.reports.views import DigestView, Line, data
from bot.service.sla import RUNS_LIMIT, day_runs, describe_rule, spec_for
from bot.store.records import Incident, OutboxKind
from bot.warehouse import queries

log = logging.getLogger(__name__)

KIND = "digest"
BASELINE_DAYS = 7

_INCIDENT_KINDS = {
    "failure": "failing",
    "sla": "SLA",
    "missed_run": "missed run",
    "cost_anomaly": "cost anomaly",
    "monitoring": "monitoring",
}


@dataclass(frozen=True)
class _SlaResult:
    job: JobMatch
    rule: SlaRule
    met: bool | None  # None: not judged that day


@dataclass(frozen=True)
class _Facts:
    """What the warehouse and the store said, read once for all channels."""

    day: date
    rows: list[ReportJob]
    cost: float
    avg_cost: float
    waste: list[WasteItem]
    slas: list[_SlaResult]
    incidents: list[Incident]


class Digests:
    """Queues each channel's daily digest in the outbox for the notifier."""

    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        renderer: Renderer,
        store: common.StorePort,
        warehouse: Warehouse,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.renderer = renderer
        self.store = store
        self.reader = Reader(warehouse)
        self._poke = on_enqueue or (lambda: None)

    def due(self, now: datetime | None = None) -> list[str]:
        """Queue today's digests if today's slot has passed and they are not queued yet.
        Idempotent; returns the dedupe keys this call added. Never raises for a warehouse
        outage (logged; the next tick tries again, the same day)."""
        now = as_utc(now or self.clock.now())
        slot = last_slot_today(self.config.schedules.digest, self.config.tz, now)
        if slot is None:
            return []
        return self._queue(slot.day, now, slot=slot, reason=None)

    def send_now(self, now: datetime | None = None, reason: str = "demo") -> list[str]:
        """Today's digests now, whatever the schedule says (`jobs-bot demo` on start). Same
        dedupe keys as the scheduled ones: today's slot will not send them again."""
        now = as_utc(now or self.clock.now())
        return self._queue(now.astimezone(self.config.tz).date(), now, slot=None, reason=reason)

    def key(self, day: date, channel: str) -> str:
        return f"{KIND}:{day.isoformat()}:{channel}"

    # -- queueing ------------------------------------------------------------------------

    def channels(self) -> list[str]:
        return [self.config.slack.default_channel, *common.team_channels(self.config)]

    def _queue(
        self, day: date, now: datetime, *, slot: Slot | None, reason: str | None
    ) -> list[str]:
        missing = [c for c in self.channels() if self.store.outbox.find(self.key(day, c)) is None]
        if not missing:
            return []
        try:
            facts = self._read(day - timedelta(days=1), now)
        except WarehouseUnavailable as e:
            log.warning("daily digest for %s not ready: %s (error id %s)", day, e, e.error_id)
            return []
        late = slot is not None and slot.late_at(now)
        added: list[str] = []
        for channel in missing:
            view = self.view(facts, channel, late=late, slot=slot, reason=reason)
            payload = self.renderer.render("digest.json.j2", **data(view), now=now)
            if self.store.outbox.enqueue(
                dedupe_key=self.key(day, channel),
                channel=channel,
                kind=OutboxKind.POST,
                payload=_named(payload, channel),
            ):
                added.append(self.key(day, channel))
        if added:
            log.info(
                "daily digest for %s queued%s: %s", facts.day, " (late)" if late else "", added
            )
            self._poke()
        return added

    # -- reading -------------------------------------------------------------------------

    def _read(self, day: date, now: datetime) -> _Facts:
        tz = self.config.tz
        since, until = local_day_window(day, tz)
        prev_since = local_day_window(day - timedelta(days=BASELINE_DAYS), tz)[0]
        rows = self.reader.read(
            queries.report_jobs, since=since, until=until, prev_since=prev_since
        )
        total = self.reader.read(
            queries.cost_total, since=since, until=until, prev_since=prev_since
        )
        waste = self.reader.read(
            queries.waste,
            since=since,
            until=until,
            idle_cpu_percent=self.config.cost.idle_cpu_percent,
        )
        return _Facts(
            day=day,
            rows=rows,
            cost=amount(total.cost),
            avg_cost=amount(total.prev_cost) / BASELINE_DAYS,
            waste=waste,
            slas=self._slas(day, now),
            incidents=self.store.incidents.open_incidents(),
        )

    def _slas(self, day: date, now: datetime) -> list[_SlaResult]:
        """Each SLA rule's verdict on `day` for each job it names, as `/jobs sla` judges it."""
        out: list[_SlaResult] = []
        for rule in self.config.slas:
            needle = rule.job.job_id if rule.job.job_id is not None else rule.job.name
            if needle is None:
                continue
            found = self.reader.read(queries.job_lookup, needle, include_deleted=False)
            for job in (j for j in found if rule.job.matches(j.name, j.workspace_id, j.job_id)):
                out.append(_SlaResult(job, rule, self._sla_verdict(rule, job, day, now)))
        return out

    def _sla_verdict(self, rule: SlaRule, job: JobMatch, day: date, now: datetime) -> bool | None:
        key = JobKey(job.workspace_id, job.job_id)
        runs = self.reader.read(queries.job_recent_runs, key, now=now, limit=RUNS_LIMIT)
        p90 = num(self.reader.read(queries.job_run_stats, key, now=now).p90_seconds)
        spec = spec_for(rule, self.config.timezone)
        history = day_runs(runs, spec.tz, now)
        # last_days ends with today (in the rule's zone); the digest's day is `back` before it.
        local_today = as_utc(now).astimezone(rule.tz(self.config.timezone)).date()
        back = (local_today - day).days
        if back < 0 or back > 30:
            return None
        verdicts = monitor.last_days(spec, history, p90, now, n=back + 1)
        return verdicts[0]

    # -- the view ------------------------------------------------------------------------

    def view(
        self,
        facts: _Facts,
        channel: str,
        *,
        late: bool = False,
        slot: Slot | None = None,
        reason: str | None = None,
    ) -> DigestView:
        config = self.config
        account = channel == config.slack.default_channel
        rows = (
            facts.rows
            if account
            else [r for r in facts.rows if common.channel_of(config, r) == channel]
        )
        keys = {(r.workspace_id, r.job_id) for r in rows}
        tags = {(r.workspace_id, r.job_id): common.tags_of(r) for r in facts.rows}
        runs = sum(r.runs for r in rows)
        successes = sum(r.successes for r in rows)
        failed = sorted((r for r in rows if r.failures), key=lambda r: (-r.failures, r.cost_rank))
        n = config.cost.digest_top_n
        movers = [r for r in common.top(rows, "mover_rank", n) if amount(r.cost) != r.baseline_cost]
        slas = [s for s in facts.slas if account or self._sla_channel(s, tags) == channel]
        judged = [s for s in slas if s.met is not None]
        missed = [s for s in judged if s.met is False]
        incidents = [
            i for i in facts.incidents if account or self._incident_channel(i, tags) == channel
        ]
        if account:
            cost, avg = facts.cost, facts.avg_cost
        else:
            cost = sum(amount(r.cost) for r in rows)
            avg = sum(r.baseline_cost for r in rows)
        shown = common.LIST_LINES
        return DigestView(
            day=facts.day,
            scope=None if account else common.channel_label(config, channel),
            late=late,
            slot_at=slot.at if slot is not None else None,
            reason=reason,
            runs=runs,
            successes=successes,
            failures=sum(r.failures for r in rows),
            success_rate=(successes / runs) if runs else None,
            failed_jobs=tuple(common.failed_line(config, r) for r in failed[:shown]),
            failed_more=max(0, len(failed) - shown),
            sla_met=sum(1 for s in judged if s.met),
            sla_missed=len(missed),
            sla_lines=tuple(self._sla_line(s) for s in missed[:shown]),
            cost=cost,
            avg_cost=avg,
            change=((cost - avg) / avg) if avg else None,
            movers=tuple(common.job_line(config, r) for r in movers),
            waste=common.waste_view(config, facts.waste, None if account else keys),
            incidents=tuple(self._incident_line(i) for i in incidents[:shown]),
            incidents_more=max(0, len(incidents) - shown),
            currency=config.cost.currency,
        )

    def _sla_channel(self, s: _SlaResult, tags: dict[tuple[str, str], dict[str, str]]) -> str:
        job = s.job
        known = tags.get((job.workspace_id, job.job_id), {})
        return self.config.route_channel(job.name, job.workspace_id, job.job_id, known)

    def _incident_channel(
        self, incident: Incident, tags: dict[tuple[str, str], dict[str, str]]
    ) -> str:
        # Routed as its alert was: by the job's name, workspace, id and (when yesterday's
        # rows know the job) its tags.
        known = tags.get((incident.workspace_id, incident.job_id), {})
        return self.config.route_channel(
            incident.job_name, incident.workspace_id, incident.job_id, known
        )

    def _sla_line(self, s: _SlaResult) -> Line:
        host = workspace_host(self.config, s.job.workspace_id)
        return Line(
            label=job_name(s.job.name, s.job.job_id),
            url=job_url(host, s.job.job_id),
            workspace=_workspace(self.config, s.job.workspace_id, s.job.workspace_name),
            note=f"missed: {describe_rule(s.rule, self.config.timezone)}",
        )

    def _incident_line(self, incident: Incident) -> Line:
        detail: dict[str, Any] = incident.detail or {}
        host = workspace_host(self.config, incident.workspace_id)
        url = (
            message_url(incident.channel, incident.message_ts)
            or detail.get("run_url")
            or run_url(host, incident.job_id, incident.last_run_id)
        )
        kind = _INCIDENT_KINDS.get(incident.kind, incident.kind)
        note = kind if incident.streak <= 1 else f"{kind}, {incident.streak} in a row"
        if incident.acked_by:
            note += ", acknowledged"
        return Line(
            label=job_name(incident.job_name, incident.job_id),
            url=url,
            workspace=_workspace(self.config, incident.workspace_id, None),
            note=note,
        )


def _workspace(config: Config, workspace_id: str, name: str | None) -> str:
    ws = config.workspace(workspace_id)
    return ws.name if ws is not None else (name or workspace_id)


def _named(payload: dict[str, Any], channel: str) -> dict[str, Any]:
    """The payload with the channel's name, for the notifier's "couldn't post in #…" notice."""
    return {**payload, "channel_name": channel[1:]} if channel.startswith("#") else payload
