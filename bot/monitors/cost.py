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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from bot.render.formatting import duration

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


@dataclass(frozen=True)
class Feedback:
    key: str
    day: date
    kind: Literal["expected", "not_anomaly"]


@dataclass(frozen=True)
class Cause:
    kind: Literal["more_runs", "longer_runs", "compute", "retries"]
    share: float  # log-ratio contribution; larger explains more of the jump
    text: str


@dataclass(frozen=True)
class Decision:
    candidate: CostCandidate
    is_anomaly: bool
    z: float
    threshold: float
    reason: str
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
    """Is this candidate an anomaly? With the reason either way, and causes when it is."""
    marks = [f for f in feedback if f.key == c.key]
    z = robust_z(c.cost, c.median, c.mad, s)
    not_anomaly = sum(1 for f in marks if f.kind == "not_anomaly" and f.day <= c.day)
    threshold = s.threshold * s.not_anomaly_factor ** min(not_anomaly, s.max_not_anomaly_marks)
    if any(f.kind == "expected" and f.day == c.day for f in marks):
        return Decision(c, False, z, threshold, "marked as expected for this day")
    if c.cost < s.min_amount:
        return Decision(c, False, z, threshold, f"below the minimum amount ({s.min_amount:g})")
    if z < threshold:
        return Decision(c, False, z, threshold, f"within baseline (z {z:.1f} < {threshold:.1f})")
    return Decision(c, True, z, threshold, f"z {z:.1f} ≥ {threshold:.1f}", likely_causes(c))


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
    causes: list[Cause] = []
    run_ratio = _ratio(c.runs, c.baseline_runs)
    dur_ratio = _ratio(c.avg_duration_s, c.baseline_duration_s)
    cost_ratio = _ratio(c.cost, c.median)
    if run_ratio and run_ratio > 1:
        causes.append(
            Cause(
                "more_runs",
                math.log(run_ratio),
                f"more runs: {c.runs} vs usually {c.baseline_runs:g}",
            )
        )
    if dur_ratio and dur_ratio > 1:
        causes.append(
            Cause(
                "longer_runs",
                math.log(dur_ratio),
                f"longer runs: {duration(c.avg_duration_s)} on average vs usually "
                f"{duration(c.baseline_duration_s)}",
            )
        )
    rate_ratio = None
    if cost_ratio:
        rate_ratio = cost_ratio / ((run_ratio or 1.0) * (dur_ratio or 1.0))
    new = [*c.new_skus, *c.new_node_types]
    if new or (rate_ratio and rate_ratio > 1.1):
        share = math.log(rate_ratio) if rate_ratio and rate_ratio > 1 else 0.0
        detail = f"new {', '.join(new)}" if new else ""
        if rate_ratio and rate_ratio > 1.1:
            rate = f"cost per run-hour ×{rate_ratio:.1f}"
            detail = f"{detail}; {rate}" if detail else rate
        # A new SKU or node type is worth naming even when the rate hardly moved.
        share = max(share, MIN_SHARE) if new else share
        causes.append(Cause("compute", share, f"bigger or different compute: {detail}"))
    extra_repairs = c.repairs - c.baseline_repairs
    if extra_repairs > 0:
        share = math.log(1 + extra_repairs / max(c.baseline_runs, 1.0))
        causes.append(
            Cause(
                "retries", share, f"retries: {c.repairs} repairs vs usually {c.baseline_repairs:g}"
            )
        )
    significant = [x for x in causes if x.share >= MIN_SHARE]
    return tuple(sorted(significant, key=lambda x: -x.share))


def _ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or baseline is None or baseline <= 0:
        return None
    return value / baseline
