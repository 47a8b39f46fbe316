"""The use case "is a job late for its SLA?": each check evaluates every SLA rule of the config
for every job it names, with the same pure decision and inputs as `/jobs sla`
(`bot.monitors.sla`, `bot.service.sla.day_runs`), and turns state changes into one living
incident message per rule, job and day.

Inputs: the job's recent runs and p90 from the system tables (cached for a few minutes: they
lag anyway), overlaid on workspaces with the Jobs API by the job's runs from runs/list
(real time: a run that started, is still running, or just succeeded is seen at once, which
is what makes "at risk", a running-too-long breach and "met late" timely).

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

A first post goes through the roll-up when one is given (`router`), as failures' do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import actions
from bot.clock import Clock, as_utc
from bot.config import Config, SlaRule
from bot.models import FAILED_STATES, ApiRun, JobKey, JobMatch, JobsApiError, RunSummary
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
from bot.service.lateness_view import sla_alert
from bot.service.phrases import sla_reason
from bot.service.ports import Warehouse
from bot.service.sla import RUNS_LIMIT, day_runs, describe_rule, spec_for
from bot.store.records import FailureOutcome, Incident, IncidentKey, IncidentKind
from bot.warehouse import queries

log = logging.getLogger(__name__)

S = monitor.SlaState
BAD = frozenset({S.AT_RISK, S.BREACHED})
GOOD = frozenset({S.MET, S.MET_LATE})
JOBS_TTL = timedelta(hours=1)  # which jobs a rule names (job_lookup): renames are rare
# A workspace watched through the Jobs API gets its recent runs live from runs/list every
# round; the tables then only add older history, which an hour's cache serves.
LIVE_HISTORY_TTL = timedelta(hours=1)
STATS_TTL = timedelta(hours=1)  # p90 of 30 days of runs moves slowly
API_RUNS = 100  # per job and check: two days of an hourly job, with room
DAY_MARK = "sla-day"  # watermark per rule and job: the day's latest incident (one message a day)


@dataclass
class SlaOutcome:
    rules: int = 0
    jobs: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Target:
    rule: SlaRule
    rule_id: str
    spec: monitor.SlaSpec
    job: JobMatch


def rule_id(rule: SlaRule) -> str:
    """A rule's identity in incident keys: what it demands, not where it sits in the file."""
    if rule.kind == "deadline":
        assert rule.deadline is not None
        return f"deadline {rule.deadline:%H:%M}"
    span = rule.max_duration if rule.kind == "max_duration" else rule.freshness
    assert span is not None
    return f"{rule.kind} {int(span.total_seconds() // 60)}m"


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
        self._api = jobs_api
        self._ttl = warehouse_ttl
        self._cache: dict[tuple[str, ...], tuple[datetime, Any]] = {}

    # -- the check -----------------------------------------------------------------------

    def check(self) -> SlaOutcome:
        """One round over every rule and job. Raises nothing: a rule whose inputs cannot be
        read is logged and tried again next round."""
        out = SlaOutcome()
        for rule in self.config.slas:
            out.rules += 1
            try:
                jobs = self._jobs_for(rule)
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
                    self._check_one(_Target(rule, rule_id(rule), spec, job), out)
                except Exception as e:
                    out.errors.append(f"{job.name}: {e}")
                    log.warning("SLA %s of %s: %s", rule_id(rule), job.name, e, exc_info=True)
        return out

    def _check_one(self, t: _Target, out: SlaOutcome) -> None:
        now = self.clock.now()
        runs = self._runs(t, now)
        history = day_runs(runs, t.spec.tz, now)
        p90 = self._p90(t.job, now)
        status = monitor.evaluate(t.spec, history, p90, now)
        current = self._key(t, status)
        today = self.store.incidents.find_open(current)
        if today is not None and self._another_breach(t, today, status):
            # The day's open incident is about an earlier run (or an earlier due): that one
            # is judged and settled first; this one may then open (joining the day's message).
            self._settle(t, today, status, history, p90, runs, out)
        self._apply(t, status, current, runs, history, out)
        # Incidents of this rule and job for other days or runs: met since, or over.
        for incident in self.store.incidents.open_incidents(IncidentKind.SLA):
            same = (incident.workspace_id, incident.job_id) == (t.job.workspace_id, t.job.job_id)
            if same and incident.key.startswith(t.rule_id + "/") and incident.key != current.key:
                self._settle(t, incident, status, history, p90, runs, out)

    def _key(self, t: _Target, status: monitor.SlaStatus) -> IncidentKey:
        """One key per rule, job and local day: the judged run's start day (max_duration),
        the day its success was due (freshness; "never" while it never succeeded), else the
        day judged."""
        if t.spec.kind == "freshness" and status.deadline is None:
            part = "never"
        else:
            part = _judged_day(t, status).isoformat()
        return IncidentKey(
            t.job.workspace_id, t.job.job_id, IncidentKind.SLA, f"{t.rule_id}/{part}"
        )

    def _another_breach(self, t: _Target, incident: Incident, status: monitor.SlaStatus) -> bool:
        """Whether today's open incident is about another run (max_duration) or another due
        time (freshness) than the status now judged."""
        detail = incident.detail or {}
        if t.spec.kind == "max_duration":
            start = _run_start(status)
            had = detail.get("run_start")
            return start is not None and had is not None and had != _iso(start)
        if t.spec.kind == "freshness":
            due = detail.get("deadline")
            return due is not None and due != _iso(status.deadline)
        return False

    # -- state changes -------------------------------------------------------------------

    def _apply(
        self,
        t: _Target,
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
            token = f"{status.state}@{_token_instant(t, status)}"
            at = status.deadline if status.state is S.BREACHED and status.deadline else now
            outcome, joined = self._open(t, key, token, min(as_utc(at), now), detail)
            incident = outcome.incident
            if not outcome.is_new_run:  # e.g. at risk again after being back on track
                incident = self.store.incidents.set_detail(incident.id, detail) or incident
            out.opened += outcome.created
            out.updated += not outcome.created
            if outcome.created:
                line = self._line(status, t.spec, None, again=True) if joined else None
            else:
                line = self._line(status, t.spec, before)
            self._publish(incident, detail, status.state, line)
        elif status.state in GOOD:
            if incident is None and status.state is S.MET_LATE:
                # Late, and no alert was up (the bot was down, or it went from nothing to a
                # late success between two checks): still say so, once, resolved.
                detail = {**self._detail(t, status, runs), "state": "breached"}
                opened, _ = self._open(
                    t, key, f"breached@{_token_instant(t, status)}",
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
            self._publish(changed, detail, "pending", self._line(status, t.spec, before))

    def _open(
        self, t: _Target, key: IncidentKey, token: str, at: datetime, detail: dict[str, Any]
    ) -> tuple[FailureOutcome, bool]:
        """Count this bad state into the key's incident (opening it if none is open), and
        join a new incident to the day's message when the rule already broke earlier that
        day. Returns the store's outcome and whether it joined an earlier message."""
        outcome: FailureOutcome = self.store.incidents.open_or_bump_failure(
            key, token, at, detail["reason"], job_name=detail["job_name"], detail=detail
        )
        if not outcome.created:
            return outcome, False
        incident: Incident = outcome.incident
        mark_key = f"{key.workspace_id}/{key.job_id}/{t.rule_id}"
        mark = self.store.watermarks.get(DAY_MARK, mark_key)
        value = dict(mark.value) if mark is not None else {}
        joined = False
        if value.get("key") == key.key and value.get("incident_id") != incident.id:
            prior = self.store.incidents.get(int(value["incident_id"]))
            if prior is not None and prior.message_ts and prior.channel:
                self.store.incidents.set_message(
                    incident.id, prior.channel, prior.message_ts, prior.thread_ts
                )
                incident = self.store.incidents.get(incident.id) or incident
                joined = True
        self.store.watermarks.set(DAY_MARK, {"key": key.key, "incident_id": incident.id}, mark_key)
        return outcome._replace(incident=incident), joined

    def _settle(
        self,
        t: _Target,
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
            due = _parse(detail.get("deadline"))
            success = min((s for s in _successes(history) if due and s > due), default=None)
            if due is None or success is None:
                return  # still the same breach (its key only changes with a new success)
            late = replace(today, state=S.MET_LATE, reason=monitor.SlaReason.SUCCEEDED,
                           deadline=due, succeeded_at=success, late_by=success - due)  # fmt: skip
            self._resolve(t, incident, late, runs, out)
            return
        day = _parse_day(detail.get("day"))
        if day is None:
            return
        now = self.clock.now()
        if t.spec.kind == "max_duration":
            # Judged on its own run: met (late) when that run ended in time (or succeeded
            # late), else closed, as the run is over.
            start = _parse(detail.get("run_start"))
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
        t: _Target,
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
        line = self._line(status, t.spec, (incident.detail or {}).get("state"), closing=detail)
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

    def _line(
        self,
        status: monitor.SlaStatus,
        spec: monitor.SlaSpec,
        before: str | None,
        *,
        closing: dict[str, Any] | None = None,
        again: bool = False,
    ) -> str:
        reason = sla_reason(status, spec, self._when(spec))
        if closing is not None and closing.get("state") == "closed":
            return f"🔴 Not met ({reason}); closed, as its day or run is over."
        if status.state is S.BREACHED:
            return f"🔴 Breached{' again today' if again else ''}: {reason}."
        if status.state is S.AT_RISK:
            if again:
                return f"🟡 At risk again today: {reason}."
            return f"🟡 At risk{' again' if before == 'pending' else ''}: {reason}."
        if status.state is S.MET_LATE:
            return f"🟠 Met late: {reason}."
        if status.state is S.MET:
            return f"✅ Met: {reason}."
        return f"⚪ Back on track: {reason}."

    def _when(self, spec: monitor.SlaSpec) -> Callable[[datetime], str]:
        """Times in an alert as "07:00 CET" (the rule's zone, labelled; another day's with
        its date), never a bare time of day a reader could take for their own zone."""
        now = self.clock.now()
        return lambda instant: clock_time(instant, spec.tz, now)

    def _detail(
        self, t: _Target, status: monitor.SlaStatus, runs: Sequence[RunSummary]
    ) -> dict[str, Any]:
        facts = self.jobs.facts(t.job.workspace_id, t.job.job_id, name=t.job.name,
                                owner=t.job.owner)  # fmt: skip
        failed = _failed_run(runs, status, t.spec.tz, t.spec.kind)
        ws = self.config.workspace(t.job.workspace_id)
        host = ws.host.rstrip("/") if ws else None
        day = _judged_day(t, status)
        start = _run_start(status) if t.spec.kind == "max_duration" else None
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
            "deadline": _iso(status.deadline),
            "expected_finish": _iso(status.expected_finish),
            "succeeded_at": _iso(status.succeeded_at),
            "late_by_seconds": status.late_by.total_seconds() if status.late_by else None,
            "run_start": _iso(start),  # max_duration: the run judged
            "run_id": failed,
            "run_url": f"{host}/jobs/{t.job.job_id}/runs/{failed}" if host and failed else None,
        }

    # -- inputs ----------------------------------------------------------------------------

    def _jobs_for(self, rule: SlaRule) -> list[JobMatch]:
        needle = rule.job.job_id if rule.job.job_id is not None else rule.job.name
        assert needle is not None  # the config insists on a name or an id
        rows = self._cached(("jobs", needle), JOBS_TTL,
                            lambda: queries.job_lookup(self.warehouse, needle))  # fmt: skip
        return [r for r in rows if rule.job.matches(r.name, r.workspace_id, r.job_id)]

    def _p90(self, job: JobMatch, now: datetime) -> float | None:
        key = JobKey(job.workspace_id, job.job_id)
        stats = self._cached(("stats", job.workspace_id, job.job_id), STATS_TTL,
                             lambda: queries.job_run_stats(self.warehouse, key, now=now))  # fmt: skip
        return float(stats.p90_seconds) if stats.p90_seconds is not None else None

    def _runs(self, t: _Target, now: datetime) -> list[RunSummary]:
        key = JobKey(t.job.workspace_id, t.job.job_id)
        watched = self.jobs.live(key.workspace_id) and self._api is not None
        table: list[RunSummary] = self._cached(
            ("runs", key.workspace_id, key.job_id), LIVE_HISTORY_TTL if watched else self._ttl,
            lambda: queries.job_recent_runs(self.warehouse, key, now=now, limit=RUNS_LIMIT),
        )  # fmt: skip
        if not self.jobs.live(key.workspace_id) or self._api is None:
            return table
        since = now - max(timedelta(days=2), timedelta(hours=(t.spec.every_hours or 0) + 24))
        try:
            live = self._api.list_runs(
                key.workspace_id, job_id=key.job_id, started_from=since, max_runs=API_RUNS
            )
        except JobsApiError as e:  # the tables alone still judge, a little later
            log.info("runs/list %s/%s: %s", key.workspace_id, key.job_id, e)
            return table
        merged = {r.run_id: r for r in table}
        merged.update({r.run_id: s for r in live if (s := _summary(r, now)) is not None})
        return sorted(merged.values(), key=lambda r: r.start_time, reverse=True)

    def _cached(self, key: tuple[str, ...], ttl: timedelta, read: Any) -> Any:
        now = self.clock.now()
        hit = self._cache.get(key)
        if hit is not None and timedelta(0) <= now - hit[0] < ttl:
            return hit[1]
        value = read()
        self._cache[key] = (now, value)
        return value


def _summary(run: ApiRun, now: datetime) -> RunSummary | None:
    """A Jobs API run in the shape of a job_recent_runs row (end = now while it runs)."""
    if run.start_time is None:
        return None
    end = run.end_time if run.state.ended and run.end_time else now
    return RunSummary(
        run_id=run.run_id,
        start_time=run.start_time,
        end_time=end,
        duration_seconds=int(run.duration_seconds or (end - run.start_time).total_seconds()),
        result_state=run.state.state if run.state.ended else None,
        termination_code=run.state.termination_code,
        in_progress=not run.state.ended,
        repairs=run.repairs,
        trigger_type=run.trigger,
        run_type=run.run_type,
    )


def _run_start(status: monitor.SlaStatus) -> datetime | None:
    if status.running_since is not None:
        return status.running_since
    if status.deadline is not None and status.limit is not None:
        return status.deadline - status.limit  # TOOK: the judged run's start
    return None


def _judged_day(t: _Target, status: monitor.SlaStatus) -> date:
    """The local day a status is about: the judged run's start day (max_duration), the day
    the success was due (freshness), else the day evaluated."""
    zone = ZoneInfo(t.spec.tz)
    if t.spec.kind == "max_duration" and (start := _run_start(status)) is not None:
        return as_utc(start).astimezone(zone).date()
    if t.spec.kind == "freshness" and status.deadline is not None:
        return as_utc(status.deadline).astimezone(zone).date()
    return status.day


def _token_instant(t: _Target, status: monitor.SlaStatus) -> str:
    if t.spec.kind == "max_duration":
        start = _run_start(status)
        return start.isoformat() if start else status.day.isoformat()
    if t.spec.kind == "freshness":
        return status.deadline.isoformat() if status.deadline else "never"
    return status.day.isoformat()


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


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _parse_day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None
