"""`/jobs cost [window] [by …]` and `/jobs anomalies`: spend vs the previous window, top movers,
the daily trend, waste, and today's cost anomalies decided by `bot.monitors.cost`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot import actions
from bot.clock import as_utc
from bot.config import Config
from bot.grammar import Grouping, Window
from bot.monitors import cost as monitor
from bot.service.answer import Reader
from bot.service.common import num, ratio_change, workspace_label

TOP_N = 10
# Daily bars are only readable up to about a month; longer windows show their last 31 days.
MAX_SPARK_DAYS = 31

_WASTE_KINDS = {
    "failed_runs": "failed",
    "retried_attempts": "failed",
    "all_purpose_job": "all_purpose",
    "idle_cluster": "idle",
}


def cost_view(
    reader: Reader, config: Config, window: Window, group: Grouping, now: datetime
) -> dict[str, Any]:
    prev_since = window.since - window.length
    total = reader.one(
        "cost_total", {"since": window.since, "until": window.until, "prev_since": prev_since}
    )
    rows = reader.rows(
        "cost_by",
        {
            "since": window.since,
            "until": window.until,
            "prev_since": prev_since,
            "group_by": group.kind,
            "tag_key": group.tag_key,
            "limit": TOP_N,
        },
    )
    daily = reader.rows(
        "cost_daily",
        {"since": window.since, "until": window.until, "workspace_id": None, "job_id": None},
    )
    waste_rows = reader.rows("waste", {"since": window.since, "until": window.until})
    amount, prev = num(total.get("cost")) or 0.0, num(total.get("prev_cost")) or 0.0
    waste = {"failed": 0.0, "all_purpose": 0.0, "idle": 0.0}
    for row in waste_rows:
        kind = _WASTE_KINDS.get(str(row.get("kind")))
        if kind:
            waste[kind] += num(row.get("cost")) or 0.0
    return {
        "window": window.label,
        "group": group.kind if group.kind != "tag" else f"tag:{group.tag_key}",
        "total": amount,
        "prev_total": prev,
        "change": ratio_change(amount, prev),
        "currency": total.get("currency_code") or config.cost.currency,
        "billed_until": total.get("last_usage_end_time"),
        "top": [_top_row(config, group, row) for row in rows],
        "daily": _daily_series(daily, window),
        "waste": {
            k: {"amount": v, "share": (v / amount) if amount > 0 else None}
            for k, v in waste.items()
        },
    }


def _top_row(config: Config, group: Grouping, row: dict[str, Any]) -> dict[str, Any]:
    label = row.get("label") or "(unknown)"
    if group.kind == "workspace":
        label = workspace_label(config, row.get("group_key"), row.get("label"))
    cost, prev = num(row.get("cost")) or 0.0, num(row.get("prev_cost")) or 0.0
    return {
        "label": label,
        "cost": cost,
        "prev_cost": prev,
        "change": ratio_change(cost, prev),
        # Only a name the config gives: a bare 16-digit workspace id is noise in a top list.
        "workspace": _configured_name(config, row.get("workspace_id")),
    }


def _configured_name(config: Config, workspace_id: Any) -> str | None:
    ws = config.workspace(str(workspace_id)) if workspace_id is not None else None
    return ws.name if ws is not None else None


def _daily_series(rows: list[dict[str, Any]], window: Window) -> dict[str, Any]:
    by_day = {r["day"]: num(r.get("cost")) or 0.0 for r in rows}
    first, last = window.since.date(), (window.until - timedelta(microseconds=1)).date()
    first = max(first, last - timedelta(days=MAX_SPARK_DAYS - 1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    values = [by_day.get(d, 0.0) for d in days]
    return {"values": values, "first": days[0] if days else None, "last": last, "days": len(days)}


def anomalies_view(reader: Reader, config: Config, now: datetime) -> dict[str, Any]:
    """Today's anomalies (UTC day, as billing dates usage); yesterday's too when today has
    too little billing yet to judge — billing lags hours, so at 08:00 'today' is mostly empty."""
    today = as_utc(now).date()
    sensitivity = monitor.Sensitivity(
        threshold=config.cost.anomaly_sensitivity, min_amount=config.cost.min_daily_amount
    )
    days = [today, today - timedelta(days=1)]
    found: list[dict[str, Any]] = []
    small = 0
    for day in days:
        rows = reader.rows("cost_anomaly_candidates", {"day": day})
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
    found.sort(key=lambda a: (-a["excess"], a["key"]))
    return {
        "anomalies": found,
        "count": len(found),
        "below_minimum": small,
        "days": days,
        "sensitivity": config.cost.anomaly_sensitivity,
        "min_amount": config.cost.min_daily_amount,
        "currency": config.cost.currency,
    }


def _key(row: dict[str, Any]) -> str:
    return f"job:{row.get('workspace_id')}/{row.get('job_id')}"


def _split(text: Any) -> tuple[str, ...]:
    return tuple(p.strip() for p in str(text or "").split(",") if p.strip())


def _candidate(row: dict[str, Any], day: date) -> monitor.CostCandidate:
    # The query's expected_cost is the same-weekday-aware baseline; it is what "usual" means.
    median = num(row.get("expected_cost"))
    if median is None:
        median = num(row.get("baseline_median")) or 0.0
    return monitor.CostCandidate(
        key=_key(row),
        day=day,
        cost=num(row.get("cost")) or 0.0,
        median=median,
        mad=num(row.get("baseline_mad")) or 0.0,
        runs=int(row.get("runs") or 0),
        baseline_runs=num(row.get("baseline_runs")) or 0.0,
        avg_duration_s=num(row.get("avg_duration_seconds")),
        baseline_duration_s=num(row.get("baseline_avg_duration_seconds")),
        new_skus=_split(row.get("new_skus")),
        new_node_types=_split(row.get("new_node_types")),
        repairs=int(row.get("repaired_runs") or 0),
        name=row.get("name"),
    )


def _anomaly(config: Config, d: monitor.Decision, row: dict[str, Any], day: date) -> dict[str, Any]:
    c = d.candidate
    feedback = {"key": c.key, "day": day}
    return {
        "key": c.key,
        "name": row.get("name") or c.key,
        "workspace": workspace_label(config, row.get("workspace_id")),
        "day": day,
        "cost": c.cost,
        "baseline": c.median,
        "excess": d.excess,
        "ratio": d.ratio,
        "z": round(d.z, 1),
        "causes": [cause.text for cause in d.causes],
        "owner": row.get("owner"),
        "owner_id": config.owner_slack_id(row.get("owner")),
        "expected_value": actions.encode(**feedback),
        "not_anomaly_value": actions.encode(**feedback),
    }
