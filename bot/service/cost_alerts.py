"""The use case "a job's cost jumped": the scheduled cost scan (`CostScan.run`, per the
`schedules.cost_scan` cron) reads the anomaly candidates from the warehouse, decides with
`bot.monitors.cost`, and keeps one cost-anomaly incident (and one Slack message) per job and
billing day, updated in place as the day's cost grows.

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

Feedback (the Expected / Not an anomaly buttons, recorded by the click listener in
`store.feedback` under scope "job" and subject "<workspace_id>/<job_id>"), read back here
on every scan:
- **Expected** for a day: that job (workspace, SKU) raises nothing more on that day; its
  open alert resolves and shows who marked it.
- **Not an anomaly** for a day: from that day on, for FEEDBACK_MEMORY_DAYS, the subject's
  threshold is multiplied by 1.5 per mark (at most 3 marks, ×3.4): a jump like the one
  marked no longer alerts, a much bigger one still does. Its open alert resolves too.
The message shows the feedback either way (`render`), and a click can re-render it at once
with `refresh(incident_id)`.

One cause, one message: with the job scope on beside others, a job's spike would also be its
workspace's and its SKU's. So each scan decides the job anomalies first, and a workspace or SKU
anomaly (of the same billing day) is not posted when most of its rise (today's cost − its
usual) is the rise of jobs that have a job-scope cost alert for that day: those jobs' own
increases inside it (the job movers the scan reads from `cost_scope_movers`, at most
MOVERS_SHOWN of them) add up to at least EXPLAINED_SHARE of the subject's rise. "Has a job
alert for the day" means decided an anomaly in this scan, or an incident of that job and day
already open or resolved (by feedback too: an "expected" answer to the job's alert covers the
same money in its workspace). The skipped subject is logged at INFO and named in one line of
those jobs' messages ("also most of the rise of workspace prod-emea"). It is judged again on
every scan, so when its unexplained part grows (other jobs, non-job usage, a SKU no alerted job
uses) it alerts then; once it has an incident it is never skipped again, just updated in place
(or left alone once resolved), so it stays one message. With the job scope off, nothing is
skipped.
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

from bot import actions
from bot.clock import Clock, as_utc
from bot.config import Config
from bot.errors import UserError
from bot.models import CostAnomalyCandidate, CostMover, CostScopeCandidate, JobKey
from bot.monitors import cost as monitor
from bot.render import Renderer
from bot.render.formatting import money
from bot.render.mrkdwn import truncate_text
from bot.service.common import amount, job_url, num, workspace_host, workspace_label
from bot.service.phrases import cause_text
from bot.service.ports import Warehouse
from bot.store.records import AnomalyFeedback, Incident, IncidentKey, IncidentKind, OutboxKind
from bot.store.records import Verdict as FeedbackVerdict
from bot.warehouse import queries

log = logging.getLogger(__name__)

SCOPE_JOB = "job"
SCOPE_WORKSPACE = "workspace"
SCOPE_SKU = "sku"
# Parts of a workspace / SKU anomaly listed in its message, per kind (jobs; SKUs or
# workspaces); the rest are counted ("and 3 more").
MOVERS_SHOWN = 5
# Of those, how many the one-line cause (and the text fallback) names.
MOVERS_IN_CAUSE = 3
# A "not an anomaly" mark raises the job's threshold for this long; after it, the job is
# judged on its baseline alone again (a job's normal changes over a quarter).
FEEDBACK_MEMORY_DAYS = 90
# A thread line says "now $X" when the day's cost grew by more than this since the last line;
# smaller changes only refresh the message.
GROWTH_NOTE = 0.10
# A workspace / SKU anomaly is not posted on its own when jobs with a job-scope alert for the
# same day explain at least this share of its rise (their increases inside it ÷ its cost −
# usual): "mostly the same cause". Below it, the rest is news (other jobs, non-job usage).
EXPLAINED_SHARE = 0.80
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


@dataclass(frozen=True)
class CostAlertView:
    """The cost-anomaly alert as its template sees it (plain values; the template formats)."""

    incident_id: int
    scope: str
    name: str
    name_url: str | None
    workspace: str
    day: date
    day_phrase: str
    cost: float
    baseline: float
    excess: float
    ratio: float | None
    z: float
    threshold: float
    first_cost: float
    grew: bool
    causes: tuple[str, ...]
    owner: str | None
    owner_id: str | None
    currency: str
    sensitivity: float
    min_amount: float
    open: bool
    feedback_verdict: str | None  # "expected" / "not_anomaly"
    feedback_by: str | None
    feedback_at: datetime | None
    expected_value: str
    not_anomaly_value: str
    # Workspace / SKU scope (empty for a job): what rose inside it.
    subject_noun: str = "job"  # "job", "workspace", "SKU": in the feedback lines
    jobs: tuple[MoverLine, ...] = ()
    jobs_more: int = 0
    parts_title: str = ""  # "SKUs that rose" / "Workspaces that rose"
    parts: tuple[MoverLine, ...] = ()
    parts_more: int = 0
    scope_note: str = ""  # what the scope's cost counts
    other_causes: tuple[str, ...] = ()  # the causes that are not lists of movers
    # Job scope: the workspaces / SKUs whose rise this job's alert mostly explains, so they
    # have no alert of their own ("workspace prod-emea", "SKU X (with ingest_b)").
    also_explains: tuple[str, ...] = ()


@dataclass(frozen=True)
class MoverLine:
    """One job, SKU or workspace behind a workspace / SKU anomaly, as its template shows it."""

    label: str
    url: str | None
    cost: float
    usual: float
    increase: float


@dataclass(frozen=True)
class _Found:
    """An anomaly the scan decided, with the row it came from (job or workspace / SKU)."""

    decision: monitor.Decision
    job: CostAnomalyCandidate | None = None
    scope: CostScopeCandidate | None = None
    movers: tuple[CostMover, ...] = ()


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

    def _decide(self, day: date, at: datetime, out: ScanOutcome) -> list[_Found]:
        decided: list[_Found] = []
        if SCOPE_JOB in self.scopes:
            rows = queries.cost_anomaly_candidates(self.warehouse, day=day)
            out.candidates += len(rows)
            for row in rows:
                candidate = _candidate(row, day)
                marks = self._feedback(SCOPE_JOB, _subject(row), day)
                decision = monitor.decide(candidate, self.sensitivity, marks)
                if decision.is_anomaly:
                    decided.append(_Found(decision, job=row))
        for scope in (s for s in self.scopes if s != SCOPE_JOB):
            scoped = queries.cost_scope_anomaly_candidates(self.warehouse, day=day, scope=scope)
            out.candidates += len(scoped)
            for srow in scoped:
                candidate = _scope_candidate(srow, day, ())
                marks = self._feedback(scope, srow.subject, day)
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
                candidate = _scope_candidate(srow, day, movers)
                decision = monitor.decide(candidate, self.sensitivity, marks)
                decided.append(_Found(decision, scope=srow, movers=movers))
        decided.sort(key=lambda f: (-f.decision.excess, f.decision.candidate.key))
        out.anomalies += len(decided)
        return decided

    def _known(self, days: Sequence[date]) -> set[IncidentKey]:
        """The keys of the cost incidents the scanned days already have, open or resolved."""
        since = datetime.combine(min(days), time.min, tzinfo=UTC)
        found = self.store.incidents.open_or_resolved_since(IncidentKind.COST_ANOMALY, since)
        return {incident.incident_key for incident in found}

    def _overlaps(
        self, found: Sequence[_Found], day: date, known: set[IncidentKey], out: ScanOutcome
    ) -> tuple[list[_Found], dict[str, list[str]]]:
        """The anomalies to alert, without the workspaces / SKUs mostly explained by jobs
        alerted for the day (see the module docstring), and for each such job (by its
        candidate key) the subjects it explains, for its message."""
        if SCOPE_JOB not in self.scopes:
            return list(found), {}
        alerted = {f.decision.candidate.key for f in found if f.job is not None}
        alerted |= {
            f"{SCOPE_JOB}:{k.workspace_id}/{k.job_id}" for k in known if k.key == f"job:{day}"
        }
        skipped: set[int] = set()
        notes: dict[str, list[str]] = {}
        # Workspaces before SKUs in a job's line, whatever their rises.
        rank = {SCOPE_WORKSPACE: 0, SCOPE_SKU: 1}
        for f in sorted(found, key=lambda f: rank.get(f.scope.scope if f.scope else "", -1)):
            if f.scope is None or _scope_key(f.scope, day) in known:
                continue  # a job, or a subject alerted before: as always
            rise = f.decision.excess
            behind = [
                m
                for m in f.movers
                if m.kind == "job"
                and m.job_id
                and m.increase > 0
                and f"{SCOPE_JOB}:{_mover_key(m)}" in alerted
            ]
            explained = sum(m.increase for m in behind)
            if rise <= 0 or explained < EXPLAINED_SHARE * rise:
                continue
            skipped.add(id(f))
            out.suppressed += 1
            title = self._scope_title(f.scope)
            labels = [self._mover_label(m, f.scope.scope) for m in behind]
            cur = self.config.cost.currency
            log.info(
                "cost scan: %s on %s not alerted on its own: %s of its +%s rise is %s, "
                "alerted as jobs",
                title,
                day.isoformat(),
                _money(explained, cur),
                _money(rise, cur),
                ", ".join(labels),
            )
            for m, label in zip(behind, labels, strict=True):
                others = [x for x in labels if x != label]
                note = title + (f" (with {', '.join(others)})" if others else "")
                notes.setdefault(f"{SCOPE_JOB}:{_mover_key(m)}", []).append(note)
        return [f for f in found if id(f) not in skipped], notes

    def _scope_title(self, row: CostScopeCandidate) -> str:
        if row.scope == SCOPE_WORKSPACE:
            return f"workspace {workspace_label(self.config, row.subject)}"
        return f"SKU {row.subject}"

    def _feedback(self, scope: str, subject: str, day: date) -> list[monitor.Feedback]:
        since = day - timedelta(days=FEEDBACK_MEMORY_DAYS)
        given: list[AnomalyFeedback] = self.store.feedback.for_subject(scope, subject, since)
        return [
            monitor.Feedback(key=f"{scope}:{subject}", day=f.day, kind=f.verdict.value)
            for f in given
        ]

    def _alert(
        self,
        found: _Found,
        day: date,
        at: datetime,
        out: ScanOutcome,
        notes: dict[str, list[str]] | None = None,
    ) -> None:
        d = found.decision
        if found.job is not None:
            row = found.job
            key = IncidentKey(row.workspace_id, row.job_id, IncidentKind.COST_ANOMALY, f"job:{day}")
            detail = self._detail(d, row, day, at)
            also = (notes or {}).get(d.candidate.key)
            if also:
                detail["also_explains"] = also
            label = row.name
        else:
            assert found.scope is not None
            key = _scope_key(found.scope, day)
            detail = self._scope_detail(d, found.scope, found.movers, day, at)
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
                f"📈 Now {_money(detail['cost'], cur)} on {day.isoformat()} "
                f"(first alerted at {_money(float(detail['first_cost']), cur)}; "
                f"usually {_money(detail['baseline'], cur)})."
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
            verdict = self._verdict(incident)
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
        view = self.view(incident)
        template = "alert_cost.json.j2" if view.scope == SCOPE_JOB else "alert_cost_scope.json.j2"
        return self.renderer.render(template, a=view, ids=actions.TEMPLATE_IDS)

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
        d: dict[str, Any] = dict(incident.detail or {})
        day = date.fromisoformat(str(d["day"]))
        mark = self._mark(incident)
        value = actions.encode(key=str(d["key"]), day=day, alert_id=str(incident.id))
        cost = float(d["cost"])
        first = float(d.get("first_cost", cost))
        scope = str(d.get("scope") or SCOPE_JOB)
        movers: dict[str, Any] = dict(d.get("movers") or {})
        parts_kind = "workspace" if scope == SCOPE_SKU else "sku"
        return CostAlertView(
            incident_id=incident.id,
            scope=scope,
            name=str(d.get("name") or incident.job_name or f"job {incident.job_id}"),
            name_url=d.get("job_url"),
            workspace=str(d.get("workspace") or incident.workspace_id),
            day=day,
            day_phrase=f"{day:%a %d %b}",
            cost=cost,
            baseline=float(d["baseline"]),
            excess=cost - float(d["baseline"]),
            ratio=d.get("ratio"),
            z=float(d["z"]),
            threshold=float(d["threshold"]),
            first_cost=first,
            grew=cost > first + 0.005,
            causes=tuple(d.get("causes") or ()),
            owner=d.get("owner"),
            owner_id=d.get("owner_id"),
            currency=str(d.get("currency") or self.config.cost.currency),
            sensitivity=self.config.cost.anomaly_sensitivity,
            min_amount=self.config.cost.min_daily_amount,
            open=incident.is_open,
            feedback_verdict=mark.verdict.value if mark else None,
            feedback_by=mark.given_by if mark else None,
            feedback_at=mark.at if mark else None,
            expected_value=value,
            not_anomaly_value=value,
            subject_noun={SCOPE_SKU: "SKU"}.get(scope, scope),
            jobs=_lines(movers.get("job")),
            jobs_more=int(dict(d.get("movers_more") or {}).get("job", 0)),
            parts_title="Workspaces that rose" if scope == SCOPE_SKU else "SKUs that rose",
            parts=_lines(movers.get(parts_kind)) if scope != SCOPE_JOB else (),
            parts_more=int(dict(d.get("movers_more") or {}).get(parts_kind, 0)),
            scope_note=str(d.get("scope_note") or ""),
            other_causes=tuple(d.get("other_causes") or ()),
            also_explains=tuple(d.get("also_explains") or ()),
        )

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

    # -- facts ---------------------------------------------------------------------------

    def _mark(self, incident: Incident) -> AnomalyFeedback | None:
        d = incident.detail or {}
        scope, _, subject = str(d.get("key") or "").partition(":")
        day = date.fromisoformat(str(d["day"]))
        given: list[AnomalyFeedback] = self.store.feedback.for_subject(scope, subject, day)
        return next((f for f in given if f.day == day), None)

    def _verdict(self, incident: Incident) -> FeedbackVerdict | None:
        mark = self._mark(incident)
        return mark.verdict if mark is not None else None

    def _shown(self, detail: dict[str, Any]) -> tuple[Any, ...]:
        return (
            _cents(detail.get("cost", 0.0)),
            tuple(detail.get("causes") or ()),
            tuple(detail.get("also_explains") or ()),
        )

    def _detail(
        self, d: monitor.Decision, row: CostAnomalyCandidate, day: date, at: datetime
    ) -> dict[str, Any]:
        c = d.candidate
        routing = None
        try:
            routing = queries.job_routing(
                self.warehouse, JobKey(row.workspace_id, row.job_id), now=at
            )
        except UserError as e:
            log.info("routing facts of %s/%s: %s", row.workspace_id, row.job_id, e)
        tags = _tags(routing.tags_json) if routing is not None else {}
        name = row.name or (routing.name if routing else None) or f"job {row.job_id}"
        channel = self.config.route_channel(name, row.workspace_id, row.job_id, tags)
        owner = row.owner or (routing.owner if routing else None)
        currency = self.config.cost.currency
        causes = [cause_text(cause) for cause in d.causes]
        summary = (
            f"{name}: {_money(c.cost, currency)} on {day.isoformat()} vs a usual "
            f"{_money(c.median, currency)}"
        )
        return {
            "scope": SCOPE_JOB,
            "key": c.key,
            "day": day.isoformat(),
            "name": name,
            "workspace": workspace_label(self.config, row.workspace_id),
            "job_url": job_url(workspace_host(self.config, row.workspace_id), row.job_id),
            "channel": channel,
            "cost": round(c.cost, 2),
            "baseline": round(c.median, 2),
            "mad": c.mad,
            "ratio": round(d.ratio, 2) if d.ratio is not None else None,
            "z": round(d.z, 1),
            "threshold": round(d.threshold, 2),
            "causes": causes,
            "runs": c.runs,
            "baseline_runs": c.baseline_runs,
            "owner": owner,
            "owner_id": self._owner_id(owner),
            "currency": currency,
            "first_cost": round(c.cost, 2),
            "summary": summary,
            "seen_at": at.isoformat(),
        }

    def _scope_detail(
        self,
        d: monitor.Decision,
        row: CostScopeCandidate,
        movers: Sequence[CostMover],
        day: date,
        at: datetime,
    ) -> dict[str, Any]:
        c = d.candidate
        currency = self.config.cost.currency
        title = self._scope_title(row)
        if row.scope == SCOPE_WORKSPACE:
            where = workspace_label(self.config, row.subject)
            channel = self.config.route_channel(None, row.subject, None, {})
            url = workspace_host(self.config, row.subject)
            note = "every usage row of the workspace: jobs, all-purpose compute, SQL, storage"
        else:
            where = "all workspaces"
            channel = self.config.route_channel(None, None, None, {})
            url = None
            note = "this SKU's usage in every workspace"
        shown: dict[str, list[dict[str, Any]]] = {}
        more: dict[str, int] = {}
        for m in movers:
            shown.setdefault(m.kind, []).append(
                {
                    "label": self._mover_label(m, row.scope),
                    "url": self._mover_url(m),
                    "cost": round(amount(m.cost), 2),
                    "usual": round(m.expected_cost, 2),
                    "increase": round(m.increase, 2),
                }
            )
            more[m.kind] = max(int(m.parts) - len(shown[m.kind]), 0)
        labels = {(m.kind, _mover_key(m)): self._mover_label(m, row.scope) for m in movers}
        causes = [self._scope_cause_text(cause, labels, row.scope) for cause in d.causes]
        listed = (
            monitor.CauseKind.TOP_JOBS,
            monitor.CauseKind.SKUS_MOVED,
            monitor.CauseKind.WORKSPACES_MOVED,
        )
        others = [
            text for cause, text in zip(d.causes, causes, strict=True) if cause.kind not in listed
        ]
        summary = (
            f"{title}: {_money(c.cost, currency)} on {day.isoformat()} vs a usual "
            f"{_money(c.median, currency)}"
        )
        return {
            "scope": row.scope,
            "key": c.key,
            "day": day.isoformat(),
            "name": title,
            "title": title,
            "workspace": where,
            "job_url": url,
            "channel": channel,
            "cost": round(c.cost, 2),
            "baseline": round(c.median, 2),
            "mad": c.mad,
            "ratio": round(d.ratio, 2) if d.ratio is not None else None,
            "z": round(d.z, 1),
            "threshold": round(d.threshold, 2),
            "causes": causes,
            "movers": shown,
            "movers_more": more,
            "other_causes": others,
            "scope_note": note,
            "runs": c.runs,
            "baseline_runs": c.baseline_runs,
            "owner": None,
            "owner_id": None,
            "currency": currency,
            "first_cost": round(c.cost, 2),
            "summary": summary,
            "seen_at": at.isoformat(),
        }

    def _mover_label(self, m: CostMover, scope: str) -> str:
        if m.kind == "sku":
            return str(m.sku_name)
        ws = workspace_label(self.config, m.workspace_id)
        if m.kind == "workspace":
            return ws
        job = (m.name or f"job {m.job_id}") if m.job_id else "usage without a job id"
        return job if scope == SCOPE_WORKSPACE else f"{job} ({ws})"

    def _mover_url(self, m: CostMover) -> str | None:
        if m.kind != "job" or not m.job_id:
            return None
        return job_url(workspace_host(self.config, m.workspace_id), m.job_id)

    def _scope_cause_text(
        self, cause: monitor.Cause, labels: dict[tuple[str, str], str], scope: str
    ) -> str:
        k = monitor.CauseKind
        cur = self.config.cost.currency
        kinds = {k.TOP_JOBS: "job", k.SKUS_MOVED: "sku", k.WORKSPACES_MOVED: "workspace"}
        if cause.kind in kinds:
            kind = kinds[cause.kind]
            named = [
                f"{truncate_text(labels.get((kind, m.key), m.key), 60)} +{_money(m.increase, cur)}"
                for m in cause.movers[:MOVERS_IN_CAUSE]
            ]
            rest = len(cause.movers) - len(named) + cause.more
            if rest > 0:
                named.append(f"{rest} more")
            what = {"job": "jobs", "sku": "SKUs", "workspace": "workspaces"}[kind]
            return f"{what} up: {', '.join(named)}"
        if cause.kind is k.MORE_RUNS:
            return f"more job runs: {_count(cause.value or 0)} vs usually {cause.usual or 0:g}"
        if cause.kind is k.NEW_SKUS:
            if scope == SCOPE_SKU:
                return "a new SKU: not billed anywhere in the previous 28 days"
            return f"new SKU in the workspace: {', '.join(cause.new)}"
        if cause.kind is k.NEW_WORKSPACES:
            names = ", ".join(workspace_label(self.config, ws) for ws in cause.new)
            return f"first billed in {names} (none there in the previous 28 days)"
        return cause_text(cause)

    def _owner_id(self, owner: str | None) -> str | None:
        if not owner:
            return None
        mapped = self.config.owner_slack_id(owner)
        if mapped:
            return mapped
        if self._owner_lookup is not None and "@" in owner:
            return self._owner_lookup(owner)
        return None


def _subject(row: CostAnomalyCandidate) -> str:
    # The same spelling the button carries after "job:" and the click listener stores.
    return f"{row.workspace_id}/{row.job_id}"


def _scope_key(row: CostScopeCandidate, day: date) -> IncidentKey:
    if row.scope == SCOPE_WORKSPACE:
        return IncidentKey(row.subject, "", IncidentKind.COST_ANOMALY, f"workspace:{day}")
    return IncidentKey("", "", IncidentKind.COST_ANOMALY, f"sku:{row.subject}:{day}")


def _mover_key(m: CostMover) -> str:
    if m.kind == "job":
        return f"{m.workspace_id}/{m.job_id or '-'}"
    return str(m.sku_name if m.kind == "sku" else m.workspace_id)


def _scope_candidate(
    row: CostScopeCandidate, day: date, movers: Sequence[CostMover]
) -> monitor.CostCandidate:
    median = num(row.expected_cost)
    if median is None:
        median = num(row.baseline_median) or 0.0
    counts: dict[str, int] = {}
    for m in movers:
        counts[m.kind] = int(m.parts)
    return monitor.CostCandidate(
        key=f"{row.scope}:{row.subject}",
        day=day,
        cost=amount(row.cost),
        median=median,
        mad=amount(row.baseline_mad),
        runs=row.runs,
        baseline_runs=amount(row.baseline_runs),
        new_skus=row.new_skus,
        new_workspaces=row.new_workspaces,
        name=row.subject,
        scope=row.scope,
        movers=tuple(
            monitor.Mover(
                kind=m.kind,  # type: ignore[arg-type]
                key=_mover_key(m),
                cost=amount(m.cost),
                usual=float(m.expected_cost),
                name=m.name,
            )
            for m in movers
        ),
        mover_counts=tuple(sorted(counts.items())),
    )


def _lines(raw: object) -> tuple[MoverLine, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        MoverLine(
            label=str(x.get("label") or ""),
            url=x.get("url"),
            cost=float(x.get("cost") or 0.0),
            usual=float(x.get("usual") or 0.0),
            increase=float(x.get("increase") or 0.0),
        )
        for x in raw
        if isinstance(x, dict)
    )


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _candidate(row: CostAnomalyCandidate, day: date) -> monitor.CostCandidate:
    # The query's expected_cost is the same-weekday-aware baseline: what "usual" means.
    median = num(row.expected_cost)
    if median is None:
        median = num(row.baseline_median) or 0.0
    return monitor.CostCandidate(
        key=f"{SCOPE_JOB}:{_subject(row)}",
        day=day,
        cost=amount(row.cost),
        median=median,
        mad=amount(row.baseline_mad),
        runs=row.runs,
        baseline_runs=amount(row.baseline_runs),
        avg_duration_s=num(row.avg_duration_seconds),
        baseline_duration_s=num(row.baseline_avg_duration_seconds),
        new_skus=row.new_skus,
        new_node_types=row.new_node_types,
        repairs=row.repaired_runs,
        baseline_repairs=amount(row.baseline_repaired_runs),
        name=row.name,
    )


def _tags(text: str) -> dict[str, str]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _cents(value: object) -> int:
    return round(float(value) * 100)  # type: ignore[arg-type]


def _money(value: float, currency: str) -> str:
    return money(value, currency)


def _digest(message: dict[str, Any]) -> str:
    text = json.dumps(message, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
