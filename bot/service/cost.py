"""`/jobs cost [window] [by …]` and `/jobs anomalies`: spend vs the previous window, top movers,
the daily trend, waste, and today's cost anomalies decided by `bot.monitors.cost`.

The comparison is like with like or none at all: the previous window is cut where billing
stops in this one (billing lands hours late), `today` compares with the same hours of
yesterday, and a previous window that billing does not (fully) cover gets a sentence instead
of a percentage (on an account with 30 days of data "+10,402% vs the previous 30d" is noise).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot import actions
from bot.clock import as_utc
from bot.config import Config
from bot.grammar import Grouping, Window
from bot.models import (
    CostAnomalyCandidate,
    CostGroup,
    CostRow,
    CostTotal,
    DailyCost,
    TagKey,
    WasteItem,
    WasteKind,
)
from bot.monitors import cost as monitor
from bot.service.answer import Reader
from bot.service.common import amount, num, ratio_change, workspace_label
from bot.service.phrases import (
    all_purpose_marker,
    cause_text,
    compared_phrase,
    cut_note,
    no_comparison_text,
    window_phrase,
    window_title,
)
from bot.service.views import (
    AllPurposeNote,
    AnomaliesView,
    AnomalyView,
    CostView,
    DailySeries,
    MissingTagView,
    TopRowView,
    WasteShare,
    WasteView,
)
from bot.warehouse import queries

TOP_N = 10
# Daily bars are only readable up to about a month; longer windows show their last 31 days.
MAX_SPARK_DAYS = 31
# How many all-purpose jobs and tag keys an answer names (the rest are counted).
NAMED = 5
# Tag keys read for "no job has tag X" (the few shown, and the look-alikes searched).
TAG_KEYS = 50
# A previous window cut less than this short of its end reads as the whole window.
_FULL = timedelta(minutes=1)
# The anomaly query scores in SQL what the monitor scores in Python, the same formula on the
# same values; the pre-filter sits a hair below the threshold so that the last bit of a
# double never hides a job the monitor would alert on (the monitor decides).
_PREFILTER = 1 - 1e-9


class Coverage(StrEnum):
    """Can this window be compared with the previous one?"""

    FULL = "full"
    UNBILLED = "unbilled"  # nothing billed in this window yet
    NO_DATA = "no_data"  # billing holds nothing for the compared stretch
    PARTIAL = "partial"  # billing starts inside the previous window


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
    prev_since = previous_start(window, config.timezone)
    total = reader.read(
        queries.cost_total_like_for_like,
        since=window.since,
        until=window.until,
        prev_since=prev_since,
    )
    prev_until = total.prev_until or prev_since
    rows = reader.read(
        queries.cost_by,
        since=window.since,
        until=window.until,
        prev_since=prev_since,
        prev_until=prev_until,
        group_by=group.kind,
        tag_key=group.tag_key,
        limit=TOP_N,
    )
    daily = reader.read(queries.cost_daily, since=window.since, until=window.until)
    waste_rows = reader.read(
        queries.waste,
        since=window.since,
        until=window.until,
        idle_cpu_percent=config.cost.idle_cpu_percent,
    )
    spent, prev = amount(total.cost), amount(total.prev_cost)
    waste = {"failed": 0.0, "all_purpose": 0.0, "idle": 0.0}
    for item in waste_rows:
        waste[_WASTE_KINDS[item.kind]] += amount(item.cost)

    def share(kind: str) -> WasteShare:
        return WasteShare(waste[kind], (waste[kind] / spent) if spent > 0 else None)

    tz = config.timezone
    coverage = coverage_of(total, prev_since)
    compare = coverage is Coverage.FULL
    compared = compared_phrase(window, prev_since, total.prev_until, tz)
    all_purpose = _all_purpose(waste_rows) if group.kind == CostGroup.JOB else None
    missing_tag = None
    if group.kind == CostGroup.TAG and rows and all(r.group_key is None for r in rows):
        keys = reader.read(
            queries.cost_tag_keys, since=window.since, until=window.until, limit=TAG_KEYS
        )
        missing_tag = _missing_tag(str(group.tag_key), keys)
    return CostView(
        window=window.label,
        window_phrase=window_phrase(window),
        window_title=window_title(window),
        prev_phrase=compared,
        group=group.kind if group.kind != "tag" else f"tag:{group.tag_key}",
        total=spent,
        prev_total=prev,
        change=ratio_change(spent, prev) if compare else None,
        currency=total.currency_code or config.cost.currency,
        billed_until=total.last_usage_end_time,
        top=tuple(_top_row(config, group, row, compare, all_purpose) for row in rows),
        daily=_daily_series(daily, window),
        waste=WasteView(share("failed"), share("all_purpose"), share("idle")),
        compare=compare,
        comparison=(
            None if compare else no_comparison_text(coverage, window, compared, total.data_from, tz)
        ),
        compare_note=_cut_note(window, total, tz) if compare else None,
        all_purpose=all_purpose,
        missing_tag=missing_tag,
    )


def previous_start(window: Window, tz: str) -> datetime:
    """Where the comparison window starts: the same length before, and for `today` and
    `yesterday` the local midnight a day earlier (a calendar day, whatever DST does)."""
    if window.label not in ("today", "yesterday"):
        return window.since - window.length
    local = window.since.astimezone(ZoneInfo(tz))
    # Wall-clock arithmetic on an aware datetime: the same local midnight, a day earlier.
    return as_utc(local - timedelta(days=1))


def coverage_of(total: CostTotal, prev_since: datetime) -> Coverage:
    """Whether billing covers the stretch the previous window is compared on."""
    if total.billed_until is None or total.prev_until is None:
        return Coverage.UNBILLED
    if total.data_from is None or total.data_from >= total.prev_until:
        return Coverage.NO_DATA
    if total.data_from > prev_since:
        return Coverage.PARTIAL
    return Coverage.FULL


def _cut_note(window: Window, total: CostTotal, tz: str) -> str | None:
    """Says so when the previous window was cut short (billing lags in this one)."""
    billed, cut = total.billed_until, total.prev_until
    if billed is None or cut is None or cut >= window.since - _FULL:
        return None
    return cut_note(window, billed, cut, tz)


def _all_purpose(items: list[WasteItem]) -> AllPurposeNote | None:
    """The jobs on all-purpose clusters, their estimated share summed over clusters."""
    share: dict[tuple[str, str], float] = defaultdict(float)
    names: dict[tuple[str, str], str] = {}
    for item in items:
        if item.kind is not WasteKind.ALL_PURPOSE_JOB or item.job_id is None:
            continue
        key = (item.workspace_id, item.job_id)
        share[key] += amount(item.cost)
        names[key] = item.label or f"job {item.job_id}"
    if not share:
        return None
    ranked = sorted(share, key=lambda k: (-share[k], names[k]))
    return AllPurposeNote(
        jobs=tuple(names[k] for k in ranked[:NAMED]),
        count=len(ranked),
        estimate=sum(share.values()),
    )


def _missing_tag(key: str, keys: list[TagKey]) -> MissingTagView:
    known = [k.tag_key for k in keys]
    folded = {k.lower(): k for k in known}
    suggestion = folded.get(key.lower())
    if suggestion is None:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        suggestion = close[0] if close else None
    return MissingTagView(
        key=key,
        known=tuple(known[:NAMED]),
        more=max(0, len(known) - NAMED),
        suggestion=suggestion,
    )


def _top_row(
    config: Config,
    group: Grouping,
    row: CostRow,
    compare: bool,
    all_purpose: AllPurposeNote | None,
) -> TopRowView:
    label = row.label or "(unknown)"
    if group.kind == CostGroup.WORKSPACE:
        label = workspace_label(config, row.group_key, row.label)
    cost, prev = amount(row.cost), amount(row.prev_cost)
    marker = None
    if group.kind == CostGroup.JOB and row.group_key is None and all_purpose is not None:
        # Where the all-purpose jobs' cost is: billing charges the cluster, not the job.
        marker = all_purpose_marker(all_purpose.count)
    return TopRowView(
        label=label,
        cost=cost,
        prev_cost=prev,
        change=ratio_change(cost, prev) if compare else None,
        # Only a name the config gives: a bare 16-digit workspace id is noise in a top list.
        workspace=_configured_name(config, row.workspace_id),
        marker=marker,
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
    # Every job's threshold is at least the configured one ("Not an anomaly" only raises it),
    # so jobs scoring below it need no cause hints: the query leaves them out.
    min_z = sensitivity.threshold * _PREFILTER
    for day in days:
        rows = reader.read(queries.cost_anomaly_candidates, day=day, min_z=min_z)
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
        baseline_repairs=amount(row.baseline_repaired_runs),
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
