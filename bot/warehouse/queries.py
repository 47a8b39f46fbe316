"""Typed calls, one per query file: bind Python values to the query's params and map the rows
into bot.models dataclasses. This is the only read path: callers (service, monitors' feeders,
CLI) use these rather than raw `Warehouse.run`, so a renamed column breaks here, loudly, as a
`RowShapeError`, and never reaches a message as a None.

Each function takes anything with the service's warehouse port (`bot.service.ports.Warehouse`:
`run(name, params)` returning rows as dicts); every backend in this package has that shape."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_type_hints

from bot import models

if TYPE_CHECKING:
    # Only for annotations: the service imports this module at run time, so a run-time import
    # of bot.service here would be a cycle. The port is structural; nothing is subclassed.
    from bot.service.ports import Warehouse

T = TypeVar("T")
log = logging.getLogger(__name__)


class RowShapeError(RuntimeError):
    """A query's rows do not have the shape its model promises: a column is missing, a
    non-optional column is NULL, or a one-row query returned another number of rows. A bug
    in a query file or a model, never a warehouse outage."""


def _convert(type_text: str, value: Any) -> Any:
    base = type_text.replace(" | None", "").strip()
    if value is None:
        return None
    if base == "Decimal":
        return value if isinstance(value, Decimal) else Decimal(str(value))
    if base == "float":
        return float(value)
    if base == "int":
        return int(value)
    if base == "bool":
        return bool(value)
    if base == "str":
        return str(value)
    if base == "tuple[str, ...]":
        return tuple(part for part in str(value).split(", ") if part)
    enum = getattr(models, base, None)
    if isinstance(enum, type) and issubclass(enum, StrEnum):
        return enum(value)
    return value  # datetime, date: backends already return aware UTC / date


def _optional(cls: type, name: str) -> bool:
    hint = get_type_hints(cls)[name]
    return isinstance(hint, UnionType) and NoneType in get_args(hint)


def to_model(cls: type[T], row: Mapping[str, Any], query: str | None = None) -> T:
    """Build a models dataclass from a row. A missing column, or NULL where the model does not
    allow None, raises RowShapeError naming the column (and the query when given)."""
    where = f" from {query}" if query else ""
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in row:
            raise RowShapeError(f"{cls.__name__}{where}: no column {f.name!r} in the row")
        value = row[f.name]
        if value is None and not _optional(cls, f.name):
            raise RowShapeError(f"{cls.__name__}{where}: column {f.name!r} is NULL")
        kwargs[f.name] = _convert(str(f.type), value)
    return cls(**kwargs)


def _many(wh: Warehouse, cls: type[T], name: str, params: Mapping[str, Any]) -> list[T]:
    return [to_model(cls, r, name) for r in wh.run(name, params)]


def _one(wh: Warehouse, cls: type[T], name: str, params: Mapping[str, Any]) -> T:
    rows = wh.run(name, params)
    if len(rows) != 1:
        raise RowShapeError(f"{name} returned {len(rows)} rows, expected exactly 1")
    return to_model(cls, rows[0], name)


def workspace_names(wh: Warehouse) -> dict[str, tuple[str | None, str | None]]:
    """workspace_id -> (name, url) from system.access.workspaces_latest, or {} when it cannot
    be read. The table needs a grant on system.access that a deployment may not have given;
    the answers that show workspace names must still work without it, so they do not join
    the table: their names come from here, and a failure only costs the names."""
    try:
        rows = wh.run("workspaces", {})
    except Exception as e:  # noqa: BLE001 (any driver's permission error: answer without names)
        log.warning("workspace names unavailable (system.access.workspaces_latest): %s", e)
        return {}
    return {str(r["workspace_id"]): (r.get("workspace_name"), r.get("workspace_url")) for r in rows}


def _named(wh: Warehouse, rows: list[dict[str, Any]], *, url: bool = False) -> list[dict[str, Any]]:
    """Add workspace_name (and workspace_url) to each row from the optional lookup."""
    if not rows:
        return rows
    names = workspace_names(wh)
    for row in rows:
        name, link = names.get(str(row["workspace_id"]), (None, None))
        row["workspace_name"] = name
        if url:
            row["workspace_url"] = link
    return rows


def failing_jobs(wh: Warehouse, *, now: datetime, since: datetime) -> list[models.FailingJob]:
    rows = _named(wh, wh.run("failing_jobs", {"now": now, "since": since}), url=True)
    return [to_model(models.FailingJob, r, "failing_jobs") for r in rows]


def job_lookup(
    wh: Warehouse, needle: str, *, include_deleted: bool = False
) -> list[models.JobMatch]:
    params = {"needle": needle, "include_deleted": include_deleted}
    rows = _named(wh, wh.run("job_lookup", params))
    return [to_model(models.JobMatch, r, "job_lookup") for r in rows]


def job_lookup_found(
    wh: Warehouse, needle: str, *, include_deleted: bool = True
) -> list[models.JobFound]:
    """job_lookup's full rows (renamed_at, delete_time, paused too), for `/jobs status`: a
    deleted job is found by default, so the answer can say when it was deleted."""
    params = {"needle": needle, "include_deleted": include_deleted}
    rows = _named(wh, wh.run("job_lookup", params))
    return [to_model(models.JobFound, r, "job_lookup") for r in rows]


def job_recent_runs(
    wh: Warehouse, job: models.JobKey, *, now: datetime, limit: int = 10
) -> list[models.RunSummary]:
    params = {"workspace_id": job.workspace_id, "job_id": job.job_id, "now": now, "limit": limit}
    return _many(wh, models.RunSummary, "job_recent_runs", params)


def job_run_stats(wh: Warehouse, job: models.JobKey, *, now: datetime) -> models.JobStats:
    params = {"workspace_id": job.workspace_id, "job_id": job.job_id, "now": now}
    return _one(wh, models.JobStats, "job_run_stats", params)


def job_duration_trend(
    wh: Warehouse, job: models.JobKey, *, now: datetime, days: int = 30
) -> list[models.DurationPoint]:
    params = {"workspace_id": job.workspace_id, "job_id": job.job_id, "now": now, "days": days}
    return _many(wh, models.DurationPoint, "job_duration_trend", params)


def job_cost(wh: Warehouse, job: models.JobKey, *, now: datetime) -> models.JobCost:
    params = {"workspace_id": job.workspace_id, "job_id": job.job_id, "now": now}
    return _one(wh, models.JobCost, "job_cost", params)


def runs_in_progress(wh: Warehouse, *, now: datetime) -> list[models.RunningRun]:
    rows = _named(wh, wh.run("runs_in_progress", {"now": now}))
    return [to_model(models.RunningRun, r, "runs_in_progress") for r in rows]


def job_durations(wh: Warehouse, *, now: datetime) -> list[models.JobDurations]:
    return _many(wh, models.JobDurations, "job_durations", {"now": now})


def runs_ended(
    wh: Warehouse, *, now: datetime, since: datetime, until: datetime
) -> list[models.EndedRun]:
    params = {"now": now, "since": since, "until": until}
    return _many(wh, models.EndedRun, "runs_ended", params)


def sla_inputs(wh: Warehouse, *, now: datetime, days: int = 7) -> list[models.SlaDay]:
    return _many(wh, models.SlaDay, "sla_inputs", {"now": now, "days": days})


def cost_by(
    wh: Warehouse,
    *,
    since: datetime,
    until: datetime,
    group_by: models.CostGroup | str = models.CostGroup.JOB,
    tag_key: str | None = None,
    limit: int = 10,
    prev_since: datetime | None = None,
    prev_until: datetime | None = None,
) -> list[models.CostRow]:
    """Cost per group in [since, until) vs [prev_since, prev_until): by default the window of
    the same length before it; pass cost_total's prev_until to compare like with like."""
    group = models.CostGroup(group_by)
    if group is models.CostGroup.TAG and not tag_key:
        raise ValueError("grouping by tag needs a tag_key")
    params = {
        "since": since,
        "until": until,
        "prev_since": prev_since or since - (until - since),
        "prev_until": prev_until,
        "group_by": group.value,
        "tag_key": tag_key,
        "limit": limit,
    }
    rows = wh.run("cost_by", params)
    if group is models.CostGroup.WORKSPACE and rows:
        # The query labels a workspace by its id; the name, when readable, is better.
        names = workspace_names(wh)
        for row in rows:
            row["label"] = names.get(str(row["group_key"]), (None, None))[0] or row["label"]
    return [to_model(models.CostRow, r, "cost_by") for r in rows]


def cost_total(
    wh: Warehouse, *, since: datetime, until: datetime, prev_since: datetime | None = None
) -> models.CostTotal:
    """Total cost in [since, until) vs [prev_since, since) (default: the same length before)."""
    params = {
        "since": since,
        "until": until,
        "prev_since": prev_since or since - (until - since),
        "cut_previous": False,
    }
    return _one(wh, models.CostTotal, "cost_total", params)


def cost_total_like_for_like(
    wh: Warehouse, *, since: datetime, until: datetime, prev_since: datetime
) -> models.CostTotal:
    """cost_total with the previous window cut where billing stops in this one: it ends as far
    past `prev_since` as billing has reached past `since` (the result's prev_until)."""
    params = {"since": since, "until": until, "prev_since": prev_since, "cut_previous": True}
    return _one(wh, models.CostTotal, "cost_total", params)


def cost_tag_keys(
    wh: Warehouse, *, since: datetime, until: datetime, limit: int = 50
) -> list[models.TagKey]:
    """The tag keys of the jobs billed in [since, until), on the most jobs first."""
    params = {"since": since, "until": until, "limit": limit}
    return _many(wh, models.TagKey, "cost_tag_keys", params)


def cost_daily(
    wh: Warehouse,
    *,
    since: datetime,
    until: datetime,
    workspace_id: str | None = None,
    job_id: str | None = None,
) -> list[models.DailyCost]:
    params = {"since": since, "until": until, "workspace_id": workspace_id, "job_id": job_id}
    return _many(wh, models.DailyCost, "cost_daily", params)


def run_cost(wh: Warehouse, *, workspace_id: str, job_run_id: str) -> models.RunCost:
    params = {"workspace_id": workspace_id, "job_run_id": job_run_id}
    return _one(wh, models.RunCost, "run_cost", params)


def cost_anomaly_candidates(
    wh: Warehouse, *, day: date, min_z: float | None = None
) -> list[models.CostAnomalyCandidate]:
    """Jobs above their baseline on `day`; with `min_z`, only those scoring at least that
    (pass the lowest alert threshold: the cause hints are worked out for those jobs only)."""
    params = {"day": day, "min_z": min_z}
    return _many(wh, models.CostAnomalyCandidate, "cost_anomaly_candidates", params)


COST_SCOPES = ("workspace", "sku")


def cost_scope_anomaly_candidates(
    wh: Warehouse, *, day: date, scope: str, min_z: float | None = None
) -> list[models.CostScopeCandidate]:
    """Workspaces (`scope="workspace"`) or SKUs (`scope="sku"`) above their baseline on
    `day`; with `min_z`, only those scoring at least that."""
    if scope not in COST_SCOPES:
        raise ValueError(f"cost scope {scope!r} is not one of {', '.join(COST_SCOPES)}")
    params = {"day": day, "scope": scope, "min_z": min_z}
    return _many(wh, models.CostScopeCandidate, "cost_scope_anomaly_candidates", params)


def cost_scope_movers(
    wh: Warehouse, *, day: date, scope: str, subject: str, limit: int = 5
) -> list[models.CostMover]:
    """The jobs, and the SKUs (of a workspace) or workspaces (of a SKU), that cost more than
    usual on `day`: at most `limit` of each kind, biggest increase first."""
    if scope not in COST_SCOPES:
        raise ValueError(f"cost scope {scope!r} is not one of {', '.join(COST_SCOPES)}")
    params = {"day": day, "scope": scope, "subject": subject, "limit": limit}
    return _many(wh, models.CostMover, "cost_scope_movers", params)


# The config's default (bot.config.sections.Cost.idle_cpu_percent), for callers without one.
IDLE_CPU_PERCENT = 5.0


def waste(
    wh: Warehouse,
    *,
    since: datetime,
    until: datetime,
    idle_cpu_percent: float = IDLE_CPU_PERCENT,
) -> list[models.WasteItem]:
    """Failed-run, retry, all-purpose and idle-cluster cost in [since, until); a cluster is
    idle when its nodes averaged under `idle_cpu_percent` CPU (pass the config's value)."""
    params = {"since": since, "until": until, "idle_cpu_percent": float(idle_cpu_percent)}
    return _many(wh, models.WasteItem, "waste", params)


def digest_summary(wh: Warehouse, *, day: date) -> models.DigestSummary:
    return _one(wh, models.DigestSummary, "digest_summary", {"day": day})


def previous_window(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """The window of the same length that ends where this one starts."""
    return since - (until - since), since


def job_routing(wh: Warehouse, job: models.JobKey, *, now: datetime) -> models.JobRouting | None:
    """The job's routing facts as of `now`, or None when the jobs table has no row for it."""
    params = {"workspace_id": job.workspace_id, "job_id": job.job_id, "now": now}
    rows = _many(wh, models.JobRouting, "job_routing", params)
    return rows[0] if rows else None


def report_jobs(
    wh: Warehouse, *, since: datetime, until: datetime, prev_since: datetime
) -> list[models.ReportJob]:
    """Per job: runs and cost in [since, until) against [prev_since, since), ranked."""
    params = {"since": since, "until": until, "prev_since": prev_since}
    return _many(wh, models.ReportJob, "report_jobs", params)


def scheduled_jobs(wh: Warehouse, *, now: datetime, since: datetime) -> list[models.ScheduledJob]:
    """Scheduled, undeleted jobs with their latest run start since `since`."""
    return _many(wh, models.ScheduledJob, "scheduled_jobs", {"now": now, "since": since})


def replay_moments(wh: Warehouse, *, since: datetime, until: datetime) -> list[datetime]:
    """Every run end in [since, until), oldest first (where the replay polls)."""
    rows = _many(wh, models.Moment, "replay_moments", {"since": since, "until": until})
    return [r.at for r in rows]
