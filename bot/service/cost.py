"""`/jobs cost [window] [by …]` and `/jobs anomalies`: spend vs the previous window, top movers,
the daily trend, waste, and today's cost anomalies decided by `bot.monitors.cost`."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot import actions
from bot.clock import as_utc
from bot.config import Config
from bot.grammar import Grouping, Window
from bot.models import CostAnomalyCandidate, CostGroup, CostRow, DailyCost, WasteKind
from bot.monitors import cost as monitor
from bot.service.answer import Reader
from bot.service.common import amount, num, ratio_change, workspace_label
from bot.service.phrases import cause_text, previous_phrase, window_phrase, window_title
from bot.service.views import (
    AnomaliesView,
    AnomalyView,
    CostView,
    DailySeries,
    TopRowView,
    WasteShare,
    WasteView,
)
from bot.warehouse import queries

TOP_N = 10
# Daily bars are only readable up to about a month; longer windows show their last 31 days.
MAX_SPARK_DAYS = 31

# Waste kinds as the cost answer groups them: a retried attempt is a failed run's cost too.
_WASTE_KINDS = {
    WasteKind.FAILED_RUNS: "failed",
    WasteKind.RETRIED_ATTEMPTS: "failed",
    WasteKind.ALL_PURPOSE_JOB: "all_purpose",
    WasteKind.IDLE_CLUSTER: "idle",
}


def cost_view(
    reader: Reader, config: Config, window: Window, group: Grouping, now: datetime
) -> CostView:
    prev_since = window.since - window.length
    total = reader.read(
        queries.cost_total, since=window.since, until=window.until, prev_since=prev_since
    )
    rows = reader.read(
        queries.cost_by,
        since=window.since,
        until=window.until,
        prev_since=prev_since,
        group_by=group.kind,
        tag_key=group.tag_key,
        limit=TOP_N,
    )
    daily = reader.read(queries.cost_daily, since=window.since, until=window.until)
    waste_rows = reader.read(queries.waste, since=window.since, until=window.until)
    spent, prev = amount(total.cost), amount(total.prev_cost)
    waste = {"failed": 0.0, "all_purpose": 0.0, "idle": 0.0}
    for row in waste_rows:
        waste[_WASTE_KINDS[row.kind]] += amount(row.cost)

    def share(kind: str) -> WasteShare:
        return WasteShare(waste[kind], (waste[kind] / spent) if spent > 0 else None)

    return CostView(
        window=window.label,
        window_phrase=window_phrase(window),
        window_title=window_title(window),
        prev_phrase=previous_phrase(window),
        group=group.kind if group.kind != "tag" else f"tag:{group.tag_key}",
        total=spent,
        prev_total=prev,
        change=ratio_change(spent, prev),
        currency=total.currency_code or config.cost.currency,
        billed_until=total.last_usage_end_time,
        top=tuple(_top_row(config, group, row) for row in rows),
        daily=_daily_series(daily, window),
        waste=WasteView(share("failed"), share("all_purpose"), share("idle")),
    )


def _top_row(config: Config, group: Grouping, row: CostRow) -> TopRowView:
    label = row.label or "(unknown)"
    if group.kind == CostGroup.WORKSPACE:
        label = workspace_label(config, row.group_key, row.label)
    cost, prev = amount(row.cost), amount(row.prev_cost)
    return TopRowView(
        label=label,
        cost=cost,
        prev_cost=prev,
        change=ratio_change(cost, prev),
        # Only a name the config gives: a bare 16-digit workspace id is noise in a top list.
        workspace=_configured_name(config, row.workspace_id),
    )


def _configured_name(config: Config, workspace_id: str | None) -> str | None:
    ws = config.workspace(workspace_id) if workspace_id is not None else None
    return ws.name if ws is not None else None


def _daily_series(rows: list[DailyCost], window: Window) -> DailySeries:
    by_day = {r.day: amount(r.cost) for r in rows}
    first, last = window.since.date(), (window.until - timedelta(microseconds=1)).date()
    first = max(first, last - timedelta(days=MAX_SPARK_DAYS - 1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    values = tuple(by_day.get(d, 0.0) for d in days)
    return DailySeries(values=values, first=days[0] if days else None, last=last, days=len(days))


def anomalies_view(reader: Reader, config: Config, now: datetime) -> AnomaliesView:
    """Today's anomalies (UTC day, as billing dates usage); yesterday's too when today has
    too little billing yet to judge — billing lags hours, so at 08:00 'today' is mostly empty."""
    today = as_utc(now).date()
    sensitivity = monitor.Sensitivity(
        threshold=config.cost.anomaly_sensitivity, min_amount=config.cost.min_daily_amount
    )
    days = (today, today - timedelta(days=1))
    found: list[AnomalyView] = []
    small = 0
    for day in days:
        rows = reader.read(queries.cost_anomaly_candidates, day=day)
        candidates = [_candidate(r, day) for r in rows]
        decisions = monitor.detect(candidates, sensitivity)
        # Jumps that only the minimum amount kept quiet: worth a word, not an alert.
        small += sum(
            1
            for c in candidates
            if c.cost < sensitivity.min_amount
            and monitor.robust_z(c.cost, c.median, c.mad, sensitivity) >= sensitivity.threshold
        )
        by_key = {_key(r): r for r in rows}
        found.extend(_anomaly(config, d, by_key[d.candidate.key], day) for d in decisions)
    found.sort(key=lambda a: (-a.excess, a.key))
    return AnomaliesView(
        anomalies=tuple(found),
        count=len(found),
        below_minimum=small,
        days=days,
        sensitivity=config.cost.anomaly_sensitivity,
        min_amount=config.cost.min_daily_amount,
        currency=config.cost.currency,
    )


def _key(row: CostAnomalyCandidate) -> str:
    return f"job:{row.workspace_id}/{row.job_id}"


def _candidate(row: CostAnomalyCandidate, day: date) -> monitor.CostCandidate:
    # The query's expected_cost is the same-weekday-aware baseline; it is what "usual" means.
    median = num(row.expected_cost)
    if median is None:
        median = num(row.baseline_median) or 0.0
    return monitor.CostCandidate(
        key=_key(row),
        day=day,
        cost=amount(row.cost),
        median=median,
        mad=amount(row.baseline_mad),
        runs=row.runs,
        baseline_runs=amount(row.baseline_runs),
        avg_duration_s=num(row.avg_duration_seconds),
        baseline_duration_s=num(row.baseline_avg_duration_seconds),
        new_skus=row.new_skus,
        new_node_types=row.new_node_types,
        repairs=row.repaired_runs,
        name=row.name,
    )


def _anomaly(
    config: Config, d: monitor.Decision, row: CostAnomalyCandidate, day: date
) -> AnomalyView:
    c = d.candidate
    feedback = actions.encode(key=c.key, day=day)
    return AnomalyView(
        key=c.key,
        name=row.name or c.key,
        workspace=workspace_label(config, row.workspace_id),
        day=day,
        cost=c.cost,
        baseline=c.median,
        excess=d.excess,
        ratio=d.ratio,
        z=round(d.z, 1),
        causes=tuple(cause_text(cause) for cause in d.causes),
        owner=row.owner,
        owner_id=config.owner_slack_id(row.owner),
        expected_value=feedback,
        not_anomaly_value=feedback,
    )
