"""`/jobs sla [job]` and the SLA line of `/jobs status`: the config's SLA rules adapted to the
pure monitor (`bot.monitors.sla`), fed with each job's recent runs grouped by local day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import as_utc
from bot.config import Config, SlaRule, format_days
from bot.monitors import sla as monitor
from bot.render.formatting import duration
from bot.service.answer import Reader
from bot.service.common import num, workspace_label

HISTORY_DAYS = 8  # 7 days of ✓/✗ plus the day before, for runs that cross midnight
# An hourly job runs ~24 times a day; 8 days of those plus repairs fit in this many runs.
RUNS_LIMIT = 240
# A run whose slices stopped this long ago without a final state is lost data, not running
# (same rule as queries/runs_in_progress.sql).
STALE_RUNNING = timedelta(hours=6)

STATE_LABEL = {
    monitor.SlaState.MET: ("🟢", "Met"),
    monitor.SlaState.MET_LATE: ("🟠", "Met late"),
    monitor.SlaState.PENDING: ("⚪", "Pending"),
    monitor.SlaState.AT_RISK: ("🟡", "At risk"),
    monitor.SlaState.BREACHED: ("🔴", "Breached"),
    monitor.SlaState.NOT_APPLICABLE: ("➖", "No SLA today"),
}


def spec_for(rule: SlaRule, default_tz: str) -> monitor.SlaSpec:
    return monitor.SlaSpec(
        kind=rule.kind,
        deadline=rule.deadline,
        days=rule.weekdays,
        tz=rule.tz_name(default_tz),
        max_minutes=rule.max_minutes,
        every_hours=rule.every_hours,
    )


def describe_rule(rule: SlaRule, default_tz: str) -> str:
    if rule.kind == "deadline":
        assert rule.deadline is not None
        days = "" if rule.days is None else f" {format_days(rule.days)}"
        return f"succeeded by {rule.deadline:%H:%M}{days} ({rule.tz_name(default_tz)})"
    if rule.kind == "max_duration":
        assert rule.max_duration is not None
        return f"finishes within {duration(rule.max_duration)}"
    assert rule.freshness is not None
    return f"succeeds at least every {duration(rule.freshness)}"


def day_runs(runs: Sequence[dict[str, Any]], tz: str, now: datetime) -> list[monitor.DayRuns]:
    """Recent runs (job_recent_runs rows) as one DayRuns per local day in `tz`."""
    zone = ZoneInfo(tz)
    now = as_utc(now)
    days: dict[date, dict[str, Any]] = {}

    def slot(d: date) -> dict[str, Any]:
        return days.setdefault(d, {"success_ends": [], "finished": [], "running": []})

    for run in runs:
        start, end = run.get("start_time"), run.get("end_time")
        if start is None:
            continue
        start = as_utc(start)
        start_day = start.astimezone(zone).date()
        if run.get("in_progress"):
            if end is not None and now - as_utc(end) <= STALE_RUNNING:
                slot(start_day)["running"].append(start)
            continue
        if end is None:
            continue
        end = as_utc(end)
        if run.get("result_state") == "SUCCEEDED":
            slot(end.astimezone(zone).date())["success_ends"].append(end)
        slot(start_day)["finished"].append((start, end, run.get("result_state")))
    out = []
    for d in sorted(days):
        slots = days[d]
        last = max(slots["finished"], default=None, key=lambda f: f[0])
        out.append(
            monitor.DayRuns(
                day=d,
                first_success_end=min(slots["success_ends"], default=None),
                last_start=last[0] if last else None,
                last_end=last[1] if last else None,
                last_result=last[2] if last else None,
                running_starts=tuple(sorted(slots["running"])),
                success_ends=tuple(sorted(slots["success_ends"])),
            )
        )
    return out


def sla_entry(
    reader: Reader, config: Config, rule: SlaRule, job: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    """One rule's state today and its last 7 days, for one job (None: the job was not found)."""
    base = {
        "name": (job or {}).get("name") or rule.job.describe(),
        "rule": describe_rule(rule, config.timezone),
        "workspace": workspace_label(
            config, (job or {}).get("workspace_id"), (job or {}).get("workspace_name")
        )
        if job
        else "—",
    }
    if job is None:
        return {
            **base,
            "found": False,
            "emoji": "❔",
            "state": "Unknown job",
            "reason": "no job with this name in the system tables",
            "days": [],
            "bad": False,
        }
    key = {"workspace_id": str(job["workspace_id"]), "job_id": str(job["job_id"]), "now": now}
    runs = reader.rows("job_recent_runs", {**key, "limit": RUNS_LIMIT})
    p90 = num(reader.one("job_run_stats", key).get("p90_seconds"))
    spec = spec_for(rule, config.timezone)
    history = day_runs(runs, spec.tz, now)
    status = monitor.evaluate(spec, history, p90, now)
    verdicts = monitor.last_days(spec, history, p90, now, n=7)
    emoji, label = STATE_LABEL[status.state]
    return {
        **base,
        "found": True,
        "emoji": emoji,
        "state": label,
        "state_key": str(status.state),
        "reason": status.reason,
        "deadline": status.deadline,
        "days": ["✓" if v is True else "✗" if v is False else "·" for v in verdicts],
        "bad": status.state in (monitor.SlaState.BREACHED, monitor.SlaState.AT_RISK),
    }


def rules_for_job(config: Config, job: dict[str, Any]) -> list[SlaRule]:
    return config.slas_for(job.get("name"), job.get("workspace_id"), job.get("job_id"))
