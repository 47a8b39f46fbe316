"""Sentences for people made from facts: the windows a command speaks of, why an SLA is in its
state (`bot.monitors.sla.SlaStatus`) and why a cost looks unusual (`bot.monitors.cost`).

The monitors decide and return kinds, instants and amounts; the wording lives here so it can
change (or be translated) without touching a rule, and the rules are tested on facts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import as_utc
from bot.grammar import Window
from bot.monitors import cost, sla
from bot.render.formatting import duration

# -- windows --------------------------------------------------------------------------------


def window_phrase(window: Window) -> str:
    if window.label in ("today", "yesterday"):
        return window.label
    return f"in the last {window.label}"


def previous_phrase(window: Window) -> str:
    """What the comparison window is: cost compares with the same length of time just before."""
    if window.label == "yesterday":
        return "the day before"
    if window.label == "today":
        return "the same number of hours before midnight"
    return f"the previous {window.label}"


def compared_phrase(
    window: Window, prev_since: datetime, prev_until: datetime | None, tz: str
) -> str:
    """What a cost change is measured against. `today` compares with the same hours of
    yesterday (up to where billing has reached today), e.g. "yesterday 00:00–03:00"."""
    if window.label != "today":
        return previous_phrase(window)
    zone = ZoneInfo(tz)
    start = as_utc(prev_since).astimezone(zone)
    end = as_utc(prev_until).astimezone(zone) if prev_until is not None else start
    return f"yesterday {start:%H:%M}–{end:%H:%M}"


def _local_moment(instant: datetime, tz: str) -> str:
    local = as_utc(instant).astimezone(ZoneInfo(tz))
    return (
        f"{local:%a %d %b}" if (local.hour, local.minute) == (0, 0) else f"{local:%a %d %b %H:%M}"
    )


def no_comparison_text(
    why: str, window: Window, compared: str, data_from: datetime | None, tz: str
) -> str:
    """Why a cost has no change % (`why`: unbilled, no_data or partial), e.g. "previous 30d
    only partly covered (data from Tue 03 Feb)"."""
    if why == "unbilled":
        return f"nothing billed {window_phrase(window)} yet, so nothing to compare"
    if why == "no_data":
        return f"no data for {compared}"
    assert data_from is not None
    return f"{compared} only partly covered (data from {_local_moment(data_from, tz)})"


def cut_note(window: Window, billed_until: datetime, prev_until: datetime, tz: str) -> str:
    """Why the previous window stops early: it stops where billing stops in this one."""
    if window.label == "today":
        return "the same hours as billed today"
    return (
        f"to the same point: billed to {_local_moment(billed_until, tz)} here, "
        f"so counted to {_local_moment(prev_until, tz)} there"
    )


def all_purpose_marker(jobs: int) -> str:
    """On the no-job-id row of `/jobs cost`: the all-purpose jobs' cost is in it."""
    return f"⚠️ holds the {jobs} job{'s' if jobs != 1 else ''} on all-purpose clusters"


def window_title(window: Window) -> str:
    if window.label in ("today", "yesterday"):
        return window.label.capitalize()
    return f"last {window.label}"


# -- SLAs -----------------------------------------------------------------------------------


def sla_reason(
    status: sla.SlaStatus, spec: sla.SlaSpec, when: Callable[[datetime], str] | None = None
) -> str:
    """Why `status` is what it is, with times as local HH:MM in the rule's timezone, or as
    `when` writes an instant (a zone-labelled time, a Slack `<!date>` placeholder)."""
    zone = ZoneInfo(spec.tz)

    def local(instant: datetime | None) -> str:
        assert instant is not None
        if when is not None:
            return when(instant)
        return as_utc(instant).astimezone(zone).strftime("%H:%M")

    r = sla.SlaReason
    s = status
    # A freshness rule's deadline moves with each success: it is the *next* one that is due.
    due = (
        f"{'next due' if spec.kind == 'freshness' else 'due'} {local(s.deadline)}"
        if (s.deadline is not None)
        else ""
    )
    prefix = (
        f"last run {s.last_result.lower()}; " if s.last_result and spec.kind == "deadline" else ""
    )
    match s.reason:
        case r.NO_SLA_TODAY:
            return "no SLA on this day"
        case r.SUCCEEDED:
            if s.late_by is not None:
                return f"succeeded at {local(s.succeeded_at)}, {duration(s.late_by)} late ({due})"
            if not due:  # a freshness rule's first success ever: nothing was due before it
                return f"succeeded at {local(s.succeeded_at)}, its first success"
            return f"succeeded at {local(s.succeeded_at)} ({due})"
        case r.NO_SUCCESS:
            return f"{prefix}no successful run by {local(s.deadline)}"
        case r.RUNNING:
            if s.p90 is None:
                return f"{prefix}running since {local(s.running_since)} ({due})"
            return (
                f"{prefix}running since {local(s.running_since)}, usually takes "
                f"{duration(s.p90)} (p90), expected {local(s.expected_finish)} ({due})"
            )
        case r.NOT_RUNNING:
            return (
                f"{prefix}not running; a run takes {duration(s.p90)} (p90), so it would end "
                f"{local(s.expected_finish)} at the earliest ({due})"
            )
        case r.NOT_STARTED:
            return f"{prefix}not started yet ({due})"
        case r.RUNNING_FOR:
            if s.p90 is not None:
                return (
                    f"running for {duration(s.elapsed)}; usually takes {duration(s.p90)} "
                    f"(p90), limit {duration(s.limit)}"
                )
            return f"running for {duration(s.elapsed)}, limit {duration(s.limit)}"
        case r.NO_FINISHED_RUN:
            return "no finished run this day"
        case r.TOOK:
            ended = (
                f" and ended {str(s.last_result).lower()}"
                if s.state is sla.SlaState.BREACHED
                else ""
            )
            return f"took {duration(s.took)}{ended}, limit {duration(s.limit)}"
        case r.NO_SUCCESS_ON_RECORD:
            return "no successful run on record"
        case r.LAST_SUCCESS:
            since = f"last success {local(s.last_success)}, expected every {duration(s.every)}"
            return f"{since} ({due})" if s.state is sla.SlaState.MET else since
    raise AssertionError(f"unphrased SLA reason {s.reason!r}")


# -- cost anomalies -------------------------------------------------------------------------


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def cause_text(c: cost.Cause) -> str:
    """One likely cause of a cost jump, e.g. "more runs: 12 vs usually 3"."""
    k = cost.CauseKind
    match c.kind:
        case k.MORE_RUNS:
            return f"more runs: {_count(c.value or 0)} vs usually {c.usual or 0:g}"
        case k.LONGER_RUNS:
            return f"longer runs: {duration(c.value)} on average vs usually {duration(c.usual)}"
        case k.COMPUTE:
            detail = f"new {', '.join(c.new)}" if c.new else ""
            if c.rate_ratio is not None:
                rate = f"cost per run-hour ×{c.rate_ratio:.1f}"
                detail = f"{detail}; {rate}" if detail else rate
            return f"bigger or different compute: {detail}"
        case k.RETRIES:
            return f"retries: {_count(c.value or 0)} repairs vs usually {c.usual or 0:g}"
    raise AssertionError(f"unphrased cause {c.kind!r}")


def decision_text(d: cost.Decision, s: cost.Sensitivity) -> str:
    """Why a candidate is, or is not, an anomaly (for logs and the alert's details)."""
    v = cost.Verdict
    match d.verdict:
        case v.MARKED_EXPECTED:
            return "marked as expected for this day"
        case v.BELOW_MINIMUM:
            return f"below the minimum amount ({s.min_amount:g})"
        case v.WITHIN_BASELINE:
            return f"within baseline (z {d.z:.1f} < {d.threshold:.1f})"
        case v.ANOMALY:
            return f"z {d.z:.1f} ≥ {d.threshold:.1f}"
    raise AssertionError(f"unphrased verdict {d.verdict!r}")
