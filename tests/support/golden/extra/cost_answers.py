"""Golden cases for `/jobs cost` answers that cannot, or can only partly, compare with the
previous window (issue 12 §3): today against the same billed hours of yesterday, a previous
window without (full) data, nothing billed yet, jobs on all-purpose compute, and an unknown
tag — hostile Databricks text included."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.service.views import (
    AllPurposeNote,
    CostView,
    DailySeries,
    MissingTagView,
    TopRowView,
    WasteShare,
    WasteView,
    template_data,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVIL = "<!channel> *boom* <http://evil|click> &amp;"
NO_JOB = "(no job id: all-purpose and other compute)"


def _row(label: str, cost: float, prev: float, change: float | None, **over: Any) -> TopRowView:
    return TopRowView(label=label, cost=cost, prev_cost=prev, change=change, workspace=None, **over)


def _base(**over: Any) -> CostView:
    view = CostView(
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
            _row(NO_JOB, 2487.72, 2713.0, -0.083),
            _row("claims_aggregate", 968.9, 974.7, -0.006),
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
    return replace(view, **over)


_ALL_PURPOSE = AllPurposeNote(
    jobs=("returns_export", EVIL, "dq_checks_daily", "partner_feed_export", "sessions_ingest"),
    count=7,
    estimate=54.26,
)

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    # Today at 05:30, billing up to 04:00: yesterday 00:00-04:00 is what it is compared with;
    # the all-purpose jobs are named, and the row that holds their cost says so.
    "cost_today_same_hours": (
        "cost.json.j2",
        template_data(
            _base(
                window="today",
                window_phrase="today",
                window_title="Today",
                prev_phrase="yesterday 00:00–04:00",
                total=171.94,
                prev_total=179.49,
                change=-0.042,
                top=(
                    _row(
                        NO_JOB, 75.0, 75.0, 0.0, marker="⚠️ holds the 7 jobs on all-purpose clusters"
                    ),
                    _row("nightly_sales", 4.46, 3.90, 0.144),
                    _row(EVIL, 3.46, 0.0, None),
                ),
                daily=DailySeries(
                    values=(0.0, 171.94), first=date(2026, 3, 1), last=date(2026, 3, 2), days=2
                ),
                compare_note="the same hours as billed today",
                all_purpose=_ALL_PURPOSE,
            )
        ),
    ),
    "cost_no_previous_data": (
        "cost.json.j2",
        template_data(
            _base(
                window="30d",
                window_phrase="in the last 30d",
                window_title="last 30d",
                prev_phrase="the previous 30d",
                total=24735.0,
                prev_total=0.0,
                change=None,
                top=(
                    _row(NO_JOB, 11715.01, 0.0, None),
                    _row("claims_aggregate", 3713.94, 0.0, None),
                ),
                compare=False,
                comparison="no data for the previous 30d",
            )
        ),
    ),
    "cost_previous_partly_covered": (
        "cost.json.j2",
        template_data(
            _base(
                prev_total=149.36,
                change=None,
                top=(
                    _row(NO_JOB, 2487.72, 149.36, None),
                    _row("claims_aggregate", 968.9, 0.0, None),
                ),
                compare=False,
                comparison="the previous 7d only partly covered (data from Fri 20 Feb 01:00)",
            )
        ),
    ),
    "cost_nothing_billed_yet": (
        "cost.json.j2",
        template_data(
            _base(
                window="6h",
                window_phrase="in the last 6h",
                window_title="last 6h",
                prev_phrase="the previous 6h",
                total=0.0,
                prev_total=0.0,
                change=None,
                top=(),
                daily=DailySeries(
                    values=(0.0,), first=date(2026, 3, 2), last=date(2026, 3, 2), days=1
                ),
                waste=WasteView(
                    WasteShare(0.0, None), WasteShare(0.0, None), WasteShare(0.0, None)
                ),
                compare=False,
                comparison="nothing billed in the last 6h yet, so nothing to compare",
            )
        ),
    ),
    # `by colour` where no usage carries the tag: said, with the keys that exist.
    "cost_unknown_tag": (
        "cost.json.j2",
        template_data(
            _base(
                group="tag:colour",
                top=(_row("(untagged)", 5633.33, 5834.41, -0.0345),),
                compare_note="to the same point: billed to Mon 02 Mar 06:00 here, so counted to Mon 23 Feb 06:00 there",
                missing_tag=MissingTagView(
                    key="colour",
                    known=("team", "owner", "Colour", EVIL, "env"),
                    more=3,
                    suggestion="Colour",
                ),
            )
        ),
    ),
    "cost_unknown_tag_none_exist": (
        "cost.json.j2",
        template_data(
            _base(
                group=f"tag:{EVIL}",
                top=(_row("(untagged)", 5633.33, 5834.41, -0.0345),),
                missing_tag=MissingTagView(key=EVIL, known=(), more=0, suggestion=None),
            )
        ),
    ),
}
