"""An outage, at CI size (bench/outage.py runs it at full size): 90 jobs fail within five
minutes across three workspaces while Slack refuses about a third of the bot's posts and
edits (429 with Retry-After, 503) and drops the Socket Mode connection twice. Counted from
the sandbox: every incident exists once, has exactly one message, each channel gets its
roll-up, posts in a channel keep the pace, nothing is left in the outbox, and a command over
the websocket is still answered after the drops."""

from __future__ import annotations

from pathlib import Path

from tests.support.outage import TEAMS, run_outage

PACE = 0.05  # the notifier's per-channel interval here (Slack's real one is 1 s: the bench)


def test_an_outage_loses_nothing_repeats_nothing_and_keeps_the_pace(tmp_path: Path) -> None:
    report = run_outage(tmp_path, jobs=90, pace=PACE)
    assert report.refused["429"] > 5 and report.refused["503"] > 5, report.refused
    assert report.incidents == 90 and report.incidents_per_job_max == 1
    assert report.lost == [] and report.duplicated == []
    assert report.outbox_left == 0
    assert set(report.rollups) == {"finance-data", "ml-platform", "data-alerts"}, report.rollups
    assert all(n == 1 for n in report.rollups.values()), report.rollups
    assert report.socket_drops == 2 and report.answered_after_drops
    assert len(TEAMS) == 3
    slowest = min(report.min_gap.values())
    assert slowest >= PACE * 0.8, report.min_gap
