"""Cost scan inputs: the warehouse's anomaly-candidate rows (a job's from
`cost_anomaly_candidates`, a workspace's or SKU's from `cost_scope_anomaly_candidates`, with
what moved inside it from `cost_scope_movers`) mapped to `bot.monitors.cost` candidates, the
scope names, the keys a candidate and a mover carry ("<scope>:<subject>"; a feedback subject
is "<workspace_id>/<job_id>", "<workspace_id>" or "<sku_name>"), and `Found`: an anomaly the
scan decided, with the row it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.models import CostAnomalyCandidate, CostMover, CostScopeCandidate
from bot.monitors import cost as monitor
from bot.service.common import amount, num

SCOPE_JOB = "job"
SCOPE_WORKSPACE = "workspace"
SCOPE_SKU = "sku"


@dataclass(frozen=True)
class Found:
    """An anomaly the scan decided, with the row it came from (job or workspace / SKU)."""

    decision: monitor.Decision
    job: CostAnomalyCandidate | None = None
    scope: CostScopeCandidate | None = None
    movers: tuple[CostMover, ...] = ()


def subject(row: CostAnomalyCandidate) -> str:
    # The same spelling the button carries after "job:" and the click listener stores.
    return f"{row.workspace_id}/{row.job_id}"


def mover_key(m: CostMover) -> str:
    if m.kind == "job":
        return f"{m.workspace_id}/{m.job_id or '-'}"
    return str(m.sku_name if m.kind == "sku" else m.workspace_id)


def job_candidate(row: CostAnomalyCandidate, day: date) -> monitor.CostCandidate:
    # The query's expected_cost is the same-weekday-aware baseline: what "usual" means.
    median = num(row.expected_cost)
    if median is None:
        median = num(row.baseline_median) or 0.0
    return monitor.CostCandidate(
        key=f"{SCOPE_JOB}:{subject(row)}",
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


def scope_candidate(
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
                key=mover_key(m),
                cost=amount(m.cost),
                usual=float(m.expected_cost),
                name=m.name,
            )
            for m in movers
        ),
        mover_counts=tuple(sorted(counts.items())),
    )
