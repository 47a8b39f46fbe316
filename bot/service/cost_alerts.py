"""The use case "a job's cost jumped": the scheduled cost scan (`CostScan.run`, per the
`schedules.cost_scan` cron) reads the anomaly candidates from the warehouse, decides with
`bot.monitors.cost`, and keeps one cost-anomaly incident (and one Slack message) per job and
billing day, updated in place as the day's cost grows.

This module owns the scan itself: which days and scopes it reads, deciding, the overlap rule
applied per day, opening / bumping / updating / resolving the incidents and queueing their
messages in the outbox. Its parts: `cost_candidates` (query rows → monitor candidates),
`cost_scopes` (workspace / SKU subjects, their movers, the overlap rule), `cost_details` (what
an incident records), `cost_feedback` (the feedback read back), `cost_alert_view` (the
message).

Scopes (`cost.anomaly_scopes` in the config, default [job]): besides each job, a workspace's
whole spend (every usage row of it, job or not) and a SKU's spend across the account can be
watched, from `cost_scope_anomaly_candidates` and decided by the same monitor rules (score,
sensitivity, minimum amount, feedback). Their likely cause is what moved inside them
(`cost_scope_movers`, asked for the anomalies only): the jobs whose cost rose most, with the
SKUs that rose (a workspace) or the workspaces that rose (a SKU), each with its amounts.
Incident keys: a job's is (workspace, job, "job:<day>"); a workspace's (workspace, "",
"workspace:<day>"); a SKU's ("", "", "sku:<sku>:<day>"). Feedback subjects: "<workspace_id>/
<job_id>", "<workspace_id>", "<sku_name>" under scopes job, workspace, sku: the button's key
is "<scope>:<subject>", which the click listener stores as it is.

Which day: billing dates usage by UTC `usage_date`, and the baseline (median and MAD of the
previous 14 days) is computed per such day, so an incident's key is "job:<usage_date>". The
scan checks today and yesterday: billing lands up to ~12 h late, so yesterday's cost is
still growing this morning.

One alert per job and day: the incident counts the anomaly once under the run id
"anomaly:<day>" (the store's idempotent count), so a later scan of the same day, a restart,
or a second replica never posts again; it only updates the message when what it shows (the
cost, the causes, the feedback) changed, with a thread line when the cost grew by more than
GROWTH_NOTE since the last line.

Feedback (the Expected / Not an anomaly buttons) is read back on every scan: its effects
are in `bot.service.cost_feedback`; the message shows it (`render`), and a click can
re-render it at once with `refresh(incident_id)`.

One cause, one message: a workspace or SKU anomaly mostly explained by job alerts of the same
day is not posted on its own (the overlap rule, see `bot.service.cost_scopes`); the skipped
subject is logged here at INFO.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from bot.clock import Clock, as_utc
from bot.config import Config
from bot.errors import UserError
from bot.monitors import cost as monitor
from bot.render import Renderer
from bot.render.formatting import money
from bot.service.cost_alert_view import CostAlertMessages, CostAlertView
from bot.service.cost_candidates import (
    SCOPE_JOB,
    SCOPE_SKU,
    SCOPE_WORKSPACE,
    Found,
    job_candidate,
    scope_candidate,
    subject,
)
from bot.service.cost_details import CostDetails
from bot.service.cost_feedback import CostFeedback
from bot.service.cost_scopes import MOVERS_SHOWN, CostScopes, scope_key
from bot.service.ports import Warehouse
from bot.store.records import Incident, IncidentKey, IncidentKind, OutboxKind
from bot.warehouse import queries

log = logging.getLogger(__name__)

# A thread line says "now $X" when the day's cost grew by more than this since the last line;
# smaller changes only refresh the message.
GROWTH_NOTE = 0.10
# The component name the scan reports to `Health` when the warehouse fails or answers.
WAREHOUSE = "warehouse"


class StorePort(Protocol):
    """bot.store.Store by shape: the parts this use case touches."""

    incidents: Any
    outbox: Any
    feedback: Any


class HealthPort(Protocol):
    def record(self, component: str, ok: bool, error: str | None = None) -> object: ...


class RouterPort(Protocol):
    """bot.service.rollup.Rollup by shape: decides whether a first post goes alone."""

    def route(self, channel: str, incident: Incident, message: dict[str, Any]) -> bool: ...


@dataclass
class ScanOutcome:
    days: tuple[date, ...] = ()
    candidates: int = 0
    anomalies: int = 0
    posted: int = 0
    updated: int = 0
    resolved: int = 0
    suppressed: int = 0  # workspace / SKU anomalies left to the job alerts that explain them
    errors: list[str] = field(default_factory=list)


class CostScan:
    """Scans daily cost per job for anomalies and keeps their alerts in the outbox."""

    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        renderer: Renderer,
        store: StorePort,
        warehouse: Warehouse,
        on_enqueue: Callable[[], None] | None = None,
        health: HealthPort | None = None,
        router: RouterPort | None = None,
        owner_lookup: Callable[[str], str | None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.renderer = renderer
        self.store = store
        self.warehouse = warehouse
        self.health = health
        self.router = router
        self._poke = on_enqueue or (lambda: None)
        self._owner_lookup = owner_lookup
        self._lock = threading.Lock()
        self._feedback = CostFeedback(store)
        self._scopes = CostScopes(config)
        self._details = CostDetails(
            config=config, warehouse=warehouse, scopes=self._scopes, owner_lookup=owner_lookup
        )
        self._messages = CostAlertMessages(
            config=config, renderer=renderer, feedback=self._feedback
        )

    @property
    def sensitivity(self) -> monitor.Sensitivity:
        return monitor.Sensitivity(
            threshold=self.config.cost.anomaly_sensitivity,
            min_amount=self.config.cost.min_daily_amount,
        )

    # -- the scan ------------------------------------------------------------------------

    def run(self, now: datetime | None = None) -> ScanOutcome:
        """One scan (today and yesterday, UTC billing days). Raises nothing: a warehouse
        error is logged, reported to `health`, and the next scan tries again."""
        at = as_utc(now) if now is not None else self.clock.now()
        today = at.date()
        days = (today - timedelta(days=1), today)
        out = ScanOutcome(days=days)
        with self._lock:
            try:
                found = {day: self._decide(day, at, out) for day in days}
            except UserError as e:
                out.errors.append(str(e))
                log.warning("cost scan: %s", e)
                if self.health is not None:
                    self.health.record(WAREHOUSE, False, str(e))
                return out
            if self.health is not None:
                self.health.record(WAREHOUSE, True)
            known = self._known(days)
            for day in days:
                kept, notes = self._overlaps(found[day], day, known, out)
                for found_one in kept:
                    self._alert(found_one, day, at, out, notes)
            self._settle(days, at, out)
        return out

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.config.cost.anomaly_scopes)

    def _decide(self, day: date, at: datetime, out: ScanOutcome) -> list[Found]:
        decided: list[Found] = []
        if SCOPE_JOB in self.scopes:
            rows = queries.cost_anomaly_candidates(self.warehouse, day=day)
            out.candidates += len(rows)
            for row in rows:
                candidate = job_candidate(row, day)
                marks = self._feedback.marks(SCOPE_JOB, subject(row), day)
                decision = monitor.decide(candidate, self.sensitivity, marks)
                if decision.is_anomaly:
                    decided.append(Found(decision, job=row))
        for scope in (s for s in self.scopes if s != SCOPE_JOB):
            scoped = queries.cost_scope_anomaly_candidates(self.warehouse, day=day, scope=scope)
            out.candidates += len(scoped)
            for srow in scoped:
                candidate = scope_candidate(srow, day, ())
                marks = self._feedback.marks(scope, srow.subject, day)
                decision = monitor.decide(candidate, self.sensitivity, marks)
                if not decision.is_anomaly:
                    continue
                # What moved inside it: asked only for the anomalies, then decided again
                # with them (same verdict; the causes now name the movers).
                movers = tuple(
                    queries.cost_scope_movers(
                        self.warehouse,
                        day=day,
                        scope=scope,
                        subject=srow.subject,
                        limit=MOVERS_SHOWN,
                    )
                )
                candidate = scope_candidate(srow, day, movers)
                decision = monitor.decide(candidate, self.sensitivity, marks)
                decided.append(Found(decision, scope=srow, movers=movers))
        decided.sort(key=lambda f: (-f.decision.excess, f.decision.candidate.key))
        out.anomalies += len(decided)
        return decided

    def _known(self, days: Sequence[date]) -> set[IncidentKey]:
        """The keys of the cost incidents the scanned days already have, open or resolved."""
        since = datetime.combine(min(days), time.min, tzinfo=UTC)
        found = self.store.incidents.open_or_resolved_since(IncidentKind.COST_ANOMALY, since)
        return {incident.incident_key for incident in found}

    def _overlaps(
        self, found: Sequence[Found], day: date, known: set[IncidentKey], out: ScanOutcome
    ) -> tuple[list[Found], dict[str, list[str]]]:
        """The anomalies to alert and, per job, the subjects it explains (`CostScopes.overlaps`);
        each subject skipped is counted and logged."""
        if SCOPE_JOB not in self.scopes:
            return list(found), {}
        overlap = self._scopes.overlaps(found, day, known)
        cur = self.config.cost.currency
        for s in overlap.suppressed:
            out.suppressed += 1
            log.info(
                "cost scan: %s on %s not alerted on its own: %s of its +%s rise is %s, "
                "alerted as jobs",
                s.title,
                day.isoformat(),
                money(s.explained, cur),
                money(s.rise, cur),
                ", ".join(s.labels),
            )
        return overlap.kept, overlap.notes

    def _alert(
        self,
        found: Found,
        day: date,
        at: datetime,
        out: ScanOutcome,
        notes: dict[str, list[str]] | None = None,
    ) -> None:
        d = found.decision
        if found.job is not None:
            row = found.job
            key = IncidentKey(row.workspace_id, row.job_id, IncidentKind.COST_ANOMALY, f"job:{day}")
            detail = self._details.job(d, row, day, at)
            also = (notes or {}).get(d.candidate.key)
            if also:
                detail["also_explains"] = also
            label = row.name
        else:
            assert found.scope is not None
            key = scope_key(found.scope, day)
            detail = self._details.scope(d, found.scope, found.movers, day, at)
            label = str(detail["title"])
        current = self.store.incidents.find_open(key)
        if current is None:
            outcome = self.store.incidents.open_or_bump_failure(
                key, f"anomaly:{day}", at, detail["summary"], job_name=label, detail=detail
            )
            if not outcome.created:
                return  # this subject and day were alerted before (and resolved): never again
            channel = detail["channel"]
            message = self.render(outcome.incident)
            routed = self.router is not None and self.router.route(
                channel, outcome.incident, message
            )
            if not routed:
                self.store.outbox.enqueue(
                    dedupe_key=f"incident:{outcome.incident.id}:post",
                    channel=channel,
                    kind=OutboxKind.POST,
                    payload=message,
                    incident_id=outcome.incident.id,
                )
            out.posted += 1
            self._poke()
            return
        before = dict(current.detail or {})
        detail["first_cost"] = before.get("first_cost", detail["cost"])
        detail["noted_cost"] = before.get("noted_cost", detail["first_cost"])
        grew = detail["cost"] > float(detail["noted_cost"]) * (1 + GROWTH_NOTE)
        if grew:
            detail["noted_cost"] = detail["cost"]
        if self._shown(detail) == self._shown(before) and not grew:
            return
        incident = self.store.incidents.set_detail(current.id, detail) or current
        channel = incident.channel or detail["channel"]
        self._update(incident, channel)
        out.updated += 1
        if grew:
            cur = self.config.cost.currency
            line = (
                f"📈 Now {money(detail['cost'], cur)} on {day.isoformat()} "
                f"(first alerted at {money(float(detail['first_cost']), cur)}; "
                f"usually {money(detail['baseline'], cur)})."
            )
            self._thread(incident, channel, f"grew:{_cents(detail['cost'])}", line)

    def _settle(self, days: Sequence[date], at: datetime, out: ScanOutcome) -> None:
        """Open alerts the scan no longer keeps open: days it stopped scanning (billing is
        settled by then) resolve silently; days with feedback resolve and show it."""
        for incident in self.store.incidents.open_incidents(IncidentKind.COST_ANOMALY):
            d = incident.detail or {}
            if d.get("scope") not in (SCOPE_JOB, SCOPE_WORKSPACE, SCOPE_SKU):
                continue
            day = date.fromisoformat(str(d.get("day")))
            verdict = self._feedback.verdict(incident)
            if verdict is not None:
                resolved = self.store.incidents.resolve(incident.incident_key, at)
                if resolved is not None:
                    self._update(resolved, resolved.channel or str(d.get("channel")))
                    out.resolved += 1
            elif day < min(days) and self.store.incidents.resolve(incident.incident_key, at):
                out.resolved += 1

    # -- messages ------------------------------------------------------------------------

    def render(self, incident: Incident) -> dict[str, Any]:
        """The incident's message as it stands now, feedback included (post or update)."""
        return self._messages.render(incident)

    def refresh(self, incident_id: int) -> bool:
        """Re-render the alert in place (after a feedback click). False if it is unknown or
        has no message yet (the next scan shows the feedback then)."""
        incident = self.store.incidents.get(incident_id)
        if incident is None or incident.kind != IncidentKind.COST_ANOMALY:
            return False
        channel = incident.channel or (incident.detail or {}).get("channel")
        if not channel:
            return False
        self._update(incident, str(channel))
        return True

    def view(self, incident: Incident) -> CostAlertView:
        return self._messages.view(incident)

    def _update(self, incident: Incident, channel: str) -> None:
        message = self.render(incident)
        # The dedupe key carries what the message shows, so the same state is sent once and
        # a change (cost, feedback, resolution) is always sent.
        signature = _digest(message)
        self.store.outbox.enqueue(
            dedupe_key=f"incident:{incident.id}:update:{signature}",
            channel=channel,
            kind=OutboxKind.UPDATE,
            payload=message,
            incident_id=incident.id,
        )
        self._poke()

    def _thread(self, incident: Incident, channel: str, why: str, line: str) -> None:
        message = self.renderer.render("alert_thread.json.j2", line=line, quote=None)
        self.store.outbox.enqueue(
            dedupe_key=f"incident:{incident.id}:thread:{why}",
            channel=channel,
            kind=OutboxKind.THREAD_REPLY,
            payload=message,
            incident_id=incident.id,
        )
        self._poke()

    def _shown(self, detail: dict[str, Any]) -> tuple[Any, ...]:
        return (
            _cents(detail.get("cost", 0.0)),
            tuple(detail.get("causes") or ()),
            tuple(detail.get("also_explains") or ()),
        )


def _cents(value: object) -> int:
    return round(float(value) * 100)  # type: ignore[arg-type]


def _digest(message: dict[str, Any]) -> str:
    text = json.dumps(message, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
