"""Representative data for every answer template: the golden cases. Built with the service's own
view types (bot.service.views), so a view that drifts breaks here; including the hostile cases
(a job name that tries to ping the channel, an error message full of backticks, unicode).

The Slack-side messages (share button, shared credit, working notice, problem) are built in
bot/slack from plain keyword arguments, so their cases stay plain dicts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot import actions
from bot.grammar import COMMANDS, WINDOW_EXAMPLES
from bot.service.commands import IDS
from bot.service.views import (
    AnomaliesView,
    AnomalyView,
    CostView,
    DailySeries,
    ErrorView,
    FailingJobView,
    FailingView,
    HelpView,
    MatchesView,
    MatchView,
    NoticeView,
    RunningRunView,
    RunningView,
    RunStatsView,
    RunView,
    SlaEntryView,
    SlaView,
    StatusView,
    TopRowView,
    View,
    WasteShare,
    WasteView,
    template_data,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVIL = "<!channel> *boom* <http://evil|click> &amp;"
HOST = "https://adb-111.1.azuredatabricks.net"
FRESH = {"as_of": NOW, "lag": "system tables lag 5–15 min"}


def _alert(*, resolved: bool, acked: bool = False) -> Any:
    from bot.service.alert_view import failure_alert
    from bot.store.records import Incident, IncidentState

    detail = {
        "job_name": EVIL,
        "job_url": f"{HOST}/jobs/101",
        "workspace": "prod-data-eng",
        "run_id": "9002",
        "run_url": f"{HOST}/jobs/101/runs/9002",
        "state": "FAILED",
        "code": "RUN_EXECUTION_ERROR",
        "type": "CLIENT_ERROR",
        "message": "Task load failed",
        "ended_at": (NOW - timedelta(minutes=3)).isoformat(),
        "duration_seconds": 1850.0,
        "p90_seconds": 1500.0,
        "trigger": "PERIODIC",
        "owner": "ana.silva@example.com",
        "owner_id": "U01ALICE",
        "cost": "4.125",
        "currency": "USD",
        "tasks": [
            {
                "key": "load",
                "attempts": 3,
                "max_retries": 2,
                "error": "SparkException: ```rm -rf /``` <!here>",
            },
            {"key": "publish", "attempts": 1, "error": None},
        ],
        "late": False,
    }
    incident = Incident(
        id=42, workspace_id="111", job_id="101", kind="failure", key="", job_name=EVIL,
        state=IncidentState.RESOLVED if resolved else IncidentState.OPEN,
        first_failure_at=NOW - timedelta(hours=2, minutes=10), last_failure_at=NOW,
        streak=3, last_run_id="9002", last_error="x", detail=detail, channel="C1",
        message_ts="1.2", thread_ts="1.2", acked_by="U02BOB" if acked else None,
        acked_at=NOW if acked else None, snoozed_by=None, snoozed_until=None,
        resolved_at=NOW if resolved else None, resolved_run_id="9003" if resolved else None,
        version=1, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    return failure_alert(incident, now=NOW, currency="USD")


def _extra_cases() -> dict[str, tuple[str, dict[str, Any]]]:
    """Cases kept in tests/support/golden/extra/<topic>.py (each a module-level `CASES` dict of
    name -> (template, data)), so each message family keeps its cases beside its own code."""
    import importlib
    import pkgutil
    from pathlib import Path

    found: dict[str, tuple[str, dict[str, Any]]] = {}
    folder = Path(__file__).with_name("extra")
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda i: i.name):
        module = importlib.import_module(f"tests.support.golden.extra.{info.name}")
        for name, case in module.CASES.items():
            if name in found:
                raise ValueError(f"golden case {name!r} is defined twice")
            found[name] = case
    return found


def _failing_job(i: int, name: str, **over: Any) -> FailingJobView:
    job = FailingJobView(
        name=name,
        job_id=str(100 + i),
        run_id=str(9000 + i),
        workspace="prod-data-eng",
        streak=4 - i,
        failures=4 - i,
        runs=6,
        state="FAILED",
        code="RUN_EXECUTION_ERROR",
        error=None,
        when=NOW - timedelta(minutes=20 + 30 * i),
        url=f"{HOST}/jobs/{100 + i}/runs/{9000 + i}",
        rerun_value=actions.encode(workspace_id=111, job_id=100 + i, run_id=9000 + i),
        owner="ana.silva@example.com",
        owner_id="U01ALICE",
    )
    return replace(job, **over)


def _failing() -> FailingView:
    jobs = [
        _failing_job(0, "nightly_sales", failed_tasks=("load_orders", "publish")),
        _failing_job(
            1,
            EVIL,
            error="SparkException: ```rm -rf /``` failed at `stage 3` <!here>",
            owner="someone@example.com",
            owner_id=None,
        ),
        _failing_job(2, "ventes_journalières 📦", url=None, code=None, state="TIMED_OUT"),
    ]
    return FailingView(
        window="24h",
        window_phrase="in the last 24h",
        window_title="last 24h",
        jobs=tuple(jobs),
        count=len(jobs),
    )


def _status() -> StatusView:
    runs = (
        RunView(
            run_id="9003",
            state="FAILED",
            emoji="❌",
            failed=True,
            code="RUN_EXECUTION_ERROR",
            start=NOW - timedelta(hours=3),
            seconds=3125.0,
            repairs=1,
            url=f"{HOST}/jobs/100/runs/9003",
        ),
        RunView(
            run_id="9002",
            state="SUCCEEDED",
            emoji="✅",
            failed=False,
            code=None,
            start=NOW - timedelta(days=1, hours=3),
            seconds=2950.0,
            repairs=0,
            url=f"{HOST}/jobs/100/runs/9002",
        ),
        RunView(
            run_id="9001",
            state="RUNNING",
            emoji="🔄",
            failed=False,
            code=None,
            start=NOW - timedelta(minutes=5),
            seconds=300.0,
            repairs=0,
            url=None,
        ),
    )
    return StatusView(
        name="nightly_sales",
        job_id="100",
        workspace="prod-data-eng",
        url=f"{HOST}/jobs/100",
        owner="ana.silva@example.com",
        owner_id="U01ALICE",
        runs=runs,
        stats=RunStatsView(
            runs_7d=7,
            successes_7d=6,
            rate_7d=6 / 7,
            runs_30d=30,
            successes_30d=27,
            rate_30d=0.9,
            p50=2900.0,
            p90=3300.0,
        ),
        trend=(2800.0, 2900.0, None, 3000.0, 2950.0, 3100.0, 3125.0),
        trend_days=7,
        cost_7d=73.125,
        cost_30d=286.8,
        currency="USD",
        p90_seconds=3300.0,
        slas=(
            SlaEntryView(
                name="nightly_sales",
                rule="succeeded by 06:00 Mon-Fri (UTC)",
                workspace="prod-data-eng",
                found=True,
                emoji="🔴",
                state="Breached",
                state_key="breached",
                reason="last run failed; no successful run by 06:00",
                deadline=NOW,
                days=("✓", "✓", "✗", "·", "·", "✓", "✗"),
                bad=True,
            ),
        ),
    )


def _matches(found: bool) -> MatchesView:
    matches = (
        tuple(
            MatchView(
                name=f"sales_export_{i}",
                job_id=str(200 + i),
                workspace="prod",
                kind="substring",
                pick_value=actions.encode(workspace_id=111, job_id=200 + i),
                owner="ben.carter@example.com",
                owner_id=None,
            )
            for i in range(5)
        )
        if found
        else ()
    )
    return MatchesView(
        query="sales <export>" if found else "'; DROP TABLE x; --",
        matches=matches,
        ambiguous=found,
    )


def _running(empty: bool) -> RunningView:
    runs = (
        ()
        if empty
        else (
            RunningRunView(
                name="carts_scd2_merge",
                workspace="prod-analytics",
                run_id="77",
                url=f"{HOST}/jobs/5/runs/77",
                start=NOW - timedelta(hours=3, minutes=44),
                elapsed=13440.0,
                p90=11520.0,
                long=True,
                ratio=1.17,
                owner="pablo.mendes@example.com",
                owner_id=None,
            ),
            RunningRunView(
                name="devices_merge",
                workspace="ml-prod",
                run_id="78",
                url=None,
                start=NOW - timedelta(minutes=8),
                elapsed=480.0,
                p90=None,
                long=False,
                ratio=None,
                owner=None,
                owner_id=None,
            ),
        )
    )
    return RunningView(runs=runs, count=len(runs), long_count=sum(1 for r in runs if r.long))


def _running_live() -> RunningView:
    base = _running(False)
    queued = RunningRunView(
        name=EVIL, workspace="prod-emea", run_id="79", url=None, start=NOW - timedelta(minutes=2),
        elapsed=120.0, p90=None, long=False, ratio=None, owner=None, owner_id=None, queued=True,
        queue_reason="the job's max concurrent runs reached",
    )  # fmt: skip
    return replace(
        base,
        runs=(*base.runs, queued),
        count=3,
        live=True,
        from_tables=("legacy-ws",),
        unreachable=("prod-us (not answering: timed out)",),
    )


def _sla() -> SlaView:
    entries = (
        SlaEntryView(
            name="hourly_events_ingest",
            rule="succeeds at least every 2h 00m",
            workspace="prod",
            found=True,
            emoji="🔴",
            state="Breached",
            state_key="breached",
            reason="last success 04:14, expected every 2h 00m",
            deadline=NOW,
            days=("✗", "✓", "✓", "✗", "✓", "✓", "✗"),
            bad=True,
        ),
        SlaEntryView(
            name="nightly_sales",
            rule="succeeded by 06:00 Mon-Fri (UTC)",
            workspace="prod",
            found=True,
            emoji="🟢",
            state="Met",
            state_key="met",
            reason="succeeded at 05:00 (due 06:00)",
            deadline=NOW,
            days=("✓", "✓", "✓", "✓", "·", "·", "✓"),
            bad=False,
        ),
        SlaEntryView(
            name="ghost_job",
            rule="finishes within 1h 30m",
            workspace="—",
            found=False,
            emoji="❔",
            state="Unknown job",
            reason="no job with this name in the system tables",
            days=(),
            bad=False,
        ),
    )
    return SlaView(entries=entries, count=3, bad_count=1, job=None)


def _cost() -> CostView:
    return CostView(
        window="7d",
        window_phrase="in the last 7d",
        window_title="last 7d",
        prev_phrase="the previous 7d",
        group="job",
        total=5633.33,
        prev_total=5834.41,
        change=-0.0345,
        currency="USD",
        billed_until=NOW - timedelta(hours=2),
        top=(
            TopRowView(
                label="(no job id: all-purpose and other compute)",
                cost=2487.72,
                prev_cost=2713.0,
                change=-0.083,
                workspace=None,
            ),
            TopRowView(
                label="claims_aggregate",
                cost=968.9,
                prev_cost=974.7,
                change=-0.006,
                workspace="ml-prod",
            ),
            TopRowView(label=EVIL, cost=78.16, prev_cost=0.0, change=None, workspace=None),
        ),
        daily=DailySeries(
            values=(800.0, 810.5, 790.0, 1200.0, 805.0, 0.0, 830.0),
            first=date(2026, 2, 24),
            last=date(2026, 3, 2),
            days=7,
        ),
        waste=WasteView(
            failed=WasteShare(amount=42.04, share=0.0075),
            all_purpose=WasteShare(amount=54.26, share=0.0096),
            idle=WasteShare(amount=1452.9, share=0.258),
        ),
    )


def _anomalies(empty: bool) -> AnomaliesView:
    feedback = actions.encode(key="job:111/300", day=date(2026, 3, 2))
    anomalies = (
        ()
        if empty
        else (
            AnomalyView(
                key="job:111/300",
                name="ml_feature_refresh",
                workspace="ml-prod",
                day=date(2026, 3, 2),
                cost=413.29,
                baseline=102.1,
                excess=311.19,
                ratio=4.05,
                z=68.2,
                causes=(
                    "longer runs: 3.0× the usual duration",
                    "bigger compute: Standard_DS5_v2 is new",
                ),
                owner="chloe.martin@example.com",
                owner_id="U03CAROL",
                expected_value=feedback,
                not_anomaly_value=feedback,
            ),
        )
    )
    return AnomaliesView(
        anomalies=anomalies,
        count=len(anomalies),
        below_minimum=0 if not empty else 3,
        days=(date(2026, 3, 2), date(2026, 3, 1)),
        sensitivity=3.5,
        min_amount=50.0,
        currency="USD",
    )


def _help(problem: str | None) -> HelpView:
    return HelpView(commands=COMMANDS, problem=problem, windows=WINDOW_EXAMPLES, command="/jobs")


def cases() -> dict[str, tuple[str, dict[str, Any]]]:
    """case name → (template, data). Every template appears at least once."""
    common = {"ids": IDS, "fresh": FRESH, "now": NOW}
    views: dict[str, tuple[str, View]] = {
        "failing": ("failing.json.j2", _failing()),
        "failing_empty": ("failing.json.j2", replace(_failing(), jobs=(), count=0)),
        "status": ("status.json.j2", _status()),
        "status_matches": ("status_matches.json.j2", _matches(True)),
        "status_unknown": ("status_matches.json.j2", _matches(False)),
        "running": ("running.json.j2", _running(False)),
        "running_empty": ("running.json.j2", _running(True)),
        "running_live": ("running.json.j2", _running_live()),
        "sla": ("sla.json.j2", _sla()),
        "sla_none": ("sla.json.j2", SlaView(entries=(), count=0, bad_count=0, job=None)),
        "cost": ("cost.json.j2", _cost()),
        "anomalies": ("anomalies.json.j2", _anomalies(False)),
        "anomalies_empty": ("anomalies.json.j2", _anomalies(True)),
        "help": ("help.json.j2", _help(None)),
        "help_typo": (
            "help.json.j2",
            _help("I don't know `/jobs stauts`. Did you mean `/jobs status`?"),
        ),
        "error": (
            "error.json.j2",
            ErrorView(message="I couldn't read the system tables <now>.", error_id="ab12cd34"),
        ),
        "notice": ("notice.json.j2", NoticeView(what="Muting a job")),
    }
    # Built by bot/slack from keyword arguments, not by the service.
    slack: dict[str, tuple[str, dict[str, Any]]] = {
        "share_button": (
            "share_button.json.j2",
            {"value": actions.encode(command="failing 24h", at=1772438400)},
        ),
        "shared_credit": ("shared_credit.json.j2", {"user_id": "U02BOB", "label": "/jobs <!here>"}),
        "working": ("working.json.j2", {"label": "/jobs status `a` <!channel>"}),
        "problem": (
            "problem.json.j2",
            {"message": "I can't post in this channel. Invite me first: `/invite @jobs-bot`."},
        ),
    }
    # Built by the alert use case from an incident (bot/service/alert_view.py).
    alerts: dict[str, tuple[str, dict[str, Any]]] = {
        "alert_failure": ("alert_failure.json.j2", {"a": _alert(resolved=False)}),
        "alert_failure_acked": ("alert_failure.json.j2", {"a": _alert(resolved=False, acked=True)}),
        "alert_recovered": ("alert_failure.json.j2", {"a": _alert(resolved=True)}),
        "alert_thread": (
            "alert_thread.json.j2",
            {"line": "🔴 Failed again: run 9002 (2 in a row)", "quote": EVIL + "\nline two"},
        ),
    }
    raw = {name: (tpl, template_data(view)) for name, (tpl, view) in views.items()}
    raw.update(slack)
    raw.update(alerts)
    raw.update(_extra_cases())
    return {name: (tpl, {**common, **data}) for name, (tpl, data) in raw.items()}
