"""`/jobs sla [job]` and the SLA line of `/jobs status`: the config's SLA rules adapted to the
pure monitor (`bot.monitors.sla`), fed with each job's recent runs grouped by local day, and
its facts phrased into `SlaEntryView`s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import as_utc
from bot.config import Config, SlaRule, format_days
from bot.models import JobMatch, RunSummary
from bot.monitors import sla as monitor
from bot.render.formatting import clock_time, duration
from bot.render.mrkdwn import with_times
from bot.service.answer import Reader
from bot.service.common import num, workspace_label
from bot.service.jobs import job_key
from bot.service.phrases import sla_reason
from bot.service.views import SlaEntryView
from bot.warehouse import queries

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


@dataclass
class _Day:
    success_ends: list[datetime] = field(default_factory=list)
    finished: list[tuple[datetime, datetime, str | None]] = field(default_factory=list)
    running: list[datetime] = field(default_factory=list)


def day_runs(runs: Sequence[RunSummary], tz: str, now: datetime) -> list[monitor.DayRuns]:
    """Recent runs (job_recent_runs) as one DayRuns per local day in `tz`."""
    zone = ZoneInfo(tz)
    now = as_utc(now)
    days: dict[date, _Day] = {}
    for run in runs:
        start, end = as_utc(run.start_time), as_utc(run.end_time)
        start_day = start.astimezone(zone).date()
        if run.in_progress:
            if now - end <= STALE_RUNNING:
                days.setdefault(start_day, _Day()).running.append(start)
            continue
        if run.result_state == "SUCCEEDED":
            days.setdefault(end.astimezone(zone).date(), _Day()).success_ends.append(end)
        days.setdefault(start_day, _Day()).finished.append((start, end, run.result_state))
    out = []
    for d in sorted(days):
        slot = days[d]
        last = max(slot.finished, default=None, key=lambda f: f[0])
        out.append(
            monitor.DayRuns(
                day=d,
                first_success_end=min(slot.success_ends, default=None),
                last_start=last[0] if last else None,
                last_end=last[1] if last else None,
                last_result=last[2] if last else None,
                running_starts=tuple(sorted(slot.running)),
                success_ends=tuple(sorted(slot.success_ends)),
            )
        )
    return out


def sla_entry(
    reader: Reader, config: Config, rule: SlaRule, job: JobMatch | None, now: datetime
) -> SlaEntryView:
    """One rule's state today and its last 7 days, for one job (None: the job was not found)."""
    rule_text = describe_rule(rule, config.timezone)
    if job is None:
        return SlaEntryView(
            name=rule.job.describe(),
            rule=rule_text,
            workspace="—",
            found=False,
            emoji="❔",
            state="Unknown job",
            reason="no job with this name in the system tables",
            days=(),
            bad=False,
        )
    key = job_key(job)
    runs = reader.read(queries.job_recent_runs, key, now=now, limit=RUNS_LIMIT)
    p90 = num(reader.read(queries.job_run_stats, key, now=now).p90_seconds)
    spec = spec_for(rule, config.timezone)
    history = day_runs(runs, spec.tz, now)
    status = monitor.evaluate(spec, history, p90, now)
    verdicts = monitor.last_days(spec, history, p90, now, n=7)
    emoji, label = STATE_LABEL[status.state]
    # Instants in the configured zone: labelled in plain text ("07:00 CET"), and as Slack
    # dates in mrkdwn, so every time in the answer reads in one zone (the reader's own in
    # Slack, like the data-as-of line) and none is a bare HH:MM of some other zone. One on
    # another day (a freshness rule's last success two days ago) says which day.
    zone = config.timezone
    return SlaEntryView(
        name=job.name or rule.job.describe(),
        rule=rule_text,
        workspace=workspace_label(config, job.workspace_id, job.workspace_name),
        found=True,
        emoji=emoji,
        state=label,
        state_key=str(status.state),
        reason=sla_reason(status, spec, lambda t: clock_time(t, zone, now)),
        reason_mrkdwn=with_times(lambda when: sla_reason(status, spec, when), zone, now),
        deadline=status.deadline,
        days=tuple("✓" if v is True else "✗" if v is False else "·" for v in verdicts),
        bad=status.state in (monitor.SlaState.BREACHED, monitor.SlaState.AT_RISK),
        late=status.state is monitor.SlaState.MET_LATE,
    )


def rules_for_job(config: Config, job: JobMatch) -> list[SlaRule]:
    return config.slas_for(job.name, job.workspace_id, job.job_id)
