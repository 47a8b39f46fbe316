"""Watching itself: the bot's own checks (warehouse queries, each workspace's Jobs API, Slack
calls) report here with `Health.record(component, ok, error)`. After
`monitoring.degraded_after_failures` failures in a row, one "monitoring degraded" message
goes to the default channel (what, since when, what it means for alerts); while degraded,
further failures say nothing; the first success resolves it — the message turns "restored"
in place and its thread says when and after how long.

A component's count lives in a watermark ("health", component), so a restart neither
forgets an outage nor announces it twice; the notice itself is an incident of kind
MONITORING keyed "health:<component>", counted once per outage (the run id is the outage's
first failure), so the store, not this process, decides that it is posted once.

Slack as a component: its degraded notice waits in the outbox like every other message and
arrives when Slack answers again, just before the "restored" line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import Config
from bot.render import Renderer
from bot.render.formatting import duration
from bot.render.mrkdwn import escape, slack_date
from bot.store.records import Incident, IncidentKey, IncidentKind, OutboxKind

log = logging.getLogger(__name__)

STATE = "health"
KEY_PREFIX = "health:"
WAREHOUSE = "warehouse"
SLACK = "slack"
ERROR_CHARS = 300


def jobs_api(workspace_id: str) -> str:
    """The component name of one workspace's Jobs API."""
    return f"jobs_api:{workspace_id}"


class StorePort(Protocol):
    incidents: Any
    outbox: Any
    watermarks: Any


@dataclass(frozen=True)
class HealthView:
    """The degraded / restored notice as its template sees it."""

    what: str  # our own words, may hold a workspace name (escaped by the template)
    effect: str  # our own words
    since: datetime
    failures: int
    error: str | None  # the last error, from the failing system
    restored_at: datetime | None
    lasted: str | None


class Health:
    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        renderer: Renderer,
        store: StorePort,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.renderer = renderer
        self.store = store
        self._poke = on_enqueue or (lambda: None)
        self._lock = threading.Lock()

    @property
    def threshold(self) -> int:
        return self.config.monitoring.degraded_after_failures

    def record(self, component: str, ok: bool, error: str | None = None) -> str | None:
        """One check's outcome. Returns "degraded" or "restored" when this call changed the
        component's state (and queued its notice), else None."""
        now = self.clock.now()
        with self._lock:
            mark = self.store.watermarks.get(STATE, component)
            state: dict[str, Any] = dict(mark.value) if mark is not None else {}
            if ok:
                return self._ok(component, state, now)
            return self._failed(component, state, now, error)

    def is_degraded(self, component: str) -> bool:
        mark = self.store.watermarks.get(STATE, component)
        return bool(mark is not None and mark.value.get("degraded"))

    # -- transitions ---------------------------------------------------------------------

    def _failed(
        self, component: str, state: dict[str, Any], now: datetime, error: str | None
    ) -> str | None:
        failures = int(state.get("failures", 0)) + 1
        state["failures"] = failures
        state.setdefault("since", now.isoformat())
        state["error"] = (error or "")[:ERROR_CHARS] or None
        changed = None
        if failures >= self.threshold and not state.get("degraded"):
            since = datetime.fromisoformat(state["since"])
            key = IncidentKey("", "", IncidentKind.MONITORING, f"{KEY_PREFIX}{component}")
            outcome = self.store.incidents.open_or_bump_failure(
                key,
                f"degraded:{state['since']}",
                since,
                state["error"],
                job_name=None,
                detail={"component": component, "failures": failures, "error": state["error"]},
            )
            state["degraded"] = True
            state["incident_id"] = outcome.incident.id
            if outcome.created:
                self.store.outbox.enqueue(
                    dedupe_key=f"incident:{outcome.incident.id}:post",
                    channel=self.config.slack.default_channel,
                    kind=OutboxKind.POST,
                    payload=self.render(outcome.incident),
                    incident_id=outcome.incident.id,
                )
                self._poke()
                changed = "degraded"
                log.warning("monitoring degraded: %s (%s)", component, error)
        self.store.watermarks.set(STATE, state, component)
        return changed

    def _ok(self, component: str, state: dict[str, Any], now: datetime) -> str | None:
        if not state.get("failures") and not state.get("degraded"):
            return None  # the usual case: nothing to write
        changed = None
        if state.get("degraded"):
            key = IncidentKey("", "", IncidentKind.MONITORING, f"{KEY_PREFIX}{component}")
            resolved: Incident | None = self.store.incidents.resolve(key, now)
            if resolved is not None:
                channel = resolved.channel or self.config.slack.default_channel
                self.store.outbox.enqueue(
                    dedupe_key=f"incident:{resolved.id}:update:restored",
                    channel=channel,
                    kind=OutboxKind.UPDATE,
                    payload=self.render(resolved),
                    incident_id=resolved.id,
                )
                view = self.view(resolved)
                line = (
                    f"✅ Restored {slack_date(now, self.config.timezone, '{time}')}, "
                    f"after {view.lasted}: {escape(view.what)} answers again."
                )
                message = self.renderer.render("alert_thread.json.j2", line=line, quote=None)
                self.store.outbox.enqueue(
                    dedupe_key=f"incident:{resolved.id}:thread:restored",
                    channel=channel,
                    kind=OutboxKind.THREAD_REPLY,
                    payload=message,
                    incident_id=resolved.id,
                )
                self._poke()
                changed = "restored"
                log.warning("monitoring restored: %s", component)
        self.store.watermarks.set(STATE, {}, component)
        return changed

    # -- messages ------------------------------------------------------------------------

    def render(self, incident: Incident) -> dict[str, Any]:
        return self.renderer.render("degraded.json.j2", h=self.view(incident))

    def view(self, incident: Incident) -> HealthView:
        d = incident.detail or {}
        component = str(d.get("component") or incident.key.removeprefix(KEY_PREFIX))
        what, effect = self._describe(component)
        lasted = None
        if incident.resolved_at is not None:
            lasted = duration(incident.resolved_at - incident.first_failure_at)
        return HealthView(
            what=what,
            effect=effect,
            since=incident.first_failure_at,
            failures=int(d.get("failures") or self.threshold),
            error=d.get("error"),
            restored_at=incident.resolved_at,
            lasted=lasted,
        )

    def _describe(self, component: str) -> tuple[str, str]:
        if component == WAREHOUSE:
            return (
                "the SQL warehouse",
                "cost scans, digests and failures found from the system tables are paused, "
                "and `/jobs` answers that read history fail until it answers",
            )
        if component == SLACK:
            return (
                "Slack",
                "alerts wait in the outbox and go out, in order, when Slack answers again",
            )
        if component.startswith("jobs_api:"):
            ws_id = component.removeprefix("jobs_api:")
            ws = self.config.workspace(ws_id)
            name = ws.name if ws is not None else ws_id
            return (
                f"the Jobs API of {name}",
                f"failure alerts for {name} are late: they come from the system tables "
                "instead, minutes to hours behind",
            )
        return (component, "some of the bot's checks are paused")
