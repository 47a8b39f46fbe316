"""Cost anomaly decisions, hand-computed.

With median 100 and MAD 10 the scale is 1.4826 × 10 = 14.826, so z = (cost − 100) / 14.826.
"""

from __future__ import annotations

from datetime import date

import pytest

from bot.monitors.cost import (
    Cause,
    CauseKind,
    CostCandidate,
    Feedback,
    Sensitivity,
    Verdict,
    decide,
    detect,
    likely_causes,
    robust_z,
)

DAY = date(2026, 3, 2)
S = Sensitivity(threshold=3.5, min_amount=50)


def cand(
    cost: float, median: float = 100, mad: float = 10, key: str = "job:1/1", **kw
) -> CostCandidate:
    return CostCandidate(key=key, day=DAY, cost=cost, median=median, mad=mad, **kw)


def test_robust_z_formula():
    assert robust_z(300, 100, 10) == pytest.approx(200 / 14.826)  # 13.49
    assert robust_z(100, 100, 10) == 0
    assert robust_z(90, 100, 10) == pytest.approx(-10 / 14.826)


def test_well_above_baseline_is_an_anomaly():
    d = decide(cand(300), S)
    assert d.is_anomaly and d.z == pytest.approx(13.49, abs=0.01)
    assert d.excess == 200 and d.ratio == 3


def test_just_below_and_above_the_threshold():
    assert not decide(cand(151.8), S).is_anomaly  # z = 51.8 / 14.826 = 3.494
    assert decide(cand(152.0), S).is_anomaly  # z = 52 / 14.826 = 3.507


def test_mad_zero_uses_ten_percent_of_the_median_as_spread():
    # Without the floor, any change on a flat job would be infinitely unusual.
    assert robust_z(110, 100, 0) == pytest.approx(10 / 14.826)  # 0.67
    assert not decide(cand(110, mad=0), S).is_anomaly
    assert decide(cand(160, mad=0), S).is_anomaly  # 60 / 14.826 = 4.05


def test_new_spend_with_no_baseline_is_judged_by_the_minimum_amount():
    assert decide(cand(60, median=0, mad=0), S).is_anomaly
    assert not decide(cand(40, median=0, mad=0), S).is_anomaly


def test_below_the_minimum_amount_never_alerts():
    d = decide(cand(45, median=5, mad=1), S)  # z = 40 / 1.4826 = 27
    assert d.z > 20 and not d.is_anomaly
    assert d.verdict is Verdict.BELOW_MINIMUM


def test_each_decision_says_which_rule_decided_it():
    assert decide(cand(300), S, [Feedback("job:1/1", DAY, "expected")]).verdict is (
        Verdict.MARKED_EXPECTED
    )
    assert decide(cand(140), S).verdict is Verdict.WITHIN_BASELINE  # z = 2.7
    assert decide(cand(300), S).verdict is Verdict.ANOMALY


def test_expected_feedback_silences_only_that_job_and_day():
    expected = [Feedback("job:1/1", DAY, "expected")]
    assert not decide(cand(300), S, expected).is_anomaly
    assert decide(cand(300), S, [Feedback("job:1/1", date(2026, 3, 1), "expected")]).is_anomaly
    assert decide(cand(300, key="job:1/2"), S, expected).is_anomaly


@pytest.mark.parametrize(
    ("marks", "threshold"),
    [(0, 3.5), (1, 5.25), (2, 7.875), (3, 11.8125), (5, 11.8125)],
)
def test_not_an_anomaly_raises_the_threshold_up_to_a_cap(marks, threshold):
    feedback = [Feedback("job:1/1", date(2026, 2, i + 1), "not_anomaly") for i in range(marks)]
    assert decide(cand(170), S, feedback).threshold == pytest.approx(threshold)


def test_not_an_anomaly_mark_suppresses_a_similar_jump():
    # z = 70 / 14.826 = 4.72: over 3.5, under 3.5 × 1.5 = 5.25.
    mark = [Feedback("job:1/1", date(2026, 2, 20), "not_anomaly")]
    assert decide(cand(170), S).is_anomaly
    assert not decide(cand(170), S, mark).is_anomaly
    assert decide(cand(300), S, mark).is_anomaly  # a much bigger jump still alerts
    later = [Feedback("job:1/1", date(2026, 3, 5), "not_anomaly")]
    assert decide(cand(170), S, later).is_anomaly  # marks apply from their day on


def test_more_runs_explains_a_jump_at_the_usual_rate():
    c = cand(400, runs=12, baseline_runs=3, avg_duration_s=1200, baseline_duration_s=1200)
    (cause,) = likely_causes(c)
    assert cause.kind is CauseKind.MORE_RUNS
    assert (cause.value, cause.usual) == (12, 3)


def test_longer_runs_then_compute_ranked_by_share():
    c = cand(
        600,
        runs=3,
        baseline_runs=3,
        avg_duration_s=3600,
        baseline_duration_s=1200,
        new_node_types=("i3.4xlarge",),
    )
    causes = likely_causes(c)
    # cost ×6 = runs ×1 · duration ×3 · rate ×2  → shares ln 3 = 1.10, ln 2 = 0.69
    assert [x.kind for x in causes] == [CauseKind.LONGER_RUNS, CauseKind.COMPUTE]
    assert (causes[0].value, causes[0].usual) == (3600, 1200)
    assert causes[1].new == ("i3.4xlarge",)
    assert causes[1].rate_ratio == pytest.approx(2.0)


def test_a_new_sku_is_named_even_when_the_rate_barely_moved():
    c = cand(200, runs=2, baseline_runs=1, new_skus=("PREMIUM_JOBS_SERVERLESS_COMPUTE",))
    more, compute = likely_causes(c)
    assert (more.kind, compute.kind) == (CauseKind.MORE_RUNS, CauseKind.COMPUTE)
    # ×2 cost at ×2 runs: the rate did not move, so only the new SKU is reported.
    assert compute.new == ("PREMIUM_JOBS_SERVERLESS_COMPUTE",) and compute.rate_ratio is None


def test_retries_ranked_against_more_runs():
    c = cand(200, runs=4, baseline_runs=2, repairs=3, baseline_repairs=0)
    causes = likely_causes(c)
    # retries ln(1 + 3/2) = 0.92 > more runs ln 2 = 0.69; rate = 2 / 2 = 1 → no compute
    assert [x.kind for x in causes] == [CauseKind.RETRIES, CauseKind.MORE_RUNS]
    assert causes[0] == Cause(CauseKind.RETRIES, pytest.approx(0.916, abs=1e-3), 3, usual=0)


def test_small_moves_are_not_named_as_causes():
    c = cand(300, runs=21, baseline_runs=20, avg_duration_s=1000, baseline_duration_s=980)
    kinds = [x.kind for x in likely_causes(c)]
    assert kinds == ["compute"]  # ×3 cost, runs ×1.05, duration ×1.02 → the rate moved


def test_detect_returns_only_anomalies_biggest_excess_first():
    candidates = [
        cand(300, key="job:1/a"),  # +200
        cand(120, key="job:1/b"),  # within baseline
        cand(2000, median=1000, mad=100, key="job:1/c"),  # +1000, z 6.7
        cand(45, median=5, mad=1, key="job:1/d"),  # below minimum
    ]
    found = detect(candidates, S, [Feedback("job:1/a", DAY, "expected")])
    assert [d.candidate.key for d in found] == ["job:1/c"]
    found = detect(candidates, S)
    assert [d.candidate.key for d in found] == ["job:1/c", "job:1/a"]
