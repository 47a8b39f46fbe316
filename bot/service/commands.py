"""The use case "answer a /jobs command": a parsed request in, a rendered `Answer` out, with the
result cache in front of the warehouse and every failure turned into a readable message.

No Slack here: the Bolt listeners (and `jobs-bot ask`) call `answer_text` / `answer` and send
`Answer.payload()` wherever they like.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot import actions
from bot.clock import Clock, as_utc
from bot.config import Config, SlaRule
from bot.errors import UserError, new_error_id, unexpected_text
from bot.grammar import (
    COMMANDS,
    WINDOW_EXAMPLES,
    AlertsRequest,
    AnomaliesRequest,
    CostRequest,
    FailingRequest,
    HelpRequest,
    JobArg,
    MuteRequest,
    ParseError,
    Request,
    RunningRequest,
    SlaRequest,
    StatusRequest,
    UnmuteRequest,
    parse_command,
)
from bot.models import JobKey, JobMatch
from bot.render import Renderer
from bot.render.limits import RenderError
from bot.service import alert_list, cost, failing, jobs, running, sla
from bot.service.answer import Answer, Reader, ResultCache
from bot.service.common import BILLING_LAG, LIVE, SYSTEM_TABLES_LAG
from bot.service.interactions import Interactions
from bot.service.ports import Warehouse
from bot.service.views import ErrorView, HelpView, NoticeView, SlaView, View, template_data
from bot.warehouse import queries

log = logging.getLogger(__name__)

IDS = actions.TEMPLATE_IDS


class CommandService:
    """Answers /jobs commands from the warehouse, the config and the injected clock."""

    def __init__(
        self,
        warehouse: Warehouse,
        config: Config,
        clock: Clock,
        *,
        renderer: Renderer | None = None,
        live_runs: running.LiveRuns | None = None,
        interactions: Interactions | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.reader = Reader(warehouse)
        self.live_runs = live_runs
        # The alert state (store) and its use cases: /jobs alerts, mute, unmute. Wiring sets
        # it once the watchers exist; without it those commands say what they need.
        self.interactions = interactions
        self._durations = running.Durations(self.reader)
        self.durations = self._durations  # shared: the alerts' "usually ≤ …" reads it too
        self.renderer = renderer or Renderer(
            tz=config.timezone, currency=config.cost.currency, clock=clock
        )
        self.cache = ResultCache(config.warehouse.cache_ttl_seconds)

    # -- entry points ---------------------------------------------------------------------

    def answer_text(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str | None = None,
        at: datetime | None = None,
    ) -> Answer:
        """Parse what followed `/jobs` and answer it; bad text gets help with "did you mean".
        `at` answers as of that instant instead of the clock's now (replaying an answer)."""
        now = at or self.clock.now()
        body = (text or "").strip()
        command = self.config.slack.command
        # `jobs-bot ask "/jobs failing"` passes the command word too; Slack never does.
        if body == command or body.startswith(command + " "):
            body = body[len(command) :].strip()
        try:
            request = parse_command(body, now=now, tz=self.config.timezone)
        except ParseError as e:
            problem = e.message
            return self._guarded(lambda: self._help(now, problem=problem))
        return self.answer(request, user_id=user_id, channel_id=channel_id, at=now)

    def answer(
        self,
        request: Request,
        *,
        user_id: str,
        channel_id: str | None = None,
        at: datetime | None = None,
    ) -> Answer:
        """Answer a parsed request. Never raises for a person to see a traceback: known
        failures become their message, unknown ones an error id that is also logged."""
        now = at or self.clock.now()
        # A live answer (the Jobs API) is not cached: it is cheap and must be current.
        live = isinstance(request, RunningRequest) and self.live_runs is not None
        key = None if live else cache_key(request, now, self.cache.ttl)
        if key is not None:
            cached = self.cache.get(key, now)
            if cached is not None:
                return cached
        answer = replace(
            self._guarded(lambda: self._compute(request, now, user_id), key), asked_at=now
        )
        if key is not None and answer.cache_key is not None:
            self.cache.put(key, now, answer)
        return answer

    # -- dispatch -------------------------------------------------------------------------

    def _guarded(self, compute: Callable[[], Answer], key: str | None = None) -> Answer:
        try:
            answer = compute()
        except UserError as e:
            return self._error(str(e))
        except Exception:
            error_id = new_error_id()
            log.exception("answering a /jobs command failed (error id %s)", error_id)
            return self._error(unexpected_text(error_id), error_id=error_id)
        return Answer(answer.text, answer.blocks, answer.data_as_of, key)

    def _compute(self, request: Request, now: datetime, user_id: str = "") -> Answer:
        match request:
            case HelpRequest(topic=topic):
                return self._help(now, topic=topic)
            case FailingRequest(window=window):
                view = failing.failing_view(self.reader, self.config, window, now)
                return self._render("failing.json.j2", view, now)
            case StatusRequest(job=ref):
                return self._status(ref, now)
            case RunningRequest():
                if self.live_runs is not None and any(w.jobs_api for w in self.config.workspaces):
                    live = running.live_running_view(
                        self.reader, self.config, self.live_runs, self._durations, now
                    )
                    return self._render("running.json.j2", live, now, lag=LIVE)
                return self._render(
                    "running.json.j2", jobs.running_view(self.reader, self.config, now), now
                )
            case SlaRequest(job=ref):
                return self._sla(ref, now)
            case CostRequest(window=window, group_by=group):
                spend = cost.cost_view(self.reader, self.config, window, group, now)
                # Billing is hours behind the runs: say how far it has caught up.
                billed = spend.billed_until
                return self._render("cost.json.j2", spend, now, as_of=billed, lag=BILLING_LAG)
            case AnomaliesRequest():
                found = cost.anomalies_view(self.reader, self.config, now)
                return self._render("anomalies.json.j2", found, now, lag=BILLING_LAG)
            case AlertsRequest() | MuteRequest() | UnmuteRequest() if self.interactions is None:
                return self._not_yet(request, now)
            case AlertsRequest():
                return self._alerts(now)
            case MuteRequest(job=ref, until=until):
                return self._mute(ref, until, user_id, now)
            case UnmuteRequest(job=ref):
                return self._mute(ref, None, user_id, now)
        raise AssertionError(f"unhandled request {request!r}")

    def _alerts(self, now: datetime) -> Answer:
        assert self.interactions is not None
        store = self.interactions.store
        view = alert_list.alerts_view(
            self.config, store.incidents.open_incidents(), store.mutes.active(now), now
        )
        return self._render_view("alerts.json.j2", alert_list.view_data(view))

    def _mute(self, ref: JobArg, until: datetime | None, user_id: str, now: datetime) -> Answer:
        """Mute (`until` set) or unmute the job `ref` names, found as `/jobs status` finds it."""
        assert self.interactions is not None
        lookup = jobs.find_job(self.reader, ref)
        if lookup.job is None:
            return self._render(
                "status_matches.json.j2", jobs.match_view(self.config, ref, lookup), now
            )
        found = lookup.job
        key = JobKey(found.workspace_id, found.job_id)
        outcome: alert_list.MuteOutcome
        if until is not None:
            result = self.interactions.mute(key, found.name, until, user_id)
            outcome = "muted" if result.done else "refused"
        else:
            result = self.interactions.unmute(key, user_id)
            outcome = "refused" if result.refused else "unmuted" if result.done else "not_muted"
        mute = result.mute
        ws = self.config.workspace(found.workspace_id)
        view = alert_list.MuteView(
            outcome=outcome,
            job_name=found.name or f"job {found.job_id}",
            job_id=found.job_id,
            workspace=ws.name if ws else (found.workspace_name or found.workspace_id),
            until=mute.until if mute is not None else None,
            by=mute.muted_by if mute is not None else None,
            refused=result.refused,
            command=self.config.slack.command,
        )
        return self._render_view("mute.json.j2", alert_list.view_data(view))

    def _render_view(self, template: str, data: dict[str, Any]) -> Answer:
        # Live state from the store, not the warehouse: no "data as of" line, never cached.
        message = self.renderer.render(template, **data, ids=IDS)
        return Answer(message["text"], message.get("blocks", []), None, None)

    def _status(self, ref: JobArg, now: datetime) -> Answer:
        lookup = jobs.find_job(self.reader, ref)
        if lookup.job is None:
            return self._render(
                "status_matches.json.j2", jobs.match_view(self.config, ref, lookup), now
            )
        job = lookup.job
        rules = sla.rules_for_job(self.config, job)
        slas = tuple(sla.sla_entry(self.reader, self.config, r, job, now) for r in rules)
        view = replace(jobs.status_view(self.reader, self.config, job, now), slas=slas)
        return self._render("status.json.j2", view, now)

    def _sla(self, ref: JobArg | None, now: datetime) -> Answer:
        target = None
        if ref is not None:
            lookup = jobs.find_job(self.reader, ref)
            if lookup.job is None:
                view = jobs.match_view(self.config, ref, lookup)
                return self._render("status_matches.json.j2", view, now)
            target = lookup.job
        entries = []
        for rule in self.config.slas:
            for job in self._jobs_for_rule(rule, target):
                entries.append(sla.sla_entry(self.reader, self.config, rule, job, now))
        entries.sort(key=lambda e: (not e.bad, e.name))
        sla_view = SlaView(
            entries=tuple(entries),
            count=len(entries),
            bad_count=sum(1 for e in entries if e.bad),
            job=target.name if target else None,
        )
        return self._render("sla.json.j2", sla_view, now)

    def _jobs_for_rule(self, rule: SlaRule, target: JobMatch | None) -> list[JobMatch | None]:
        if target is not None:
            matches = rule.job.matches(target.name, target.workspace_id, target.job_id)
            return [target] if matches else []
        needle = rule.job.job_id if rule.job.job_id is not None else rule.job.name
        assert needle is not None  # the config insists on a name or an id
        rows = self.reader.read(queries.job_lookup, needle, include_deleted=False)
        found: list[JobMatch | None] = [
            r for r in rows if rule.job.matches(r.name, r.workspace_id, r.job_id)
        ]
        # A rule naming a job the account does not have is shown, not hidden: it is a config
        # mistake worth seeing.
        return found or [None]

    # -- rendering ------------------------------------------------------------------------

    def _render(
        self,
        template: str,
        view: View,
        now: datetime,
        *,
        as_of: datetime | None = None,
        lag: str = SYSTEM_TABLES_LAG,
    ) -> Answer:
        stamp = as_utc(as_of or now)
        fresh = {"as_of": stamp, "lag": lag}
        data = template_data(view)
        message = self.renderer.render(template, **data, ids=IDS, fresh=fresh, now=now)
        return Answer(message["text"], message.get("blocks", []), stamp, None)

    def _help(
        self, now: datetime, *, topic: str | None = None, problem: str | None = None
    ) -> Answer:
        commands = COMMANDS
        if topic is not None:
            commands = tuple(c for c in COMMANDS if c.name == topic) or COMMANDS
        view = HelpView(
            commands=commands,
            problem=problem,
            windows=WINDOW_EXAMPLES,
            command=self.config.slack.command,
        )
        message = self.renderer.render("help.json.j2", **template_data(view))
        return Answer(message["text"], message.get("blocks", []), None, None)

    def _error(self, message: str, *, error_id: str | None = None) -> Answer:
        try:
            view = ErrorView(message=message, error_id=error_id)
            rendered = self.renderer.render("error.json.j2", **template_data(view))
        except (RenderError, Exception):  # the error answer must never fail in turn
            log.exception("rendering the error answer failed")
            return Answer(message, [], None, None)
        return Answer(rendered["text"], rendered.get("blocks", []), None, None)

    def _not_yet(self, request: Request, now: datetime) -> Answer:
        what = {
            AlertsRequest: "Open alerts, acknowledgements and snoozes",
            MuteRequest: "Muting a job",
            UnmuteRequest: "Unmuting a job",
        }[type(request)]
        message = self.renderer.render("notice.json.j2", **template_data(NoticeView(what)))
        return Answer(message["text"], message.get("blocks", []), None, None)


def cache_key(request: Request, now: datetime, ttl: float) -> str | None:
    """The normalised request plus a time bucket, or None for answers that are not cached.

    Windows are keyed by their label ("24h"), not their instants, so the same question a few
    seconds later hits; job names by their folded text. The bucket makes the key itself
    expire, in addition to the cache's own age check.
    """
    if isinstance(request, HelpRequest | AlertsRequest | MuteRequest | UnmuteRequest):
        return None
    bucket = int(as_utc(now).timestamp() // ttl) if ttl > 0 else 0
    match request:
        case FailingRequest(window=w):
            body = f"failing {w.label}"
        case StatusRequest(job=ref):
            body = f"status {_ref_key(ref)}"
        case RunningRequest():
            body = "running"
        case SlaRequest(job=ref):
            body = f"sla {_ref_key(ref) if ref else '*'}"
        case CostRequest(window=w, group_by=g):
            body = f"cost {w.label} by {g.kind}{':' + (g.tag_key or '') if g.kind == 'tag' else ''}"
        case AnomaliesRequest():
            body = "anomalies"
        case _:
            return None
    return f"{body}@{bucket}"


def _ref_key(ref: JobArg) -> str:
    if ref.job_id is not None:
        return f"{ref.workspace_id or '*'}/{ref.job_id}"
    return " ".join(ref.text.lower().split())
