"""The cost of a failed run in its alert: billing has it hours after the run ended, so the
alert posts with the cost "pending" and this backfill (periodic) fills it in once a usage row
reaches the run's end, updating the alert in place (through FailureAlerts.enqueue_update).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.errors import UserError
from bot.models import RunCost
from bot.store.records import Incident, IncidentKind

log = logging.getLogger(__name__)

# A resolved incident's failed run may be billed hours after the recovery: its cost is still
# looked for this long after the run ended (billing lags hours, not days).
COST_HORIZON = timedelta(days=2)


class StorePort(Protocol):
    """bot.store.Store by shape: the incidents whose cost is filled in."""

    incidents: Any


class CostBackfill:
    """Fills in each failure's run cost once billed; `run_cost(workspace, run)` reads it."""

    def __init__(
        self,
        *,
        clock: Clock,
        store: StorePort,
        run_cost: Callable[[str, str], RunCost] | None,
        enqueue_update: Callable[[Incident, str, str], None],
    ) -> None:
        self.clock = clock
        self.store = store
        self.run_cost = run_cost
        self._enqueue_update = enqueue_update

    def backfill(self, limit: int = 50) -> int:
        """What each open failure's run cost, once billing has it (hours after the run):
        the alert, until then "pending", is updated in place. Returns how many were filled."""
        if self.run_cost is None:
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
                cost = self.run_cost(incident.workspace_id, run_id)
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
                self._enqueue_update(updated, updated.channel, f"cost:{run_id}")
            filled += 1
        return filled
