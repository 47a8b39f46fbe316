"""Cost anomaly decisions, pure: which jobs' daily cost is well above their own baseline,
and why.

The warehouse query hands over one candidate per job (or workspace, SKU) and day with the
baseline already computed over the previous 14 days (same-weekday aware, in SQL):
the median and the MAD (median absolute deviation) of the daily cost.

    scale     = 1.4826 · max(MAD, floor_fraction · median, min_scale)
    robust z  = (cost − median) / scale
    anomaly   ⇔ z ≥ threshold  and  cost ≥ min_amount

1.4826 makes the MAD comparable to a standard deviation for normal data, so `threshold`
(the config's sensitivity, 3.5 by default) reads like "3.5 sigmas". The floor matters when a
job costs the same every day: MAD = 0 would make any cent of change infinitely unusual, so
the spread is never taken below `floor_fraction` of the median (10%) nor `min_scale`.
`min_amount` keeps small jobs from paging anyone.

Feedback from the alert's buttons:
- "Expected" for a job and day: no anomaly for that job on that day.
- "Not an anomaly": the job's threshold is multiplied by `not_anomaly_factor` for each such
  mark (at most `max_not_anomaly_marks` of them), so it takes a bigger jump to alert again.

Likely cause: cost ≈ runs × average duration × cost per run-hour, so the ratio to baseline
splits into a run-count factor, a duration factor and the remainder (compute: bigger or
different SKU / node type). Each factor's log is its share of the jump; retries (repairs)
are reported as their own cause. Causes are ranked by that share.

A workspace or a SKU (`CostCandidate.scope` other than "job") is judged by the same score,
threshold, minimum and feedback rules; its likely causes are what moved inside it, handed over
as `Mover`s (the warehouse works them out against the same kind of baseline): the jobs whose
cost rose most, and the SKUs that rose in a workspace or the workspaces that rose on a SKU,
each kind named when together they explain at least a 10% rise; plus more job runs than
usual, and SKUs (or, for a SKU, workspaces) billed for the first time. Run duration and cost
per run-hour mean little over a workspace's mixed usage, so they are not decomposed there.

Decisions are facts (a `Verdict`, z, the threshold, `Cause`s with their numbers); the service
phrases them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

MAD_TO_SIGMA = 1.4826
MIN_SHARE = math.log(1.1)  # a cause must explain at least a 10% rise to be named


@dataclass(frozen=True)
class Sensitivity:
    threshold: float = 3.5  # robust z needed (MAD multiplier)
    min_amount: float = 50.0  # in the billing currency; smaller days never alert
    floor_fraction: float = 0.10
    min_scale: float = 0.01
    not_anomaly_factor: float = 1.5
    max_not_anomaly_marks: int = 3


SCOPES = ("job", "workspace", "sku")


@dataclass(frozen=True)
class Mover:
    """A part of a workspace's or SKU's day that cost more than its own usual."""

    kind: Literal["job", "sku", "workspace"]
    key: str  # "<workspace_id>/<job_id>", the SKU or the workspace id
    cost: float
    usual: float
    name: str | None = None

    @property
    def increase(self) -> float:
        return self.cost - self.usual


@dataclass(frozen=True)
class CostCandidate:
    key: str  # what the anomaly is about, e.g. "job:1234/56"; also the feedback key
    day: date
    cost: float
    median: float
    mad: float
    runs: int = 0
    baseline_runs: float = 0.0
    avg_duration_s: float | None = None
    baseline_duration_s: float | None = None
    new_skus: tuple[str, ...] = ()
    new_node_types: tuple[str, ...] = ()
    repairs: int = 0
    baseline_repairs: float = 0.0
    name: str | None = None
    scope: str = "job"  # or "workspace", "sku"
    movers: tuple[Mover, ...] = ()  # workspace / SKU scope: what rose inside it
    # How many parts of each kind rose in all (movers holds the top few of each).
    mover_counts: tuple[tuple[str, int], ...] = ()
    new_workspaces: tuple[str, ...] = ()  # SKU scope: workspaces billing it for the first time


@dataclass(frozen=True)
class Feedback:
    key: str
    day: date
    kind: Literal["expected", "not_anomaly"]


class CauseKind(StrEnum):
    MORE_RUNS = "more_runs"  # value: runs that day, usual: baseline runs
    LONGER_RUNS = "longer_runs"  # value / usual: average run duration, seconds
    COMPUTE = "compute"  # new SKUs / node types; rate_ratio: cost per run-hour vs usual
    RETRIES = "retries"  # value: repairs that day, usual: baseline repairs
    # Workspace / SKU scope: movers holds the parts of that kind that rose, biggest first;
    # value: their increase together, more: how many more rose than are listed.
    TOP_JOBS = "top_jobs"
    SKUS_MOVED = "skus_moved"  # workspace scope
    WORKSPACES_MOVED = "workspaces_moved"  # SKU scope
    NEW_SKUS = "new_skus"  # new: SKUs billed for the first time in 28 days (in the workspace)
    NEW_WORKSPACES = "new_workspaces"  # SKU scope; new: workspaces billing it for the first time


@dataclass(frozen=True)
class Cause:
    kind: CauseKind
    share: float  # log-ratio contribution; larger explains more of the jump
    value: float | None = None
    usual: float | None = None
    new: tuple[str, ...] = ()  # COMPUTE: SKUs and node types first seen that day
    rate_ratio: float | None = None  # COMPUTE: set only when the rate rose more than 10%
    movers: tuple[Mover, ...] = ()  # TOP_JOBS, SKUS_MOVED, WORKSPACES_MOVED
    more: int = 0  # movers of that kind not listed


class Verdict(StrEnum):
    MARKED_EXPECTED = "marked_expected"  # feedback said this day is expected
    BELOW_MINIMUM = "below_minimum"  # under Sensitivity.min_amount
    WITHIN_BASELINE = "within_baseline"  # z < threshold
    ANOMALY = "anomaly"


@dataclass(frozen=True)
class Decision:
    candidate: CostCandidate
    is_anomaly: bool
    z: float
    threshold: float
    verdict: Verdict
    causes: tuple[Cause, ...] = field(default=())

    @property
    def excess(self) -> float:
        return self.candidate.cost - self.candidate.median

    @property
    def ratio(self) -> float | None:
        return self.candidate.cost / self.candidate.median if self.candidate.median > 0 else None


def robust_z(cost: float, median: float, mad: float, s: Sensitivity = Sensitivity()) -> float:
    """(cost − median) / (1.4826 · floored MAD); see the module docstring."""
    spread = max(mad, s.floor_fraction * max(median, 0.0), s.min_scale)
    return (cost - median) / (MAD_TO_SIGMA * spread)


def decide(
    c: CostCandidate, s: Sensitivity = Sensitivity(), feedback: Iterable[Feedback] = ()
) -> Decision:
    """Is this candidate an anomaly? With the verdict either way, and causes when it is."""
    marks = [f for f in feedback if f.key == c.key]
    z = robust_z(c.cost, c.median, c.mad, s)
    not_anomaly = sum(1 for f in marks if f.kind == "not_anomaly" and f.day <= c.day)
    threshold = s.threshold * s.not_anomaly_factor ** min(not_anomaly, s.max_not_anomaly_marks)
    if any(f.kind == "expected" and f.day == c.day for f in marks):
        return Decision(c, False, z, threshold, Verdict.MARKED_EXPECTED)
    if c.cost < s.min_amount:
        return Decision(c, False, z, threshold, Verdict.BELOW_MINIMUM)
    if z < threshold:
        return Decision(c, False, z, threshold, Verdict.WITHIN_BASELINE)
    return Decision(c, True, z, threshold, Verdict.ANOMALY, likely_causes(c))


def detect(
    candidates: Sequence[CostCandidate],
    s: Sensitivity = Sensitivity(),
    feedback: Iterable[Feedback] = (),
) -> list[Decision]:
    """The anomalies among `candidates`, largest excess over baseline first."""
    marks = list(feedback)
    found = [d for d in (decide(c, s, marks) for c in candidates) if d.is_anomaly]
    return sorted(found, key=lambda d: (-d.excess, d.candidate.key))


def likely_causes(c: CostCandidate) -> tuple[Cause, ...]:
    """Causes that explain at least a 10% rise, most important first."""
    if c.scope != "job":
        return scope_causes(c)
    causes: list[Cause] = []
    run_ratio = _ratio(c.runs, c.baseline_runs)
    dur_ratio = _ratio(c.avg_duration_s, c.baseline_duration_s)
    cost_ratio = _ratio(c.cost, c.median)
    if run_ratio and run_ratio > 1:
        causes.append(
            Cause(CauseKind.MORE_RUNS, math.log(run_ratio), c.runs, usual=c.baseline_runs)
        )
    if dur_ratio and dur_ratio > 1:
        causes.append(
            Cause(
                CauseKind.LONGER_RUNS,
                math.log(dur_ratio),
                c.avg_duration_s,
                usual=c.baseline_duration_s,
            )
        )
    rate_ratio = None
    if cost_ratio:
        rate_ratio = cost_ratio / ((run_ratio or 1.0) * (dur_ratio or 1.0))
    new = (*c.new_skus, *c.new_node_types)
    rate_rose = rate_ratio is not None and rate_ratio > 1.1
    if new or rate_rose:
        share = math.log(rate_ratio) if rate_ratio and rate_ratio > 1 else 0.0
        # A new SKU or node type is worth naming even when the rate hardly moved.
        share = max(share, MIN_SHARE) if new else share
        causes.append(
            Cause(CauseKind.COMPUTE, share, new=new, rate_ratio=rate_ratio if rate_rose else None)
        )
    extra_repairs = c.repairs - c.baseline_repairs
    if extra_repairs > 0:
        share = math.log(1 + extra_repairs / max(c.baseline_runs, 1.0))
        causes.append(Cause(CauseKind.RETRIES, share, c.repairs, usual=c.baseline_repairs))
    significant = [x for x in causes if x.share >= MIN_SHARE]
    return tuple(sorted(significant, key=lambda x: -x.share))


_MOVER_CAUSES = {
    "job": CauseKind.TOP_JOBS,
    "sku": CauseKind.SKUS_MOVED,
    "workspace": CauseKind.WORKSPACES_MOVED,
}


def scope_causes(c: CostCandidate) -> tuple[Cause, ...]:
    """A workspace's or SKU's likely causes: what rose inside it (see the module docstring).
    A kind of mover's share is the log of (usual + their increase together) / usual, so it
    ranks with "more runs" on the same footing as the job causes."""
    causes: list[Cause] = []
    usual = max(c.median, 0.0)
    counts = dict(c.mover_counts)
    for kind, cause_kind in _MOVER_CAUSES.items():
        rose = tuple(
            sorted(
                (m for m in c.movers if m.kind == kind and m.increase > 0),
                key=lambda m: (-m.increase, m.key),
            )
        )
        if not rose:
            continue
        together = sum(m.increase for m in rose)
        share = math.log((usual + together) / usual) if usual > 0 else math.inf
        more = max(counts.get(kind, len(rose)) - len(rose), 0)
        causes.append(Cause(cause_kind, share, together, usual=usual, movers=rose, more=more))
    run_ratio = _ratio(c.runs, c.baseline_runs)
    if run_ratio and run_ratio > 1:
        causes.append(
            Cause(CauseKind.MORE_RUNS, math.log(run_ratio), c.runs, usual=c.baseline_runs)
        )
    if c.new_skus:
        causes.append(Cause(CauseKind.NEW_SKUS, MIN_SHARE, new=c.new_skus))
    if c.new_workspaces:
        causes.append(Cause(CauseKind.NEW_WORKSPACES, MIN_SHARE, new=c.new_workspaces))
    significant = [x for x in causes if x.share >= MIN_SHARE]
    # Ties (a new SKU's movers all explain "infinitely" much) keep the order above.
    return tuple(sorted(significant, key=lambda x: -x.share))


def _ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or baseline is None or baseline <= 0:
        return None
    return value / baseline
