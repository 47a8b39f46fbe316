"""Golden cases of the scheduled reports: the daily digest (the account's, a team's part sent
late, a quiet day) and the weekly cost report, built with the service's own view types; job,
cluster and team names are hostile (they must render literally, never ping)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.service.reports.views import DigestView, GroupCost, Line, WasteView, WeeklyView, data

EVIL = "<!channel> *boom* <http://evil|click> &amp;"
HOST = "https://prod.cloud.databricks.com"
SLOT = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def _waste(items: tuple[Line, ...] = ()) -> WasteView:
    return WasteView(
        failed=16.0, failed_runs=3, retried=1.25, all_purpose=4.0, all_purpose_jobs=1,
        idle=5.5, idle_clusters=1, total=26.75, items=items, more=2 if items else 0,
    )  # fmt: skip


def _digest(**over: Any) -> DigestView:
    view = DigestView(
        day=date(2026, 3, 2),
        scope=None,
        late=False,
        slot_at=None,
        reason=None,
        runs=5,
        successes=2,
        failures=3,
        success_rate=0.4,
        failed_jobs=(
            Line(EVIL, f"{HOST}/jobs/30/runs/e2", "prod", note="2 of 2 runs failed"),
            Line("nightly_sales", f"{HOST}/jobs/10/runs/r1", "prod", note="1 of 2 runs failed"),
        ),
        failed_more=4,
        sla_met=1,
        sla_missed=1,
        sla_lines=(Line(EVIL, f"{HOST}/jobs/30", "prod", note="missed: succeeded by 12:30 (UTC)"),),
        cost=28.5,
        avg_cost=7.0,
        change=21.5 / 7,
        movers=(
            Line("nightly_sales", f"{HOST}/jobs/10", "prod", 15.0, 5.0, 2.0),
            Line(EVIL, f"{HOST}/jobs/30", "prod", 6.0, 0.0, None),
        ),
        waste=_waste(
            (
                Line("nightly_sales", f"{HOST}/jobs/10", "prod", 10.0, note="failed runs, 1 run"),
                Line(
                    EVIL,
                    f"{HOST}/compute/clusters/c1",
                    "prod",
                    5.5,
                    note="idle cluster, avg CPU 2%",
                ),  # fmt: skip
            )
        ),
        incidents=(
            Line(
                EVIL,
                "https://slack.com/archives/C02ALERTS/p1772438400000100",
                "prod",
                note="failing, 3 in a row, acknowledged",
            ),  # fmt: skip
        ),
        incidents_more=0,
        currency="USD",
    )
    return DigestView(**{**data(view), **over})


def _weekly() -> WeeklyView:
    rows = (
        Line("finance-data", None, None, 45.0, 5.0, 8.0),
        Line(EVIL, None, None, 25.5, 2.0, 11.75),
    )
    return WeeklyView(
        since=date(2026, 3, 2),
        until=date(2026, 3, 8),
        late=False,
        slot_at=None,
        reason=None,
        cost=70.5,
        prev_cost=7.0,
        change=9.07,
        groups=(
            GroupCost("By team", rows),
            GroupCost("By workspace", (Line("prod", None, None, 70.5, 7.0, 9.07),)),
            GroupCost("By SKU", ()),
        ),
        top_cost=(Line(EVIL, f"{HOST}/jobs/10", "prod", 45.0, 5.0, 8.0),),
        top_growth=(Line("ml_train", f"{HOST}/jobs/20", "prod", 14.0, 2.0, 6.0),),
        waste=_waste(),
        currency="USD",
        chart_note="📈 Daily cost by `team` tag: in the thread",
    )


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "digest_account": ("digest.json.j2", data(_digest())),
    "digest_team_late": (
        "digest.json.j2",
        data(_digest(scope="#finance-data", late=True, slot_at=SLOT, incidents=())),
    ),
    "digest_quiet_demo": (
        "digest.json.j2",
        data(
            _digest(
                reason="demo",
                runs=0,
                successes=0,
                failures=0,
                success_rate=None,
                failed_jobs=(),
                failed_more=0,
                sla_met=0,
                sla_missed=0,
                sla_lines=(),
                cost=0.0,
                avg_cost=0.0,
                change=None,
                movers=(),
                incidents=(),
                waste=WasteView(0, 0, 0, 0, 0, 0, 0, 0, (), 0),
            )  # fmt: skip
        ),
    ),
    "weekly_report": ("weekly_report.json.j2", data(_weekly())),
}
