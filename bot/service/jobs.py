"""`/jobs status <job>` and `/jobs running`: finding a job by what a person typed, one job in
detail, and the runs in progress — as the views for the templates.

Finding is by id, exact name, a name the job had before (the SCD2 history of the jobs table),
or a unique fuzzy match, and deleted jobs are found too: the answer then says how the job was
found (the closest match to the words typed, renamed on a date) and what it is now (deleted,
paused, a run in flight past its p90), instead of showing another job, or nothing, silently."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from bot import actions
from bot.config import Config
from bot.grammar import JobArg
from bot.models import (
    FAILED_STATES,
    JobFound,
    JobKey,
    JobMatch,
    MatchKind,
    RunningRun,
    RunSummary,
)
from bot.service.answer import Reader
from bot.service.common import (
    as_int,
    job_name,
    job_url,
    num,
    run_url,
    workspace_host,
    workspace_label,
)
from bot.service.views import (
    MatchesView,
    MatchView,
    RunningRunView,
    RunningView,
    RunStatsView,
    RunView,
    StatusView,
)
from bot.warehouse import queries

MAX_MATCHES = 5
RECENT_RUNS = 8
TREND_DAYS = 14
# A run whose slices stopped longer ago than this without a final state is lost data, not a
# run in flight (the rule of queries/runs_in_progress.sql, which `/jobs running` shows).
LIVE_SLICE = timedelta(hours=6)

# Tiers of a lookup, best first: a tier with one job (one live job, if there are deleted ones
# too) picks it; a tier with several is a list to choose from; an empty tier defers to the next.
_TIERS = (
    frozenset({MatchKind.ID, MatchKind.EXACT}),
    frozenset({MatchKind.RENAMED}),
    frozenset({MatchKind.SUBSTRING, MatchKind.FUZZY}),
)

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

    job: JobMatch | None
    matches: list[JobMatch]


@dataclass(frozen=True)
class PickedJob(JobFound):
    """The job a lookup picked, with the words that found it (for "the closest match to…")."""

    asked: str = ""


def job_key(job: JobMatch) -> JobKey:
    return JobKey(job.workspace_id, job.job_id)


def find_job(reader: Reader, ref: JobArg) -> Lookup:
    """Id, exact name, a former name, or a unique fuzzy match picks a job; anything else is a
    list to pick from.

    Job ids and names are only unique within a workspace, so the same exact name in two
    workspaces is ambiguous rather than silently the first one. Deleted jobs are found (the
    answer says when they were deleted), but a live job of the same tier wins over them: a
    job deleted and created again under the same name means the new one.
    """
    needle = str(ref.job_id) if ref.job_id is not None else ref.text
    rows = reader.read(queries.job_lookup_found, needle, include_deleted=True)
    if ref.workspace_id is not None:
        rows = [r for r in rows if r.workspace_id == str(ref.workspace_id)]
    for tier in _TIERS:
        found = [r for r in rows if r.match_kind in tier]
        if not found:
            continue
        live = [r for r in found if not r.deleted]
        pick = live or found
        if len(pick) == 1:
            return Lookup(_picked(pick[0], ref.text), [])
        listed: list[JobMatch] = [*live, *(r for r in found if r.deleted)]
        return Lookup(None, listed[:MAX_MATCHES])
    return Lookup(None, [])


def _picked(row: JobFound, asked: str) -> PickedJob:
    return PickedJob(**{f.name: getattr(row, f.name) for f in fields(row)}, asked=asked)


def past_p90(elapsed: float | None, p90: float | None) -> bool:
    """The long-runner rule: running longer than the job's usual p90 (no history: never)."""
    return elapsed is not None and p90 is not None and elapsed > p90


def match_view(config: Config, ref: JobArg, lookup: Lookup) -> MatchesView:
    matches = []
    for row in lookup.matches:
        ws_id, job_id = as_int(row.workspace_id), as_int(row.job_id)
        value = None
        if ws_id is not None and job_id is not None:
            value = actions.encode(workspace_id=ws_id, job_id=job_id)
        matches.append(
            MatchView(
                name=job_name(row.name, row.job_id),
                job_id=row.job_id,
                workspace=workspace_label(config, row.workspace_id, row.workspace_name),
                kind=str(row.match_kind),
                pick_value=value,
                owner=row.owner,
                owner_id=config.owner_slack_id(row.owner),
                deleted=row.deleted,
                renamed_from=ref.text if row.match_kind is MatchKind.RENAMED else None,
            )
        )
    return MatchesView(query=ref.text, matches=tuple(matches), ambiguous=bool(matches))


def status_view(reader: Reader, config: Config, job: JobMatch, now: datetime) -> StatusView:
    key = job_key(job)
    runs = reader.read(queries.job_recent_runs, key, now=now, limit=RECENT_RUNS)
    stats = reader.read(queries.job_run_stats, key, now=now)
    trend_rows = reader.read(queries.job_duration_trend, key, now=now, days=TREND_DAYS)
    cost = reader.read(queries.job_cost, key, now=now)
    found = job if isinstance(job, JobFound) else None
    deleted_at = found.delete_time if found is not None and job.deleted else None
    # A deleted job's pages are gone from the workspace: no links to them.
    host = None if job.deleted else workspace_host(config, job.workspace_id)
    by_day = {r.day: num(r.median_seconds) for r in trend_rows}
    today = now.date()
    trend = [by_day.get(today - timedelta(days=back)) for back in range(TREND_DAYS - 1, -1, -1)]
    p90 = num(stats.p90_seconds)
    run_views = tuple(_run(r, host, job.job_id, now, p90) for r in runs)
    asked = job.asked if isinstance(job, PickedJob) else None
    fuzzy = job.match_kind in (MatchKind.SUBSTRING, MatchKind.FUZZY)
    renamed = job.match_kind is MatchKind.RENAMED
    return StatusView(
        name=job_name(job.name, job.job_id),
        job_id=job.job_id,
        workspace=workspace_label(config, job.workspace_id, job.workspace_name),
        url=job_url(host, job.job_id),
        owner=job.owner,
        owner_id=config.owner_slack_id(job.owner),
        runs=run_views,
        stats=RunStatsView(
            runs_7d=stats.runs_7d,
            successes_7d=stats.successes_7d,
            rate_7d=num(stats.success_rate_7d),
            runs_30d=stats.runs_30d,
            successes_30d=stats.successes_30d,
            rate_30d=num(stats.success_rate_30d),
            p50=num(stats.p50_seconds),
            p90=p90,
        ),
        trend=tuple(trend),
        trend_days=TREND_DAYS,
        cost_7d=num(cost.cost_7d),
        cost_30d=num(cost.cost_30d),
        all_purpose_hours_30d=float(cost.all_purpose_hours_30d or 0.0),
        currency=cost.currency_code or config.cost.currency,
        p90_seconds=p90,
        closest_to=asked if fuzzy else None,
        renamed_from=asked if renamed and found is not None and found.renamed_at else None,
        renamed_at=found.renamed_at if renamed and found is not None else None,
        deleted_at=deleted_at,
        paused=bool(found is not None and found.paused and not job.deleted),
        long_run=next((r for r in run_views if r.long), None),
    )


def _run(
    row: RunSummary, host: str | None, job_id: str, now: datetime, p90: float | None
) -> RunView:
    state = "RUNNING" if row.in_progress else (row.result_state or "UNKNOWN")
    # In flight as /jobs running sees it: no final state, and a slice in the last hours.
    live = row.in_progress and now - row.end_time < LIVE_SLICE
    elapsed = max(0.0, (now - row.start_time).total_seconds()) if live else None
    return RunView(
        run_id=row.run_id,
        state=state,
        emoji="🔄" if state == "RUNNING" else _STATE_EMOJI.get(state, "❔"),
        failed=state in FAILED_STATES,
        code=row.termination_code if state in FAILED_STATES else None,
        start=row.start_time,
        seconds=num(row.duration_seconds),
        repairs=row.repairs,
        url=run_url(host, job_id, row.run_id),
        elapsed=elapsed,
        p90=p90 if live else None,
        long=live and past_p90(elapsed, p90),
    )


def running_view(reader: Reader, config: Config, now: datetime) -> RunningView:
    runs = [_running(config, row) for row in reader.read(queries.runs_in_progress, now=now)]
    # Long-runners first (most over their p90), then the longest running.
    runs.sort(key=lambda r: (not r.long, -(r.ratio or 0), -(r.elapsed or 0)))
    return RunningView(runs=tuple(runs), count=len(runs), long_count=sum(1 for r in runs if r.long))


def _running(config: Config, row: RunningRun) -> RunningRunView:
    host = workspace_host(config, row.workspace_id)
    elapsed, p90 = num(row.elapsed_seconds), num(row.p90_seconds)
    return RunningRunView(
        name=job_name(row.name, row.job_id),
        workspace=workspace_label(config, row.workspace_id, row.workspace_name),
        run_id=row.run_id,
        url=run_url(host, row.job_id, row.run_id),
        start=row.start_time,
        elapsed=elapsed,
        p90=p90,
        long=past_p90(elapsed, p90),
        ratio=(elapsed / p90) if elapsed is not None and p90 else None,
        owner=row.owner,
        owner_id=config.owner_slack_id(row.owner),
    )
