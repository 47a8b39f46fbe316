"""Golden cases of the proactive messages that do not come from one failed run: the cost
anomaly alert (fresh, grown, with feedback), the roll-up of many alerts, and the monitoring
degraded / restored notice — built with the services' own view types, hostile text included."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.service.cost_alert_view import CostAlertView, MoverLine

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


WS_VALUE = '{"v":1,"a":"14","k":"workspace:1001","d":"2026-03-02"}'
SKU_VALUE = '{"v":1,"a":"15","k":"sku:PREMIUM_JOBS_SERVERLESS_COMPUTE","d":"2026-03-02"}'
JOB_URL = "https://prod-emea.cloud.databricks.com/jobs/"


def _workspace(**over: Any) -> CostAlertView:
    base = _cost(
        incident_id=14,
        scope="workspace",
        name="workspace prod-emea",
        name_url="https://prod-emea.cloud.databricks.com",
        workspace="prod-emea",
        cost=520.0,
        baseline=300.0,
        excess=220.0,
        ratio=1.73,
        z=4.9,
        first_cost=520.0,
        causes=(
            "jobs up: ingest_a +$100.00, ingest_b +$80.00, steady_c +$40.00",
            "SKUs up: PREMIUM_JOBS_COMPUTE +$220.00",
            "more job runs: 40 vs usually 31",
        ),
        owner=None,
        owner_id=None,
        expected_value=WS_VALUE,
        not_anomaly_value=WS_VALUE,
        subject_noun="workspace",
        jobs=(
            MoverLine("ingest_a", JOB_URL + "11", 200.0, 100.0, 100.0),
            MoverLine("ingest_b", JOB_URL + "12", 180.0, 100.0, 80.0),
            MoverLine("steady_c", JOB_URL + "13", 140.0, 100.0, 40.0),
            MoverLine("usage without a job id", None, 60.0, 50.0, 10.0),
            MoverLine("fresh_job", JOB_URL + "14", 5.0, 0.0, 5.0),
        ),
        jobs_more=3,
        parts_title="SKUs that rose",
        parts=(MoverLine("PREMIUM_JOBS_COMPUTE", None, 520.0, 300.0, 220.0),),
        scope_note="every usage row of the workspace: jobs, all-purpose compute, SQL, storage",
        other_causes=("more job runs: 40 vs usually 31",),
    )
    return replace(base, **over)


def _sku(**over: Any) -> CostAlertView:
    base = _workspace(
        incident_id=15,
        scope="sku",
        name="SKU PREMIUM_JOBS_SERVERLESS_COMPUTE",
        name_url=None,
        workspace="all workspaces",
        cost=80.0,
        baseline=0.0,
        excess=80.0,
        ratio=None,
        z=5395.9,
        first_cost=80.0,
        causes=(
            "jobs up: nightly_sales (prod-emea) +$80.00",
            "workspaces up: prod-emea +$80.00",
            "a new SKU: not billed anywhere in the previous 28 days",
        ),
        expected_value=SKU_VALUE,
        not_anomaly_value=SKU_VALUE,
        subject_noun="SKU",
        jobs=(MoverLine("nightly_sales (prod-emea)", JOB_URL + "7", 80.0, 0.0, 80.0),),
        jobs_more=0,
        parts_title="Workspaces that rose",
        parts=(MoverLine("prod-emea", None, 80.0, 0.0, 80.0),),
        scope_note="this SKU's usage in every workspace",
        other_causes=("a new SKU: not billed anywhere in the previous 28 days",),
    )
    return replace(base, **over)


CASES.update(
    {
        "alert_cost_workspace": ("alert_cost_scope.json.j2", {"a": _workspace()}),
        "alert_cost_workspace_grown_hostile": (
            "alert_cost_scope.json.j2",
            {
                "a": _workspace(
                    cost=720.0,
                    excess=420.0,
                    grew=True,
                    causes=(f"jobs up: {EVIL} +$300.00",),
                    jobs=tuple(
                        MoverLine(EVIL * 20, JOB_URL + str(i), 300.0, 100.0, 200.0)
                        for i in range(5)
                    ),
                    jobs_more=40,
                    parts=(MoverLine(EVIL, None, 720.0, 300.0, 420.0),),
                    other_causes=(EVIL * 200,),
                )
            },  # fmt: skip
        ),
        "alert_cost_sku_new": ("alert_cost_scope.json.j2", {"a": _sku()}),
        "alert_cost_sku_not_anomaly": (
            "alert_cost_scope.json.j2",
            {
                "a": _sku(
                    open=False,
                    feedback_verdict="not_anomaly",
                    feedback_by="U02BOB",
                    feedback_at=NOW - timedelta(minutes=5),
                    threshold=5.25,
                )
            },  # fmt: skip
        ),
    }
)


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
