"""Workspace and SKU cost subjects: their incident keys and titles, the labels and links of
what moved inside them (the movers), their cause lines, and the overlap rule.

The overlap rule (one cause, one message): with the job scope on beside others, a job's spike
would also be its workspace's and its SKU's. So each scan decides the job anomalies first, and
a workspace or SKU anomaly (of the same billing day) is not posted when most of its rise
(today's cost − its usual) is the rise of jobs that have a job-scope cost alert for that day:
those jobs' own increases inside it (the job movers the scan reads from `cost_scope_movers`,
at most MOVERS_SHOWN of them) add up to at least EXPLAINED_SHARE of the subject's rise. "Has a
job alert for the day" means decided an anomaly in this scan, or an incident of that job and
day already open or resolved (by feedback too: an "expected" answer to the job's alert covers
the same money in its workspace). The skipped subject is logged at INFO (by the scan) and named
in one line of those jobs' messages ("also most of the rise of workspace prod-emea"). It is
judged again on every scan, so when its unexplained part grows (other jobs, non-job usage, a
SKU no alerted job uses) it alerts then; once it has an incident it is never skipped again,
just updated in place (or left alone once resolved), so it stays one message. With the job
scope off, nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.config import Config
from bot.models import CostMover, CostScopeCandidate
from bot.monitors import cost as monitor
from bot.render.formatting import money
from bot.render.mrkdwn import truncate_text
from bot.service.common import job_url, workspace_host, workspace_label
from bot.service.cost_candidates import SCOPE_JOB, SCOPE_SKU, SCOPE_WORKSPACE, Found, mover_key
from bot.service.phrases import cause_text
from bot.store.records import IncidentKey, IncidentKind

# Parts of a workspace / SKU anomaly listed in its message, per kind (jobs; SKUs or
# workspaces); the rest are counted ("and 3 more").
MOVERS_SHOWN = 5
# Of those, how many the one-line cause (and the text fallback) names.
MOVERS_IN_CAUSE = 3
# A workspace / SKU anomaly is not posted on its own when jobs with a job-scope alert for the
# same day explain at least this share of its rise (their increases inside it ÷ its cost −
# usual): "mostly the same cause". Below it, the rest is news (other jobs, non-job usage).
EXPLAINED_SHARE = 0.80


def scope_key(row: CostScopeCandidate, day: date) -> IncidentKey:
    if row.scope == SCOPE_WORKSPACE:
        return IncidentKey(row.subject, "", IncidentKind.COST_ANOMALY, f"workspace:{day}")
    return IncidentKey("", "", IncidentKind.COST_ANOMALY, f"sku:{row.subject}:{day}")


@dataclass(frozen=True)
class Suppressed:
    """A workspace / SKU anomaly left to the job alerts that explain it (for the scan's log)."""

    title: str
    explained: float
    rise: float
    labels: tuple[str, ...]


@dataclass
class Overlap:
    """The overlap rule's answer for one day: the anomalies to alert, for each job (by its
    candidate key) the subjects it explains, and the subjects skipped."""

    kept: list[Found]
    notes: dict[str, list[str]] = field(default_factory=dict)
    suppressed: list[Suppressed] = field(default_factory=list)


class CostScopes:
    """The workspace / SKU subjects as the config names them."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def overlaps(self, found: Sequence[Found], day: date, known: set[IncidentKey]) -> Overlap:
        """The anomalies to alert, without the workspaces / SKUs mostly explained by jobs
        alerted for the day (see the module docstring; the job scope is on), and for each
        such job (by its candidate key) the subjects it explains, for its message."""
        alerted = {f.decision.candidate.key for f in found if f.job is not None}
        alerted |= {
            f"{SCOPE_JOB}:{k.workspace_id}/{k.job_id}" for k in known if k.key == f"job:{day}"
        }
        skipped: set[int] = set()
        notes: dict[str, list[str]] = {}
        suppressed: list[Suppressed] = []
        # Workspaces before SKUs in a job's line, whatever their rises.
        rank = {SCOPE_WORKSPACE: 0, SCOPE_SKU: 1}
        for f in sorted(found, key=lambda f: rank.get(f.scope.scope if f.scope else "", -1)):
            if f.scope is None or scope_key(f.scope, day) in known:
                continue  # a job, or a subject alerted before: as always
            rise = f.decision.excess
            behind = [
                m
                for m in f.movers
                if m.kind == "job"
                and m.job_id
                and m.increase > 0
                and f"{SCOPE_JOB}:{mover_key(m)}" in alerted
            ]
            explained = sum(m.increase for m in behind)
            if rise <= 0 or explained < EXPLAINED_SHARE * rise:
                continue
            skipped.add(id(f))
            title = self.title(f.scope)
            labels = [self.mover_label(m, f.scope.scope) for m in behind]
            suppressed.append(Suppressed(title, explained, rise, tuple(labels)))
            for m, label in zip(behind, labels, strict=True):
                others = [x for x in labels if x != label]
                note = title + (f" (with {', '.join(others)})" if others else "")
                notes.setdefault(f"{SCOPE_JOB}:{mover_key(m)}", []).append(note)
        return Overlap([f for f in found if id(f) not in skipped], notes, suppressed)

    def title(self, row: CostScopeCandidate) -> str:
        if row.scope == SCOPE_WORKSPACE:
            return f"workspace {workspace_label(self.config, row.subject)}"
        return f"SKU {row.subject}"

    def mover_label(self, m: CostMover, scope: str) -> str:
        if m.kind == "sku":
            return str(m.sku_name)
        ws = workspace_label(self.config, m.workspace_id)
        if m.kind == "workspace":
            return ws
        job = (m.name or f"job {m.job_id}") if m.job_id else "usage without a job id"
        return job if scope == SCOPE_WORKSPACE else f"{job} ({ws})"

    def mover_url(self, m: CostMover) -> str | None:
        if m.kind != "job" or not m.job_id:
            return None
        return job_url(workspace_host(self.config, m.workspace_id), m.job_id)

    def cause_text(
        self, cause: monitor.Cause, labels: dict[tuple[str, str], str], scope: str
    ) -> str:
        k = monitor.CauseKind
        cur = self.config.cost.currency
        kinds = {k.TOP_JOBS: "job", k.SKUS_MOVED: "sku", k.WORKSPACES_MOVED: "workspace"}
        if cause.kind in kinds:
            kind = kinds[cause.kind]
            named = [
                f"{truncate_text(labels.get((kind, m.key), m.key), 60)} +{money(m.increase, cur)}"
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


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
