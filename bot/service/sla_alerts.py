"""The use case "is a job late for its SLA?": each check evaluates every SLA rule of the config
for every job it names, with the same pure decision and inputs as `/jobs sla`
(`bot.monitors.sla`, `bot.service.sla.day_runs`), and turns state changes into one living
incident message per rule, job and day.

Inputs: the job's recent runs and p90 from the system tables (cached for a few minutes: they
lag anyway), overlaid on workspaces with the Jobs API by the job's runs from runs/list
(real time: a run that started, is still running, or just succeeded is seen at once, which
is what makes "at risk", a running-too-long breach and "met late" timely). They are read by
`bot.service.sla_inputs`.

Incidents (kind SLA): one per rule, job and local day — key = rule id + day ("deadline
07:00/2026-03-02"); for a max_duration rule the day the judged run started, for a freshness
rule the day its success was due. Within one incident, each bad state is counted once
(`open_or_bump_failure` is idempotent per state), so at risk → breached → met late is one
POST, then UPDATEs of that message with a thread line each. An incident left open when its
day is over (never met) is closed then, so yesterday's breach does not linger as "open".

Max-duration and freshness rules can be broken more than once a day (an hourly job overrunning
every run; a feed overdue in the morning and again at night). Each breach is still judged on
its own — a run's overrun resolves (met late) or closes when that run ends, an overdue feed
when it next succeeds — but a later breach the same day does not post again: its incident is
joined to the day's message (the same Slack ts), which it updates, with a thread line ("🔴
Breached again today: …"). A watermark per rule and job ("sla-day") names the day's latest
incident; when that one has no message yet (muted, or still in the outbox), the new breach
posts its own. So a rule and job make at most one message a day, however often it breaks.
The keys and the day's marks are `bot.service.sla_days`; the message and its thread lines,
`bot.service.lateness_view`.

A first post goes through the roll-up when one is given (`router`), as failures' do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import actions
from bot.clock import Clock, as_utc
from bot.config import Config
from bot.models import FAILED_STATES, JobKey, RunSummary
from bot.monitors import sla as monitor
from bot.render import Renderer
from bot.render.formatting import clock_time
from bot.service.lateness import (
    DirectoryPort,
    JobLookup,
    LiveJobsPort,
    Publisher,
    RouterPort,
    StorePort,
)
from bot.service.lateness_view import sla_alert, sla_line
from bot.service.phrases import sla_reason
from bot.service.ports import Warehouse
from bot.service.sla import day_runs, describe_rule, spec_for
from bot.service.sla_days import (
    DayMarks,
    Target,
    another_breach,
    incident_key,
    iso,
    judged_day,
    parse,
    parse_day,
    rule_id,
    run_start,
    token_instant,
)
from bot.service.sla_inputs import SlaInputs
from bot.store.records import FailureOutcome, Incident, IncidentKey, IncidentKind

log = logging.getLogger(__name__)

S = monitor.SlaState
BAD = frozenset({S.AT_RISK, S.BREACHED})
GOOD = frozenset({S.MET, S.MET_LATE})


@dataclass
class SlaOutcome:
    rules: int = 0
    jobs: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    errors: list[str] = field(default_factory=list)


class SlaAlerts:
    """Evaluates the config's SLA rules and keeps their incidents and messages current."""

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
        warehouse_ttl: timedelta = timedelta(minutes=5),
        router: RouterPort | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.renderer = renderer
        self.store = store
        self.warehouse = warehouse
        self.jobs = JobLookup(config, clock, warehouse, jobs_api, directory)
        self.out = Publisher(store, clock, renderer, on_enqueue, router)
        self.inputs = SlaInputs(
            clock=clock, warehouse=warehouse, jobs=self.jobs, jobs_api=jobs_api,
            warehouse_ttl=warehouse_ttl,
        )  # fmt: skip
        self.marks = DayMarks(store)

    # -- the check -----------------------------------------------------------------------

    def check(self) -> SlaOutcome:
        """One round over every rule and job. Raises nothing: a rule whose inputs cannot be
        read is logged and tried again next round."""
        out = SlaOutcome()
        for rule in self.config.slas:
            out.rules += 1
            try:
                jobs = self.inputs.jobs_for(rule)
            except Exception as e:  # the warehouse is down: nothing to judge this round
                out.errors.append(f"{rule.job.describe()}: {e}")
                log.warning(
                    "SLA %s: cannot find its jobs: %s", rule.job.describe(), e, exc_info=True
                )
                continue
            spec = spec_for(rule, self.config.timezone)
            for job in jobs:
                out.jobs += 1
                try:
                    self._check_one(Target(rule, rule_id(rule), spec, job), out)
                except Exception as e:
                    out.errors.append(f"{job.name}: {e}")
                    log.warning("SLA %s of %s: %s", rule_id(rule), job.name, e, exc_info=True)
        return out

    def _check_one(self, t: Target, out: SlaOutcome) -> None:
        now = self.clock.now()
        runs = self.inputs.runs(t, now)
        history = day_runs(runs, t.spec.tz, now)
        p90 = self.inputs.p90(t.job, now)
        status = monitor.evaluate(t.spec, history, p90, now)
        current = incident_key(t, status)
        today = self.store.incidents.find_open(current)
        if today is not None and another_breach(t, today, status):
            # The day's open incident is about an earlier run (or an earlier due): that one
            # is judged and settled first; this one may then open (joining the day's message).
            self._settle(t, today, status, history, p90, runs, out)
        self._apply(t, status, current, runs, history, out)
        # Incidents of this rule and job for other days or runs: met since, or over.
        for incident in self.store.incidents.open_incidents(IncidentKind.SLA):
            same = (incident.workspace_id, incident.job_id) == (t.job.workspace_id, t.job.job_id)
            if same and incident.key.startswith(t.rule_id + "/") and incident.key != current.key:
                self._settle(t, incident, status, history, p90, runs, out)

    # -- state changes -------------------------------------------------------------------

    def _apply(
        self,
        t: Target,
        status: monitor.SlaStatus,
        key: IncidentKey,
        runs: Sequence[RunSummary],
        history: Sequence[monitor.DayRuns],
        out: SlaOutcome,
    ) -> None:
        now = self.clock.now()
        incident = self.store.incidents.find_open(key)
        before = (incident.detail or {}).get("state") if incident else None
        if status.state in BAD:
            if before == status.state and incident is not None:
                self._ensure_posted(incident)  # a crash may have come between claim and post
                return
            detail = self._detail(t, status, runs)
            token = f"{status.state}@{token_instant(t, status)}"
            at = status.deadline if status.state is S.BREACHED and status.deadline else now
            outcome, joined = self._open(t, key, token, min(as_utc(at), now), detail)
            incident = outcome.incident
            if not outcome.is_new_run:  # e.g. at risk again after being back on track
                incident = self.store.incidents.set_detail(incident.id, detail) or incident
            out.opened += outcome.created
            out.updated += not outcome.created
            if outcome.created:
                line = (
                    sla_line(status, t.spec, None, self._when(t.spec), again=True)
                    if joined
                    else None
                )
            else:
                line = sla_line(status, t.spec, before, self._when(t.spec))
            self._publish(incident, detail, status.state, line)
        elif status.state in GOOD:
            if incident is None and status.state is S.MET_LATE:
                # Late, and no alert was up (the bot was down, or it went from nothing to a
                # late success between two checks): still say so, once, resolved.
                detail = {**self._detail(t, status, runs), "state": "breached"}
                opened, _ = self._open(
                    t, key, f"breached@{token_instant(t, status)}",
                    as_utc(status.deadline or now), detail,
                )  # fmt: skip
                incident = opened.incident if opened.is_new_run else None
                out.opened += incident is not None
            if incident is not None:
                self._resolve(t, incident, status, runs, out)
        elif status.state is S.PENDING and incident is not None and before in BAD:
            detail = {**self._detail(t, status, runs), "state": "pending"}
            changed = self.store.incidents.set_detail(incident.id, detail) or incident
            out.updated += 1
            self._publish(
                changed, detail, "pending", sla_line(status, t.spec, before, self._when(t.spec))
            )

    def _open(
        self, t: Target, key: IncidentKey, token: str, at: datetime, detail: dict[str, Any]
    ) -> tuple[FailureOutcome, bool]:
        """Count this bad state into the key's incident (opening it if none is open), and
        join a new incident to the day's message when the rule already broke earlier that
        day. Returns the store's outcome and whether it joined an earlier message."""
        outcome: FailureOutcome = self.store.incidents.open_or_bump_failure(
            key, token, at, detail["reason"], job_name=detail["job_name"], detail=detail
        )
        if not outcome.created:
            return outcome, False
        incident, joined = self.marks.join(t, key, outcome.incident)
        return outcome._replace(incident=incident), joined

    def _settle(
        self,
        t: Target,
        incident: Incident,
        today: monitor.SlaStatus,
        history: Sequence[monitor.DayRuns],
        p90: float | None,
        runs: Sequence[RunSummary],
        out: SlaOutcome,
    ) -> None:
        """An open incident that is not today's: resolve it if it was met since, close it
        if its day (or run) is over."""
        detail = incident.detail or {}
        if t.spec.kind == "freshness":
            due = parse(detail.get("deadline"))
            if due is None:
                # "Never succeeded": its first success settles it (met, how late unknown).
                first = min(_successes(history), default=None)
                if first is not None:
                    met = replace(today, state=S.MET_LATE, reason=monitor.SlaReason.SUCCEEDED,
                                  deadline=None, succeeded_at=first, late_by=None)  # fmt: skip
                    self._resolve(t, incident, met, runs, out)
                return
            success = min((s for s in _successes(history) if s > due), default=None)
            if success is None:
                return  # still the same breach (its key only changes with a new success)
            late = replace(today, state=S.MET_LATE, reason=monitor.SlaReason.SUCCEEDED,
                           deadline=due, succeeded_at=success, late_by=success - due)  # fmt: skip
            self._resolve(t, incident, late, runs, out)
            return
        day = parse_day(detail.get("day"))
        if day is None:
            return
        now = self.clock.now()
        if t.spec.kind == "max_duration":
            # Judged on its own run: met (late) when that run ended in time (or succeeded
            # late), else closed, as the run is over.
            start = parse(detail.get("run_start"))
            own = [r for r in runs if start is not None and as_utc(r.start_time) == start]
            if own and own[0].in_progress:
                return  # still running (alongside a later run): judged when it ends
            status = monitor.evaluate(t.spec, day_runs(own, t.spec.tz, now), None, now, day)
            if own and status.state in GOOD:
                self._resolve(t, incident, status, runs, out)
            else:
                closed = {**detail, "state": "closed"}
                self._resolve(t, incident, status, runs, out, detail=closed)
            return
        status = monitor.evaluate(t.spec, history, p90, now, day)
        if status.state in GOOD:
            self._resolve(t, incident, status, runs, out)
        elif day < now.astimezone(ZoneInfo(t.spec.tz)).date():
            closed = {**detail, "state": "closed"}
            self._resolve(t, incident, status, runs, out, detail=closed)

    def _resolve(
        self,
        t: Target,
        incident: Incident,
        status: monitor.SlaStatus,
        runs: Sequence[RunSummary],
        out: SlaOutcome,
        *,
        detail: dict[str, Any] | None = None,
    ) -> None:
        detail = detail or self._detail(t, status, runs)
        self.store.incidents.set_detail(incident.id, detail)
        at = max(as_utc(status.succeeded_at or self.clock.now()), incident.last_failure_at)
        resolved = self.store.incidents.resolve(incident.incident_key, at)
        if resolved is None:
            return  # another replica resolved it first
        out.resolved += 1
        line = sla_line(
            status, t.spec, (incident.detail or {}).get("state"), self._when(t.spec), closing=detail
        )
        self._publish(resolved, detail, str(detail["state"]), line)

    def _publish(
        self, incident: Incident, detail: dict[str, Any], why: str, line: str | None
    ) -> None:
        channel = incident.channel or str(
            detail.get("channel") or self.config.slack.default_channel
        )
        self.out.publish(
            incident, channel, f"{why}:{incident.version}", self.render(incident), line
        )

    def _ensure_posted(self, incident: Incident) -> None:
        if not self.out.posted(incident):  # a crash came between the claim and the post
            self._publish(incident, incident.detail or {}, "post", None)

    def render(self, incident: Incident) -> dict[str, Any]:
        """The incident's message as it stands now (post or update)."""
        mute = self.store.mutes.active_mute(JobKey(incident.workspace_id, incident.job_id))
        view = sla_alert(incident, now=self.clock.now(), mute=mute)
        return self.renderer.render("alert_sla.json.j2", a=view, ids=actions.TEMPLATE_IDS)

    # -- words -----------------------------------------------------------------------------

    def _when(self, spec: monitor.SlaSpec) -> Callable[[datetime], str]:
        """Times in an alert as "07:00 CET" (the rule's zone, labelled; another day's with
        its date), never a bare time of day a reader could take for their own zone."""
        now = self.clock.now()
        return lambda instant: clock_time(instant, spec.tz, now)

    def _detail(
        self, t: Target, status: monitor.SlaStatus, runs: Sequence[RunSummary]
    ) -> dict[str, Any]:
        facts = self.jobs.facts(t.job.workspace_id, t.job.job_id, name=t.job.name,
                                owner=t.job.owner)  # fmt: skip
        failed = _failed_run(runs, status, t.spec.tz, t.spec.kind)
        ws = self.config.workspace(t.job.workspace_id)
        host = ws.host.rstrip("/") if ws else None
        day = judged_day(t, status)
        start = run_start(status) if t.spec.kind == "max_duration" else None
        return {
            **facts.as_detail(),
            "channel": facts.channel,
            "kind": t.spec.kind,
            "rule": describe_rule(t.rule, self.config.timezone),
            "rule_id": t.rule_id,
            "state": str(status.state),
            "reason": sla_reason(status, t.spec, self._when(t.spec)),
            "day": day.isoformat(),
            "day_label": f"{day:%a} {day.day} {day:%b}",
            "deadline": iso(status.deadline),
            "expected_finish": iso(status.expected_finish),
            "succeeded_at": iso(status.succeeded_at),
            "late_by_seconds": status.late_by.total_seconds() if status.late_by else None,
            "run_start": iso(start),  # max_duration: the run judged
            "run_id": failed,
            "run_url": f"{host}/jobs/{t.job.job_id}/runs/{failed}" if host and failed else None,
        }


def _failed_run(
    runs: Sequence[RunSummary], status: monitor.SlaStatus, tz: str, kind: str = "deadline"
) -> str | None:
    """The failed run behind the state, for the Rerun button: for a deadline, the day's
    latest finished run when it failed; for freshness, the latest finished run when it
    failed (the job is overdue because its runs fail, and a repair is the way out)."""
    finished = [r for r in runs if not r.in_progress]
    if kind == "freshness":
        latest = max(finished, default=None, key=lambda r: r.start_time)
        return latest.run_id if latest is not None and latest.failed else None
    if status.last_result not in FAILED_STATES:
        return None
    zone = ZoneInfo(tz)
    day = [r for r in finished if as_utc(r.start_time).astimezone(zone).date() == status.day]
    latest = max(day, default=None, key=lambda r: r.start_time)
    return latest.run_id if latest is not None and latest.failed else None


def _successes(history: Sequence[monitor.DayRuns]) -> list[datetime]:
    return sorted({as_utc(s) for d in history for s in d.success_ends})
