"""Golden cases for `/jobs status` beyond a plain job: found by a typo or by a former name,
deleted, paused, a run in flight past its p90, and a pick list with renamed and deleted jobs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.service.views import (
    MatchesView,
    MatchView,
    RunStatsView,
    RunView,
    StatusView,
    template_data,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVIL = "<!channel> *boom* <http://evil|click> &amp;"
HOST = "https://adb-111.1.azuredatabricks.net"


def _run(run_id: str, state: str, emoji: str, ago: timedelta, seconds: float) -> RunView:
    return RunView(
        run_id=run_id,
        state=state,
        emoji=emoji,
        failed=state == "FAILED",
        code="RUN_EXECUTION_ERROR" if state == "FAILED" else None,
        start=NOW - ago,
        seconds=seconds,
        repairs=0,
        url=f"{HOST}/jobs/100/runs/{run_id}",
    )


def _base(**over: Any) -> StatusView:
    view = StatusView(
        name="nightly_sales",
        job_id="100",
        workspace="prod-data-eng",
        url=f"{HOST}/jobs/100",
        owner="ana.silva@example.com",
        owner_id="U01ALICE",
        runs=(
            _run("9002", "SUCCEEDED", "✅", timedelta(days=1, hours=3), 2950.0),
            _run("9001", "SUCCEEDED", "✅", timedelta(days=2, hours=3), 2900.0),
        ),
        stats=RunStatsView(
            runs_7d=6,
            successes_7d=6,
            rate_7d=1.0,
            runs_30d=28,
            successes_30d=27,
            rate_30d=27 / 28,
            p50=2900.0,
            p90=3300.0,
        ),
        trend=(2800.0, 2900.0, None, 3000.0, 2950.0, 2900.0, None),
        trend_days=7,
        cost_7d=73.125,
        cost_30d=286.8,
        currency="USD",
        p90_seconds=3300.0,
    )
    return replace(view, **over)


_IDLE = RunStatsView(
    runs_7d=0, successes_7d=0, rate_7d=None, runs_30d=3, successes_30d=3, rate_30d=1.0,
    p50=2900.0, p90=3300.0,
)  # fmt: skip
_OLD_RUN = (_run("8001", "SUCCEEDED", "✅", timedelta(days=9), 2900.0),)
_LONG = replace(
    _run("9003", "RUNNING", "🔄", timedelta(hours=1, minutes=10), 3600.0),
    elapsed=4200.0,
    p90=3300.0,
    long=True,
)

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "status_closest_match": (
        "status.json.j2",
        template_data(_base(closest_to=EVIL)),
    ),
    "status_renamed": (
        "status.json.j2",
        template_data(
            _base(renamed_from="sales_old", renamed_at=NOW - timedelta(days=20, hours=8))
        ),
    ),
    "status_deleted": (
        "status.json.j2",
        template_data(
            _base(
                url=None,
                runs=tuple(replace(r, url=None) for r in _OLD_RUN),
                stats=_IDLE,
                deleted_at=NOW - timedelta(days=3, hours=2),
            )
        ),
    ),
    "status_all_purpose": (
        "status.json.j2",
        template_data(_base(cost_7d=0.0, cost_30d=0.0, all_purpose_hours_30d=12.5)),
    ),
    "status_paused": (
        "status.json.j2",
        template_data(_base(runs=_OLD_RUN, stats=_IDLE, paused=True)),
    ),
    "status_long_running": (
        "status.json.j2",
        template_data(_base(runs=(_LONG, *_base().runs), long_run=_LONG)),
    ),
    "status_matches_history": (
        "status_matches.json.j2",
        template_data(
            MatchesView(
                query="sales_old",
                matches=(
                    MatchView(
                        name="nightly_sales",
                        job_id="100",
                        workspace="prod-data-eng",
                        kind="renamed",
                        pick_value=None,
                        owner="ana.silva@example.com",
                        owner_id=None,
                        renamed_from="sales_old",
                    ),
                    MatchView(
                        name="nightly_sales_v2",
                        job_id="140",
                        workspace="staging",
                        kind="renamed",
                        pick_value=None,
                        owner=None,
                        owner_id=None,
                        deleted=True,
                        renamed_from="sales_old",
                    ),
                ),
                ambiguous=True,
            )
        ),
    ),
}
