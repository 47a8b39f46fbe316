"""Golden cases of the button and alert-state messages: `/jobs alerts`, the mute/unmute answers
and the ephemeral replies to clicks, built with the service's own view types (hostile job names
included: they must render literally)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.service.alert_list import (
    AlertsView,
    MutedJobView,
    MuteView,
    OpenAlertView,
    message_url,
    view_data,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVIL = "<!channel> *boom* <http://evil|click> &amp;"


def _open(i: int, name: str, **over: Any) -> OpenAlertView:
    row = OpenAlertView(
        job_name=name,
        job_id=str(100 + i),
        workspace="prod-data-eng",
        kind_phrase="failing",
        since=NOW - timedelta(hours=2 + i),
        streak_phrase="3rd failure in a row",
        last_error="SparkException: ```x``` <!here>",
        acked_by=None,
        acked_at=None,
        snoozed_by=None,
        snoozed_until=None,
        muted=False,
        channel="C02ALERTS",
        message_url=message_url("C02ALERTS", f"177243{i}000.000100"),
    )
    return row.__class__(**{**row.__dict__, **over})


def _alerts() -> AlertsView:
    rows = (
        _open(1, EVIL, acked_by="U01ALICE", acked_at=NOW - timedelta(minutes=30)),
        _open(2, "nightly_sales", snoozed_by="U02BOB", snoozed_until=NOW + timedelta(hours=4)),
        _open(3, "ml_features", muted=True, last_error=None, message_url=None, channel=None),
    )
    mutes = (
        MutedJobView(
            job_name="ml_features",
            job_id="103",
            workspace="prod-data-eng",
            muted_by="U03CAROL",
            until=NOW + timedelta(days=1),
            unmute_value='{"v":1,"w":111,"j":103}',
        ),
    )
    return AlertsView(alerts=rows, count=3, acked_count=1, mutes=mutes)


def _mute(outcome: Any, **over: Any) -> MuteView:
    base = {
        "outcome": outcome,
        "job_name": EVIL,
        "job_id": "101",
        "workspace": "prod-data-eng",
        "until": NOW + timedelta(hours=4),
        "by": "U02BOB",
        "refused": None,
        "command": "/jobs",
    }
    return MuteView(**{**base, **over})


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "alerts": ("alerts.json.j2", view_data(_alerts())),
    "alerts_none": (
        "alerts.json.j2",
        view_data(AlertsView(alerts=(), count=0, acked_count=0, mutes=())),
    ),
    "mute_muted": ("mute.json.j2", view_data(_mute("muted"))),
    "mute_unmuted": ("mute.json.j2", view_data(_mute("unmuted"))),
    "mute_not_muted": ("mute.json.j2", view_data(_mute("not_muted", until=None, by=None))),
    "mute_refused": (
        "mute.json.j2",
        view_data(
            _mute(
                "refused",
                until=None,
                by=None,
                refused="You are not allowed to mute jobs: only members of <!subteam^S01ONCALL> may.",
            )
        ),
    ),
    "click_reply": (
        "click_reply.json.j2",
        {"line": "<@U01ALICE> acknowledged this alert first (at 09:12).", "icon": "👀"},
    ),
    "click_reply_plain": ("click_reply.json.j2", {"line": "Thanks, recorded.", "icon": ""}),
}
