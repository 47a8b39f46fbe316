"""Golden cases for `/jobs sla` variants: a rule met late today (not "all on track"), the
summary with every kind of trouble at once, a job whose rules are all on track, and times as
Slack dates (each reader's zone) whose fallback names the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.render.mrkdwn import slack_time
from bot.service.views import SlaEntryView, SlaView, template_data

AMS = "Europe/Amsterdam"  # the golden renderer's zone: CET in March
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVIL = "<!channel> *boom* <http://evil|click> &amp;"


def _at(hh: int, mm: int) -> datetime:
    return datetime(2026, 3, 2, hh, mm, tzinfo=UTC)


def _met_late(name: str = "nightly_sales") -> SlaEntryView:
    due, done = _at(6, 0), _at(6, 55)
    return SlaEntryView(
        name=name,
        rule="succeeded by 07:00 Mon-Fri (Europe/Amsterdam)",
        workspace="prod",
        found=True,
        emoji="🟠",
        state="Met late",
        state_key="met_late",
        reason="succeeded at 07:55 CET, 55m 00s late (due 07:00 CET)",
        reason_mrkdwn=(
            f"succeeded at {slack_time(done, AMS)}, 55m 00s late (due {slack_time(due, AMS)})"
        ),
        deadline=due,
        days=("✓", "✓", "✗", "✓", "·", "·", "✗"),
        bad=False,
        late=True,
    )


def _met(name: str) -> SlaEntryView:
    return SlaEntryView(
        name=name,
        rule="finishes within 1h 30m",
        workspace="prod",
        found=True,
        emoji="🟢",
        state="Met",
        state_key="met",
        reason="took 1h 05m, limit 1h 30m",
        days=("✓",) * 7,
        bad=False,
    )


def _met_on_time(name: str) -> SlaEntryView:
    due, done = _at(5, 0), _at(4, 10)
    return SlaEntryView(
        name=name,
        rule="succeeded by 06:00 Mon-Fri (Europe/Amsterdam)",
        workspace="prod",
        found=True,
        emoji="🟢",
        state="Met",
        state_key="met",
        reason="succeeded at 05:10 CET (due 06:00 CET)",
        reason_mrkdwn=f"succeeded at {slack_time(done, AMS)} (due {slack_time(due, AMS)})",
        deadline=due,
        days=("✓", "✓", "✓", "✓", "·", "·", "✓"),
        bad=False,
    )


def _breached() -> SlaEntryView:
    last = _at(4, 14)
    return SlaEntryView(
        name=EVIL,
        rule="succeeds at least every 2h 00m",
        workspace="prod",
        found=True,
        emoji="🔴",
        state="Breached",
        state_key="breached",
        reason="last success 05:14 CET, expected every 2h 00m",
        reason_mrkdwn=f"last success {slack_time(last, AMS)}, expected every 2h 00m",
        deadline=_at(6, 14),
        days=("✗", "✓", "✓", "✗", "✓", "✓", "✗"),
        bad=True,
    )


def _unknown() -> SlaEntryView:
    return SlaEntryView(
        name="ghost_job",
        rule="finishes within 1h 30m",
        workspace="—",
        found=False,
        emoji="❔",
        state="Unknown job",
        reason="no job with this name in the system tables",
        days=(),
        bad=False,
    )


def _view(*entries: SlaEntryView, job: str | None = None) -> dict[str, Any]:
    bad = sum(1 for e in entries if e.bad)
    return template_data(SlaView(entries=entries, count=len(entries), bad_count=bad, job=job))


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    # The met-late row is not "on track": the summary says "1 late today".
    "sla_met_late": ("sla.json.j2", _view(_met_late(), _met("nightly_etl"))),
    # Breached first, then late, then the rule whose job is not found.
    "sla_breached_late_unknown": (
        "sla.json.j2",
        _view(_breached(), _met_late(), _met("nightly_etl"), _unknown()),
    ),
    "sla_for_job_on_track": (
        "sla.json.j2",
        _view(_met("nightly_etl"), _met_on_time("nightly_etl"), job="nightly_etl"),
    ),
}
