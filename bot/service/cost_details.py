"""What a cost-anomaly incident records (its `detail`, the facts its message is rendered
from): a job's (routing facts, channel, owner, cause lines) and a workspace's or SKU's (its
title, where it is, its channel, the movers shown and counted, its cause lines), with the
summary line and the first cost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from bot.config import Config
from bot.errors import UserError
from bot.models import CostAnomalyCandidate, CostMover, CostScopeCandidate, JobKey
from bot.monitors import cost as monitor
from bot.render.formatting import money
from bot.service.common import amount, job_url, workspace_host, workspace_label
from bot.service.cost_candidates import SCOPE_JOB, SCOPE_WORKSPACE, mover_key
from bot.service.cost_scopes import CostScopes
from bot.service.phrases import cause_text
from bot.service.ports import Warehouse
from bot.warehouse import queries

# The scan's logger: these lines have always been the cost scan's.
log = logging.getLogger("bot.service.cost_alerts")


class CostDetails:
    """Builds the detail of a cost incident from the decision and its row."""

    def __init__(
        self,
        *,
        config: Config,
        warehouse: Warehouse,
        scopes: CostScopes,
        owner_lookup: Callable[[str], str | None] | None = None,
    ) -> None:
        self.config = config
        self.warehouse = warehouse
        self.scopes = scopes
        self._owner_lookup = owner_lookup

    def job(
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
            f"{name}: {money(c.cost, currency)} on {day.isoformat()} vs a usual "
            f"{money(c.median, currency)}"
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
            "owner_id": self.owner_id(owner),
            "currency": currency,
            "first_cost": round(c.cost, 2),
            "summary": summary,
            "seen_at": at.isoformat(),
        }

    def scope(
        self,
        d: monitor.Decision,
        row: CostScopeCandidate,
        movers: Sequence[CostMover],
        day: date,
        at: datetime,
    ) -> dict[str, Any]:
        c = d.candidate
        currency = self.config.cost.currency
        title = self.scopes.title(row)
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
                    "label": self.scopes.mover_label(m, row.scope),
                    "url": self.scopes.mover_url(m),
                    "cost": round(amount(m.cost), 2),
                    "usual": round(m.expected_cost, 2),
                    "increase": round(m.increase, 2),
                }
            )
            more[m.kind] = max(int(m.parts) - len(shown[m.kind]), 0)
        labels = {(m.kind, mover_key(m)): self.scopes.mover_label(m, row.scope) for m in movers}
        causes = [self.scopes.cause_text(cause, labels, row.scope) for cause in d.causes]
        listed = (
            monitor.CauseKind.TOP_JOBS,
            monitor.CauseKind.SKUS_MOVED,
            monitor.CauseKind.WORKSPACES_MOVED,
        )
        others = [
            text for cause, text in zip(d.causes, causes, strict=True) if cause.kind not in listed
        ]
        summary = (
            f"{title}: {money(c.cost, currency)} on {day.isoformat()} vs a usual "
            f"{money(c.median, currency)}"
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

    def owner_id(self, owner: str | None) -> str | None:
        if not owner:
            return None
        mapped = self.config.owner_slack_id(owner)
        if mapped:
            return mapped
        if self._owner_lookup is not None and "@" in owner:
            return self._owner_lookup(owner)
        return None


def _tags(text: str) -> dict[str, str]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
