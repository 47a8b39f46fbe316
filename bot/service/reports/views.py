"""The report views the templates see (digest.json.j2, weekly_report.json.j2): plain frozen
values, links already built, money as floats and changes as fractions for the `pct` filter;
all wording of Databricks text is left to the template's `mrkdwn` filter."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Line:
    """One linked line of a list: a job, a cluster, an SLA or an open alert."""

    label: str
    url: str | None
    workspace: str | None = None
    cost: float | None = None
    baseline: float | None = None
    change: float | None = None  # fraction vs baseline; None without one
    note: str | None = None  # jobs-bot's own words ("3 of 4 runs failed", "avg CPU 2%")


@dataclass(frozen=True)
class WasteView:
    failed: float
    failed_runs: int
    retried: float
    all_purpose: float
    all_purpose_jobs: int
    idle: float
    idle_clusters: int
    total: float
    items: tuple[Line, ...]
    more: int


@dataclass(frozen=True)
class DigestView:
    day: date  # the day the digest covers (yesterday)
    scope: str | None  # None for the whole account; the channel's label for a team's part
    late: bool
    slot_at: datetime | None  # when it was due (for "sent late: due at 09:00")
    reason: str | None  # why it was sent off schedule ("demo")
    runs: int
    successes: int
    failures: int
    success_rate: float | None
    failed_jobs: tuple[Line, ...]
    failed_more: int
    sla_met: int
    sla_missed: int
    sla_lines: tuple[Line, ...]
    cost: float
    avg_cost: float
    change: float | None
    movers: tuple[Line, ...]
    waste: WasteView
    incidents: tuple[Line, ...]
    incidents_more: int
    currency: str


@dataclass(frozen=True)
class GroupCost:
    title: str
    rows: tuple[Line, ...]


@dataclass(frozen=True)
class WeeklyView:
    since: date  # first day of the week reported
    until: date  # last day (inclusive)
    late: bool
    slot_at: datetime | None
    reason: str | None
    cost: float
    prev_cost: float
    change: float | None
    groups: tuple[GroupCost, ...]  # by team, by workspace, by SKU
    top_cost: tuple[Line, ...]
    top_growth: tuple[Line, ...]
    waste: WasteView
    currency: str
    chart_note: str


def data(view: DigestView | WeeklyView) -> dict[str, Any]:
    """The view's top-level fields as template variables (nested views stay typed)."""
    return {f.name: getattr(view, f.name) for f in fields(view)}
