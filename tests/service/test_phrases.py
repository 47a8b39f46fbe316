"""The sentences the service makes from the monitors' facts: every SLA reason and every cost
cause, worded exactly as people read them in Slack (times local to the rule's timezone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.monitors import cost, sla
from bot.monitors.sla import DayRuns, SlaReason, SlaSpec
from bot.service.phrases import cause_text, decision_text, sla_reason

AMS = "Europe/Amsterdam"  # CET in March: local = UTC + 1
MON = date(2026, 3, 2)
P90 = 45 * 60
DEADLINE = SlaSpec("deadline", deadline=time(7, 0), days=frozenset(range(5)), tz=AMS)
LIMIT = SlaSpec("max_duration", max_minutes=90, tz=AMS)
FRESH = SlaSpec("freshness", every_hours=2, tz=AMS)


def utc(hh: int, mm: int = 0, day: date = MON) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


def said(spec: SlaSpec, now: datetime, *days: DayRuns, p90: float | None = P90) -> str:
    return sla_reason(sla.evaluate(spec, days, p90, now), spec)


FAILED_EARLY = DayRuns(MON, last_start=utc(4), last_end=utc(4, 30), last_result="FAILED")


@pytest.mark.parametrize(
    ("spec", "now", "days", "p90", "text"),
    [
        (DEADLINE, utc(5), (), P90, "not started yet (due 07:00)"),
        (
            DEADLINE,
            utc(5, 20),
            (),
            P90,
            "not running; a run takes 45m 00s (p90), so it would end 07:05 at the earliest "
            "(due 07:00)",
        ),
        (
            DEADLINE,
            utc(5, 21),
            (DayRuns(MON, running_starts=(utc(5, 20),)),),
            P90,
            "running since 06:20, usually takes 45m 00s (p90), expected 07:05 (due 07:00)",
        ),
        (
            DEADLINE,
            utc(5, 51),
            (DayRuns(MON, running_starts=(utc(5, 50),)),),
            None,
            "running since 06:50 (due 07:00)",
        ),
        (
            DEADLINE,
            utc(9),
            (DayRuns(MON, first_success_end=utc(5, 50)),),
            P90,
            "succeeded at 06:50 (due 07:00)",
        ),
        (
            DEADLINE,
            utc(9),
            (DayRuns(MON, first_success_end=utc(6, 25)),),
            P90,
            "succeeded at 07:25, 25m 00s late (due 07:00)",
        ),
        (DEADLINE, utc(6, 40), (FAILED_EARLY,), P90, "last run failed; no successful run by 07:00"),
        (DEADLINE, utc(5), (FAILED_EARLY,), P90, "last run failed; not started yet (due 07:00)"),
        (DEADLINE, datetime(2026, 3, 7, 9, tzinfo=UTC), (), P90, "no SLA on this day"),
        (
            LIMIT,
            utc(9, 30),
            (DayRuns(MON, running_starts=(utc(8),)),),
            3600,
            "running for 1h 30m, limit 1h 30m",
        ),
        (
            LIMIT,
            utc(8, 30),
            (DayRuns(MON, running_starts=(utc(8),)),),
            100 * 60,
            "running for 30m 00s; usually takes 1h 40m (p90), limit 1h 30m",
        ),
        (LIMIT, utc(8, 30), (), 3600, "no finished run this day"),
        (
            LIMIT,
            utc(12),
            (DayRuns(MON, last_start=utc(8), last_end=utc(9), last_result="SUCCEEDED"),),
            3600,
            "took 1h 00m, limit 1h 30m",
        ),
        (
            LIMIT,
            utc(12),
            (DayRuns(MON, last_start=utc(8), last_end=utc(10), last_result="SUCCEEDED"),),
            3600,
            "took 2h 00m, limit 1h 30m",
        ),
        (
            LIMIT,
            utc(12),
            (DayRuns(MON, last_start=utc(8), last_end=utc(10), last_result="TIMED_OUT"),),
            3600,
            "took 2h 00m and ended timed_out, limit 1h 30m",
        ),
        (FRESH, utc(9), (), None, "no successful run on record"),
        (
            FRESH,
            utc(9),
            (DayRuns(MON, first_success_end=utc(6, 14), success_ends=(utc(6, 14),)),),
            None,
            "last success 07:14, expected every 2h 00m",
        ),
        (
            FRESH,
            utc(7),
            (DayRuns(MON, first_success_end=utc(6, 14), success_ends=(utc(6, 14),)),),
            None,
            "last success 07:14, expected every 2h 00m (next due 09:14)",
        ),
        (
            FRESH,
            utc(7, 50),
            (DayRuns(MON, first_success_end=utc(6, 14), success_ends=(utc(6, 14),)),),
            P90,
            "not running; a run takes 45m 00s (p90), so it would end 09:35 at the earliest "
            "(next due 09:14)",
        ),
    ],
)
def test_every_sla_reason_reads_as_before(spec, now, days, p90, text):
    assert said(spec, now, *days, p90=p90) == text


def test_every_sla_reason_has_a_phrase():
    phrased = {
        SlaReason.NO_SLA_TODAY, SlaReason.SUCCEEDED, SlaReason.NO_SUCCESS, SlaReason.RUNNING,
        SlaReason.NOT_RUNNING, SlaReason.NOT_STARTED, SlaReason.RUNNING_FOR,
        SlaReason.NO_FINISHED_RUN, SlaReason.TOOK, SlaReason.NO_SUCCESS_ON_RECORD,
        SlaReason.LAST_SUCCESS,
    }  # fmt: skip
    assert phrased == set(SlaReason)  # a new reason needs a sentence (and a case above)


def cand(value: float, **kw: object) -> cost.CostCandidate:
    return cost.CostCandidate(key="job:1/1", day=MON, cost=value, median=100, mad=10, **kw)  # type: ignore[arg-type]


def test_cost_causes_read_as_before():
    (more,) = cost.likely_causes(
        cand(400, runs=12, baseline_runs=3, avg_duration_s=1200, baseline_duration_s=1200)
    )
    assert cause_text(more) == "more runs: 12 vs usually 3"
    longer, compute = cost.likely_causes(
        cand(
            600,
            runs=3,
            baseline_runs=3,
            avg_duration_s=3600,
            baseline_duration_s=1200,
            new_node_types=("i3.4xlarge",),
        )
    )
    assert cause_text(longer) == "longer runs: 1h 00m on average vs usually 20m 00s"
    assert cause_text(compute) == (
        "bigger or different compute: new i3.4xlarge; cost per run-hour ×2.0"
    )
    retries, _ = cost.likely_causes(cand(200, runs=4, baseline_runs=2, repairs=3))
    assert cause_text(retries) == "retries: 3 repairs vs usually 0"
    _, sku = cost.likely_causes(cand(200, runs=2, baseline_runs=1, new_skus=("SERVERLESS",)))
    assert cause_text(sku) == "bigger or different compute: new SERVERLESS"
    (rate,) = cost.likely_causes(cand(300, runs=20, baseline_runs=20))
    assert cause_text(rate) == "bigger or different compute: cost per run-hour ×3.0"


def test_decisions_read_as_before():
    s = cost.Sensitivity(threshold=3.5, min_amount=50)
    expected = [cost.Feedback("job:1/1", MON, "expected")]
    assert decision_text(cost.decide(cand(300), s, expected), s) == (
        "marked as expected for this day"
    )
    small = cost.CostCandidate(key="k", day=MON, cost=45, median=5, mad=1)
    assert decision_text(cost.decide(small, s), s) == "below the minimum amount (50)"
    assert decision_text(cost.decide(cand(140), s), s) == "within baseline (z 2.7 < 3.5)"
    assert decision_text(cost.decide(cand(300), s), s) == "z 13.5 ≥ 3.5"
