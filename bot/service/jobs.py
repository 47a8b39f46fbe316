"""`/jobs status <job>` and `/jobs running`: finding a job by what a person typed, one job in
detail, and the runs in progress — as plain data for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import actions
from bot.config import Config
from bot.grammar import JobRef
from bot.service.answer import Reader
from bot.service.common import (
    FAILED_STATES,
    as_int,
    job_url,
    num,
    owner_fields,
    run_url,
    workspace_host,
    workspace_label,
)

MAX_MATCHES = 5
RECENT_RUNS = 8
TREND_DAYS = 14

_STATE_EMOJI = {
    "SUCCEEDED": "✅",
    "SUCCESS": "✅",
    "FAILED": "❌",
    "ERROR": "❌",
    "INTERNAL_ERROR": "❌",
    "TIMED_OUT": "⏱️",
    "CANCELED": "⚪",
    "CANCELLED": "⚪",
    "SKIPPED": "⚪",
    "UPSTREAM_FAILED": "❌",
}


@dataclass(frozen=True)
class Lookup:
    """The job a reference names (`job`), or the candidates when it names none or several."""

    job: dict[str, Any] | None
    matches: list[dict[str, Any]]


def find_job(reader: Reader, ref: JobRef) -> Lookup:
    """Id, exact name, or a unique fuzzy match picks a job; anything else is a list to pick from.

    Job ids and names are only unique within a workspace, so the same exact name in two
    workspaces is ambiguous rather than silently the first one.
    """
    needle = str(ref.job_id) if ref.job_id is not None else ref.text
    rows = reader.rows("job_lookup", {"needle": needle, "include_deleted": False})
    if ref.workspace_id is not None:
        rows = [r for r in rows if str(r.get("workspace_id")) == str(ref.workspace_id)]
    best = [r for r in rows if r.get("match_kind") in ("id", "exact")]
    if len(best) == 1:
        return Lookup(best[0], [])
    if not best and len(rows) == 1:
        return Lookup(rows[0], [])
    return Lookup(None, (best or rows)[:MAX_MATCHES])


def match_view(config: Config, ref: JobRef, lookup: Lookup, total: int | None = None) -> dict:
    matches = []
    for row in lookup.matches:
        ws_id, job_id = as_int(row.get("workspace_id")), as_int(row.get("job_id"))
        value = None
        if ws_id is not None and job_id is not None:
            value = actions.encode(workspace_id=ws_id, job_id=job_id)
        matches.append(
            {
                "name": row.get("name") or f"job {row.get('job_id')}",
                "job_id": str(row.get("job_id")),
                "workspace": workspace_label(
                    config, row.get("workspace_id"), row.get("workspace_name")
                ),
                "kind": row.get("match_kind"),
                "pick_value": value,
                **owner_fields(config, row.get("owner")),
            }
        )
    return {"query": ref.text, "matches": matches, "ambiguous": bool(matches)}


def status_view(reader: Reader, config: Config, job: dict[str, Any], now: datetime) -> dict:
    ws, job_id = str(job["workspace_id"]), str(job["job_id"])
    key = {"workspace_id": ws, "job_id": job_id, "now": now}
    runs = reader.rows("job_recent_runs", {**key, "limit": RECENT_RUNS})
    stats = reader.one("job_run_stats", key)
    trend_rows = reader.rows("job_duration_trend", {**key, "days": TREND_DAYS})
    cost = reader.one("job_cost", key)
    host = workspace_host(config, ws)
    by_day = {r["day"]: num(r.get("median_seconds")) for r in trend_rows}
    today = now.date()
    trend = [by_day.get(today - timedelta(days=back)) for back in range(TREND_DAYS - 1, -1, -1)]
    return {
        "name": job.get("name") or f"job {job_id}",
        "job_id": job_id,
        "workspace": workspace_label(config, ws, job.get("workspace_name")),
        "url": job_url(host, job_id),
        **owner_fields(config, job.get("owner")),
        "runs": [_run(r, host, job_id) for r in runs],
        "stats": {
            "runs_7d": int(stats.get("runs_7d") or 0),
            "successes_7d": int(stats.get("successes_7d") or 0),
            "rate_7d": num(stats.get("success_rate_7d")),
            "runs_30d": int(stats.get("runs_30d") or 0),
            "successes_30d": int(stats.get("successes_30d") or 0),
            "rate_30d": num(stats.get("success_rate_30d")),
            "p50": num(stats.get("p50_seconds")),
            "p90": num(stats.get("p90_seconds")),
        },
        "trend": trend,
        "trend_days": TREND_DAYS,
        "cost_7d": num(cost.get("cost_7d")),
        "cost_30d": num(cost.get("cost_30d")),
        "currency": cost.get("currency_code") or config.cost.currency,
        "p90_seconds": num(stats.get("p90_seconds")),
    }


def _run(row: dict[str, Any], host: str | None, job_id: str) -> dict[str, Any]:
    state = "RUNNING" if row.get("in_progress") else (row.get("result_state") or "UNKNOWN")
    return {
        "run_id": str(row.get("run_id")),
        "state": state,
        "emoji": "🔄" if state == "RUNNING" else _STATE_EMOJI.get(state, "❔"),
        "failed": state in FAILED_STATES,
        "code": row.get("termination_code") if state in FAILED_STATES else None,
        "start": row.get("start_time"),
        "seconds": num(row.get("duration_seconds")),
        "repairs": int(row.get("repairs") or 0),
        "url": run_url(host, job_id, row.get("run_id")),
    }


def running_view(reader: Reader, config: Config, now: datetime) -> dict[str, Any]:
    rows = reader.rows("runs_in_progress", {"now": now})
    runs = []
    for row in rows:
        host = workspace_host(config, row.get("workspace_id"))
        elapsed, p90 = num(row.get("elapsed_seconds")), num(row.get("p90_seconds"))
        runs.append(
            {
                "name": row.get("name") or f"job {row.get('job_id')}",
                "workspace": workspace_label(
                    config, row.get("workspace_id"), row.get("workspace_name")
                ),
                "run_id": str(row.get("run_id")),
                "url": run_url(host, row.get("job_id"), row.get("run_id")),
                "start": row.get("start_time"),
                "elapsed": elapsed,
                "p90": p90,
                "long": bool(row.get("over_p90")),
                "ratio": (elapsed / p90) if elapsed is not None and p90 else None,
                **owner_fields(config, row.get("owner")),
            }
        )
    # Long-runners first (most over their p90), then the longest running.
    runs.sort(key=lambda r: (not r["long"], -(r["ratio"] or 0), -(r["elapsed"] or 0)))
    return {"runs": runs, "count": len(runs), "long_count": sum(1 for r in runs if r["long"])}
