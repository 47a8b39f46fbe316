"""`jobs-bot replay`: every message the bot would have sent over a past period, from the system
tables alone, to tune SLA rules and thresholds before turning them on.

The scheduled work that reads the system tables runs as in production — the same use cases,
templates and store claims — on a fresh store, with an injected clock stepping through the
period and the warehouse seen as it was at each step (`set_now`, an as-of view layer: no row
from the future). What the use cases put in the outbox is "sent" here: each row gets a fake
Slack ts (so updates and thread replies find their message, as with the notifier) and is
recorded with the step's instant. Nothing reaches Slack or Databricks.

Steps, merged in time order:
- failures (`FailureAlerts.poll_tables`, every workspace through the system tables): at the
  first poll tick after each run end — ticks every `failure_poll_seconds` when the config
  watches a workspace through the Jobs API (the real-time path would have seen it within a
  poll), else `system_tables_poll_seconds`. A tick with no new run end cannot change anything
  for this path, so it is skipped;
- the cost scan (and the failed runs' cost backfill) at each `schedules.cost_scan` cron fire,
  in the configured timezone;
- SLA checks and missed-run checks every `sla_check_seconds`, their first posts through the
  roll-up as in the bot;
- the daily digest and the weekly report at their cron fires; the weekly report's chart (a PNG
  the bot uploads into the report's thread once the report has a ts) right after the report,
  shown as "📎 chart: <file> (N bytes)", kind weekly_report, `update_of` the report;
- the roll-up's tick after every step (so bursts roll up as they would have).

Kinds: each message is labelled by what it says. Failures are `failure` (post, "failed
again") and `recovered` (the success that resolves one: the edit and its thread line, and any
later edit of a recovered alert, e.g. its failed run's cost once billed). SLA
messages follow the state the change is about: `sla_at_risk`, `sla_breached`, `sla_met_late`;
the states without a kind of their own get the nearest honest one — met on time after being at
risk, and "back on track" (pending again, no longer at risk) → `recovered` (the alert's worry
is gone; "back on track" may still turn "at risk again"); closed at the end of its day or run
without being met → `sla_breached` (the rule was not met). Missed runs are `missed_run` over
their whole life (the post, "missed again", "a run started", closed), cost anomalies
`cost_anomaly`; a roll-up's own message and its thread lines are `rollup`, while an alert in
its thread keeps its own kind; the bot's notices about itself `degraded` / `restored`.

A silent warm-up at the start (one failure poll and one cost scan whose messages are dropped)
gives the store what a running bot would already know, so the replay does not re-announce
the hours before `--from` — only what changes after it.
"""

from __future__ import annotations

import base64
import heapq
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from bot.clock import FixedClock, as_utc
from bot.config import Config, cron_trigger
from bot.render import Renderer
from bot.service.alerts import FailureAlerts
from bot.service.cost_alerts import CostScan
from bot.service.health import Health
from bot.service.missed_runs import MissedRuns
from bot.service.reports.digest import Digests
from bot.service.reports.weekly import WeeklyReports
from bot.service.rollup import Rollup
from bot.service.rollup import is_member_key as rollup_member
from bot.service.sla_alerts import SlaAlerts
from bot.store.records import Incident, IncidentKind, OutboxKind, OutboxMessage
from bot.warehouse import queries

log = logging.getLogger(__name__)

KINDS = (
    "failure", "recovered", "sla_at_risk", "sla_breached", "sla_met_late", "missed_run",
    "cost_anomaly", "digest", "weekly_report", "rollup", "degraded", "restored",
)  # fmt: skip


class AsOfWarehouse(Protocol):
    """bot.warehouse.as_of.AsOfWarehouse by shape."""

    def run(self, name: str, params: Any) -> list[dict[str, Any]]: ...

    def set_now(self, now: datetime) -> None: ...

    def close(self) -> None: ...


class StorePort(Protocol):
    incidents: Any
    outbox: Any
    watermarks: Any
    feedback: Any
    mutes: Any

    def close(self) -> None: ...


@dataclass(frozen=True)
class Sent:
    """One message the bot would have sent."""

    at: datetime
    channel: str
    kind: str
    job: dict[str, str | None] | None
    update_of: datetime | None
    text: str
    blocks: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "at": _iso(self.at),
            "channel": self.channel,
            "kind": self.kind,
            "job": self.job,
            "update_of": _iso(self.update_of) if self.update_of else None,
            "text": self.text,
            "blocks": self.blocks,
        }


@dataclass
class ReplayResult:
    messages: list[Sent] = field(default_factory=list)
    steps: int = 0
    included: tuple[str, ...] = ()


class Replay:
    """Runs the scheduled system-table work over [start, end) and collects its messages."""

    def __init__(
        self,
        *,
        config: Config,
        clock: FixedClock,
        renderer: Renderer,
        store: StorePort,
        warehouse: AsOfWarehouse,
    ) -> None:
        # Every workspace through the system tables: that is all a replay can read, and it
        # makes them the first source (not a late reconcile of the Jobs API path).
        watched = any(ws.jobs_api for ws in config.workspaces)
        tables_only = tuple(ws.model_copy(update={"jobs_api": False}) for ws in config.workspaces)
        self.config = config.model_copy(update={"workspaces": tables_only})
        s = config.schedules
        self.failure_step = timedelta(
            seconds=s.failure_poll_seconds if watched else s.system_tables_poll_seconds
        )
        self.clock = clock
        self.store = store
        self.warehouse = warehouse
        cfg = self.config
        # Every use case pokes on enqueue (as it pokes the notifier): a step that queued
        # nothing needs no drain, which keeps a long replay's store work small.
        self._queued = True
        poke = self._poked
        self.health = Health(
            config=cfg, clock=clock, renderer=renderer, store=store, on_enqueue=poke
        )
        self.rollup = Rollup(
            config=cfg, clock=clock, renderer=renderer, store=store, on_enqueue=poke
        )
        self.failures = FailureAlerts(
            config=cfg,
            clock=clock,
            renderer=renderer,
            store=store,
            jobs_api=None,
            ended_runs=partial(queries.runs_ended, warehouse),
            run_cost=lambda ws, run: queries.run_cost(warehouse, workspace_id=ws, job_run_id=run),
            router=self.rollup,
            on_enqueue=poke,
        )
        self.cost = CostScan(
            config=cfg,
            clock=clock,
            renderer=renderer,
            store=store,
            warehouse=warehouse,
            health=self.health,
            router=self.rollup,
            on_enqueue=poke,
        )
        lateness = dict(
            config=cfg, clock=clock, renderer=renderer, store=store, warehouse=warehouse,
            on_enqueue=poke,
        )  # fmt: skip
        self.checks: list[tuple[str, Callable[[], object]]] = [
            ("SLA alerts", SlaAlerts(**lateness, router=self.rollup).check),  # type: ignore[arg-type]
            ("missed runs", MissedRuns(**lateness, router=self.rollup).check),  # type: ignore[arg-type]
        ]
        self.digests = Digests(**lateness)  # type: ignore[arg-type]
        self.weekly = WeeklyReports(**lateness)  # type: ignore[arg-type]
        self._ts = 0
        self._at_of_ts: dict[str, datetime] = {}

    def close(self) -> None:
        """Close the store and the warehouse (what `bot.wiring.build_replay` opened)."""
        try:
            self.store.close()
        finally:
            self.warehouse.close()

    def __enter__(self) -> Replay:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def included(self) -> tuple[str, ...]:
        return ("failures", "recoveries", "cost anomalies", "roll-ups", "monitoring notices",
                *(name for name, _ in self.checks), "daily digests", "weekly reports")  # fmt: skip

    def run(self, start: datetime, end: datetime) -> ReplayResult:
        start, end = as_utc(start), as_utc(end)
        if end <= start:
            raise ValueError("--to must be after --from")
        out = ReplayResult(included=self.included)
        steps = self._steps(start, end)
        self._move(start)
        self.failures.poll_tables()  # the warm-up: what a running bot already knew
        self.cost.run(start)
        self._drain(start, keep=None)
        while steps:
            at, kinds = heapq.heappop(steps)
            while steps and steps[0][0] == at:
                kinds = kinds | heapq.heappop(steps)[1]
            self._move(at)
            for kind in sorted(kinds):
                self._do(kind, at)
            self._drain(at, keep=out.messages)
            if "weekly" in kinds:
                # The chart follows the report once the report is "in Slack" (has a ts): the
                # bot's next minute's due() does it; here, at the same instant.
                self.weekly.due(at)
                self._drain(at, keep=out.messages)
            if self.rollup.busy:
                self.rollup.sync()
                self._drain(at, keep=out.messages)
                # The roll-up's own tick, when its window runs out (the bot ticks every few
                # seconds; the replay steps exactly there).
                close = self.rollup.due()
                if close is not None and close < end:
                    heapq.heappush(steps, (close, frozenset({"rollup"})))
            out.steps += 1
        out.messages.sort(key=lambda m: m.at)  # stable: within a step, in sending order
        return out

    # -- the schedule ----------------------------------------------------------------------

    def _steps(self, start: datetime, end: datetime) -> list[tuple[datetime, frozenset[str]]]:
        due: dict[datetime, set[str]] = {}
        self.warehouse.set_now(end)
        for ended in queries.replay_moments(self.warehouse, since=start, until=end):
            tick = _tick_after(start, as_utc(ended), self.failure_step)
            if tick < end:
                due.setdefault(tick, set()).add("failures")
        for kind, cron in (
            ("cost", self.config.schedules.cost_scan),
            ("digest", self.config.schedules.digest),
            ("weekly", self.config.schedules.weekly_report),
        ):
            for fire in _fires(cron_trigger(cron, self.config.tz), start, end):
                due.setdefault(fire, set()).add(kind)
        if self.checks:
            every = timedelta(seconds=self.config.schedules.sla_check_seconds)
            at = start + every
            while at < end:
                due.setdefault(at, set()).add("checks")
                at += every
        steps = [(at, frozenset(kinds)) for at, kinds in due.items()]
        heapq.heapify(steps)
        return steps

    def _move(self, at: datetime) -> None:
        self.clock.set(at)
        self.warehouse.set_now(at)

    def _do(self, kind: str, at: datetime) -> None:
        if kind == "failures":
            self.failures.poll_tables()
        elif kind == "cost":
            self.cost.run(at)
            self.failures.backfill_costs()
        elif kind == "digest":
            self.digests.due(at)
        elif kind == "weekly":
            self.weekly.due(at)
        elif kind == "checks":
            for name, check in self.checks:
                try:
                    check()
                except Exception:
                    # Another team's use case failing must not end the replay of the rest.
                    log.exception("replay: %s check at %s failed", name, at)

    # -- "sending" -------------------------------------------------------------------------

    def _poked(self) -> None:
        self._queued = True

    def _drain(self, at: datetime, keep: list[Sent] | None) -> None:
        if not self._queued:
            return
        self._queued = False
        while (row := self.store.outbox.claim_next()) is not None:
            self._ts += 1
            ts = f"{int(at.timestamp())}.{self._ts:06d}"
            sent = self._describe(row, at)
            self.store.outbox.mark_sent(row, ts, row.channel)
            self._at_of_ts[ts] = at
            if keep is not None and sent is not None:
                keep.append(sent)

    def _describe(self, row: OutboxMessage, at: datetime) -> Sent | None:
        if row.kind is OutboxKind.EPHEMERAL:
            return None
        incident: Incident | None = (
            self.store.incidents.get(row.incident_id) if row.incident_id is not None else None
        )
        about = incident
        member = rollup_member(row.dedupe_key)
        if member is not None:
            about = self.store.incidents.get(member)  # an alert in a roll-up's thread
        update_of = None
        if row.kind is OutboxKind.UPDATE:
            target = incident.message_ts if incident is not None else row.payload.get("ts")
            update_of = self._at_of_ts.get(str(target)) if target else None
        text = str(row.payload.get("text") or "")
        upload = row.payload.get("file")
        if isinstance(upload, dict):
            # A file into a report's thread (the weekly chart): part of that report's story.
            size = len(base64.b64decode(str(upload.get("content_b64") or "")))
            text = f"📎 chart: {upload.get('filename') or 'file'} ({size} bytes) — {text}"
            parent = row.payload.get("thread_ts")
            update_of = self._at_of_ts.get(str(parent)) if parent else None
        return Sent(
            at=at,
            channel=row.channel,
            kind=_kind(row, about, rollup_entry=member is not None),
            job=_job(about),
            update_of=update_of,
            text=text,
            blocks=list(row.payload.get("blocks") or []),
        )


def _kind(row: OutboxMessage, incident: Incident | None, *, rollup_entry: bool) -> str:
    key = row.dedupe_key
    if incident is None:
        return "weekly_report" if "weekly" in key else "digest"
    kind = incident.kind
    if kind == IncidentKind.FAILURE:
        if rollup_entry:
            return "failure"
        # The recovery's edit and thread line, and any later edit of a recovered alert (its
        # run's cost found in billing): the message as it then reads says "recovered".
        late_edit = row.kind is OutboxKind.UPDATE and not incident.is_open
        return "recovered" if ":resolved:" in key or late_edit else "failure"
    if kind == IncidentKind.COST_ANOMALY:
        return "cost_anomaly"
    if kind == IncidentKind.MISSED_RUN:
        return "missed_run"
    if kind == IncidentKind.SLA:
        return SLA_KINDS.get(_sla_state(row, incident), "sla_at_risk")
    if incident.key.startswith("health:"):
        return "restored" if not incident.is_open or ":restored" in key else "degraded"
    return "rollup"


# SLA states (bot.monitors.sla.SlaState, and "closed") → kinds; see the module docstring for
# the states without a kind of their own.
SLA_KINDS = {
    "at_risk": "sla_at_risk",
    "breached": "sla_breached",
    "met_late": "sla_met_late",
    "met": "recovered",
    "pending": "recovered",
    "closed": "sla_breached",
}


def _sla_state(row: OutboxMessage, incident: Incident) -> str:
    """The state an SLA message is about: the one its dedupe key names (an update or thread
    line is keyed "incident:<id>:update:<state>:<version>"), else the incident's own (a first
    post, or an alert in a roll-up's thread)."""
    parts = row.dedupe_key.split(":")
    keyed = len(parts) >= 4 and parts[0] == "incident" and parts[2] in ("update", "thread")
    if keyed and parts[3] in SLA_KINDS:
        return parts[3]
    return str((incident.detail or {}).get("state") or "")


def _job(incident: Incident | None) -> dict[str, str | None] | None:
    if incident is None or not incident.job_id:
        return None
    return {
        "workspace_id": incident.workspace_id,
        "job_id": incident.job_id,
        "name": incident.job_name,
    }


def _tick_after(start: datetime, instant: datetime, step: timedelta) -> datetime:
    """The first poll tick (start + k·step) strictly after `instant`: a poll reads run ends
    before its own instant (`runs_ended` until is exclusive)."""
    if instant < start:
        return start + step
    return start + ((instant - start) // step + 1) * step


def _fires(trigger: Any, start: datetime, end: datetime) -> Iterable[datetime]:
    previous = None
    now = start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or as_utc(fire) >= end:
            return
        fire = as_utc(fire)
        if fire > start:
            yield fire
        previous = fire
        now = fire + timedelta(seconds=1)


def _iso(at: datetime) -> str:
    return as_utc(at).isoformat().replace("+00:00", "Z")
