"""The cost-anomaly alert message: the view its templates see (`CostAlertView`, with the
`MoverLine`s of a workspace / SKU anomaly), built from the incident's detail and the feedback
on its day, and rendered (`alert_cost.json.j2` for a job, `alert_cost_scope.json.j2` for a
workspace or SKU).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot import actions
from bot.config import Config
from bot.render import Renderer
from bot.service.cost_candidates import SCOPE_JOB, SCOPE_SKU
from bot.service.cost_feedback import CostFeedback
from bot.store.records import Incident


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


class CostAlertMessages:
    """Builds and renders the message of a cost-anomaly incident as it stands now."""

    def __init__(self, *, config: Config, renderer: Renderer, feedback: CostFeedback) -> None:
        self.config = config
        self.renderer = renderer
        self.feedback = feedback

    def render(self, incident: Incident) -> dict[str, Any]:
        """The incident's message as it stands now, feedback included (post or update)."""
        view = self.view(incident)
        template = "alert_cost.json.j2" if view.scope == SCOPE_JOB else "alert_cost_scope.json.j2"
        return self.renderer.render(template, a=view, ids=actions.TEMPLATE_IDS)

    def view(self, incident: Incident) -> CostAlertView:
        d: dict[str, Any] = dict(incident.detail or {})
        day = date.fromisoformat(str(d["day"]))
        mark = self.feedback.mark(incident)
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
