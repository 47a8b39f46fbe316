"""The data each answer template gets: one frozen dataclass per template (and per list item).

Frozen dataclasses rather than TypedDicts: a missing, extra or misspelt field is a TypeError
when the view is built, at run time and not only under mypy, so the golden cases (which build
these same types) break as soon as the service's shape drifts. Jinja reads `view.field` and
`view["field"]` on them just as on dicts. Values are plain (numbers, instants, text already
phrased); formatting stays in the template filters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.grammar import CommandHelp

# -- /jobs failing --------------------------------------------------------------------------


@dataclass(frozen=True)
class FailingJobView:
    name: str
    job_id: str
    run_id: str
    workspace: str
    streak: int
    failures: int
    runs: int
    state: str
    code: str | None
    error: str | None  # system tables carry only the termination code; the message comes later
    when: datetime
    url: str | None
    rerun_value: str | None
    owner: str | None
    owner_id: str | None
    # The task keys the Rerun confirm names (the latest run's failed tasks); () when unknown.
    failed_tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class FailingView:
    window: str
    window_phrase: str
    window_title: str
    jobs: tuple[FailingJobView, ...]
    count: int
    # Nothing failed in a short window, but these jobs' latest run (within a week) failed:
    # an empty short window must not read as an all-clear.
    failing_now: tuple[str, ...] = ()
    failing_now_count: int = 0


# -- /jobs status ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    run_id: str
    state: str
    emoji: str
    failed: bool
    code: str | None
    start: datetime
    seconds: float | None
    repairs: int
    url: str | None
    # A run in flight: how long it has run and the job's p90; `long` past it, as /jobs running
    # flags a long-runner (bot.service.jobs.past_p90).
    elapsed: float | None = None
    p90: float | None = None
    long: bool = False


@dataclass(frozen=True)
class RunStatsView:
    runs_7d: int
    successes_7d: int
    rate_7d: float | None
    runs_30d: int
    successes_30d: int
    rate_30d: float | None
    p50: float | None
    p90: float | None


@dataclass(frozen=True)
class SlaEntryView:
    name: str
    rule: str
    workspace: str
    found: bool
    emoji: str
    state: str
    reason: str
    days: tuple[str, ...]
    bad: bool
    state_key: str | None = None
    deadline: datetime | None = None
    # The reason as mrkdwn whose instants are `<!date>` sequences (each reader's own zone);
    # `reason` is the same sentence as plain text, times labelled with the configured zone.
    reason_mrkdwn: str | None = None
    late: bool = False  # met, but late: not on track, though not breached either


@dataclass(frozen=True)
class StatusView:
    name: str
    job_id: str
    workspace: str
    url: str | None
    owner: str | None
    owner_id: str | None
    runs: tuple[RunView, ...]
    stats: RunStatsView
    trend: tuple[float | None, ...]
    trend_days: int
    cost_7d: float | None
    cost_30d: float | None
    currency: str
    p90_seconds: float | None
    slas: tuple[SlaEntryView, ...] = ()
    # How the job was found, when not by its id or exact name: the closest match to what was
    # typed, or a name it had before (renamed to `name` at renamed_at).
    closest_to: str | None = None
    renamed_from: str | None = None
    renamed_at: datetime | None = None
    deleted_at: datetime | None = None
    paused: bool = False
    long_run: RunView | None = None  # the run in flight past the job's p90, if any
    # Task hours on all-purpose clusters in 30 days: billed to the cluster, not in its cost.
    all_purpose_hours_30d: float = 0.0


@dataclass(frozen=True)
class MatchView:
    name: str
    job_id: str
    workspace: str
    kind: str
    pick_value: str | None
    owner: str | None
    owner_id: str | None
    deleted: bool = False
    renamed_from: str | None = None  # the name typed, which the job had before


@dataclass(frozen=True)
class MatchesView:
    query: str
    matches: tuple[MatchView, ...]
    ambiguous: bool


# -- /jobs running --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningRunView:
    name: str
    workspace: str
    run_id: str
    url: str | None
    start: datetime
    elapsed: float | None
    p90: float | None
    long: bool
    ratio: float | None
    owner: str | None
    owner_id: str | None
    queued: bool = False
    queue_reason: str | None = None


@dataclass(frozen=True)
class RunningView:
    runs: tuple[RunningRunView, ...]
    count: int
    long_count: int
    live: bool = False  # from the Jobs API (else all from the system tables)
    from_tables: tuple[str, ...] = ()  # workspaces without Jobs API access, read from tables
    unreachable: tuple[str, ...] = ()  # "prod-emea (not answering: …)"
    no_history: bool = False  # the warehouse could not give the usual durations


# -- /jobs sla ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaView:
    entries: tuple[SlaEntryView, ...]
    count: int
    bad_count: int
    job: str | None
    # Counted from the entries, so the summary line cannot disagree with the rows below it.
    late_count: int = dataclasses.field(init=False)
    unknown_count: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "late_count", sum(1 for e in self.entries if e.late))
        object.__setattr__(self, "unknown_count", sum(1 for e in self.entries if not e.found))


# -- /jobs cost -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TopRowView:
    label: str
    cost: float
    prev_cost: float
    change: float | None
    workspace: str | None  # only a name the config gives
    marker: str | None = None  # a note on the row, e.g. what the no-job-id row holds


@dataclass(frozen=True)
class DailySeries:
    values: tuple[float, ...]
    first: date | None
    last: date
    days: int


@dataclass(frozen=True)
class WasteShare:
    amount: float
    share: float | None  # of the window's spend; None when nothing was spent


@dataclass(frozen=True)
class WasteView:
    failed: WasteShare
    all_purpose: WasteShare
    idle: WasteShare


@dataclass(frozen=True)
class AllPurposeNote:
    """Jobs whose tasks ran on all-purpose clusters: billing charges those clusters, never the
    jobs, so the jobs have no cost of their own in the list."""

    jobs: tuple[str, ...]  # names, the largest estimated share first (a few)
    count: int
    estimate: float  # their task-hour share of those clusters' cost


@dataclass(frozen=True)
class MissingTagView:
    """`by <key>` where no usage in the window carries the tag `key`."""

    key: str
    known: tuple[str, ...]  # job tag keys that do exist, on the most jobs first (a few)
    more: int  # how many other keys exist
    suggestion: str | None  # a known key that looks like the one asked for


@dataclass(frozen=True)
class CostView:
    window: str
    window_phrase: str
    window_title: str
    prev_phrase: str
    group: str
    total: float
    prev_total: float
    change: float | None
    currency: str
    billed_until: datetime | None
    top: tuple[TopRowView, ...]
    daily: DailySeries
    waste: WasteView
    # False when there is nothing fair to compare with: `comparison` then says why, in place
    # of the change (the previous window has no or partial data, or nothing is billed yet).
    compare: bool = True
    comparison: str | None = None
    compare_note: str | None = None  # how the previous window was cut, for the context line
    all_purpose: AllPurposeNote | None = None
    missing_tag: MissingTagView | None = None


# -- /jobs anomalies ------------------------------------------------------------------------


@dataclass(frozen=True)
class AnomalyView:
    key: str
    name: str
    workspace: str
    day: date
    cost: float
    baseline: float
    excess: float
    ratio: float | None
    z: float
    causes: tuple[str, ...]
    owner: str | None
    owner_id: str | None
    expected_value: str
    not_anomaly_value: str


@dataclass(frozen=True)
class AnomaliesView:
    anomalies: tuple[AnomalyView, ...]
    count: int
    below_minimum: int
    days: tuple[date, ...]
    sensitivity: float
    min_amount: float
    currency: str


# -- help, errors, notices ------------------------------------------------------------------


@dataclass(frozen=True)
class HelpView:
    commands: tuple[CommandHelp, ...]  # the grammar's own catalogue entries
    problem: str | None
    windows: str
    command: str


@dataclass(frozen=True)
class ErrorView:
    message: str
    error_id: str | None


@dataclass(frozen=True)
class NoticeView:
    what: str


View = (
    FailingView
    | StatusView
    | MatchesView
    | RunningView
    | SlaView
    | CostView
    | AnomaliesView
    | HelpView
    | ErrorView
    | NoticeView
)


def template_data(view: View) -> dict[str, Any]:
    """The view's top-level fields as template variables (shallow: nested views stay typed)."""
    return {f.name: getattr(view, f.name) for f in dataclasses.fields(view)}
