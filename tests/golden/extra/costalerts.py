"""Golden cases of the proactive messages that do not come from one failed run: the cost
anomaly alert (fresh, grown, with feedback), the roll-up of many alerts, and the monitoring
degraded / restored notice — built with the services' own view types, hostile text included."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.service.cost_alerts import CostAlertView

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVIL = "<!channel> *boom* <http://evil|click> &amp;"
VALUE = '{"v":1,"a":"12","k":"job:1001/7","d":"2026-03-02"}'


def _cost(**over: Any) -> CostAlertView:
    view = CostAlertView(
        incident_id=12,
        scope="job",
        name="nightly_sales",
        name_url="https://prod-emea.cloud.databricks.com/jobs/7",
        workspace="prod-emea",
        day=date(2026, 3, 2),
        day_phrase="Mon 02 Mar",
        cost=480.0,
        baseline=100.0,
        excess=380.0,
        ratio=4.8,
        z=25.6,
        threshold=3.5,
        first_cost=480.0,
        grew=False,
        causes=("more runs: 4 vs usually 1", "longer runs: 1h 10m on average vs usually 35m"),
        owner="ana@example.com",
        owner_id="U01ALICE",
        currency="USD",
        sensitivity=3.5,
        min_amount=50.0,
        open=True,
        feedback_verdict=None,
        feedback_by=None,
        feedback_at=None,
        expected_value=VALUE,
        not_anomaly_value=VALUE,
    )
    return replace(view, **over)


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "alert_cost": ("alert_cost.json.j2", {"a": _cost()}),
    "alert_cost_grown_hostile": (
        "alert_cost.json.j2",
        {
            "a": _cost(
                name=EVIL,
                cost=720.0,
                excess=620.0,
                ratio=7.2,
                grew=True,
                causes=(EVIL,),
                owner=EVIL,
                owner_id=None,
                name_url=None,
            )
        },  # fmt: skip
    ),
    "alert_cost_expected": (
        "alert_cost.json.j2",
        {
            "a": _cost(
                open=False,
                feedback_verdict="expected",
                feedback_by="U02BOB",
                feedback_at=NOW - timedelta(minutes=5),
                causes=(),
            )
        },  # fmt: skip
    ),
    "alert_cost_not_anomaly": (
        "alert_cost.json.j2",
        {
            "a": _cost(
                open=False,
                feedback_verdict="not_anomaly",
                feedback_by="U02BOB",
                feedback_at=NOW - timedelta(minutes=5),
                threshold=5.25,
            )
        },  # fmt: skip
    ),
}


def _rollup(**over: Any) -> Any:
    from bot.service.rollup import ErrorCount, RollupView

    view = RollupView(
        count=37,
        failures=37,
        kinds_phrase="37 failures",
        where=("prod-emea",),
        since=NOW - timedelta(minutes=6),
        last=NOW - timedelta(seconds=20),
        top_errors=(
            ErrorCount("TABLE_OR_VIEW_NOT_FOUND", 20),
            ErrorCount("DRIVER_UNREACHABLE", 12),
            ErrorCount(EVIL, 3),
        ),
        more_errors=2,
        open=True,
    )
    return replace(view, **over)


def _health(**over: Any) -> Any:
    from bot.service.health import HealthView

    view = HealthView(
        what="the Jobs API of prod-emea",
        effect="failure alerts for prod-emea are late: they come from the system tables "
        "instead, minutes to hours behind",
        since=NOW - timedelta(minutes=3),
        failures=3,
        error=EVIL,
        restored_at=None,
        lasted=None,
    )
    return replace(view, **over)


CASES.update(
    {
        "rollup": ("rollup.json.j2", {"r": _rollup()}),
        "rollup_mixed_closed": (
            "rollup.json.j2",
            {
                "r": _rollup(
                    count=40,
                    kinds_phrase="37 failures, 3 cost anomalies",
                    open=False,
                    where=("prod-emea", EVIL, "dev", "staging"),
                    more_errors=0,
                )
            },  # fmt: skip
        ),
        "degraded": ("degraded.json.j2", {"h": _health()}),
        "restored": (
            "degraded.json.j2",
            {"h": _health(restored_at=NOW, lasted="3m")},
        ),
    }
)
