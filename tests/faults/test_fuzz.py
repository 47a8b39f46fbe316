"""Hostile input, fuzzed (hypothesis): slash-command texts typed at the real Bolt app over HTTP
with real signatures, and job names and error messages full of mrkdwn, mentions, links and
control characters drawn into the real alert and answer templates. Whatever comes in: the
person gets an answer (never a traceback or an error id), the answer Slack would accept (the
sandbox rejects what Slack rejects), and nothing in it pings anyone or links anywhere the
input asked for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import actions
from bot.clock import FixedClock
from bot.render import Renderer
from bot.render.limits import MAX_BLOCKS
from bot.service.alert_view import failure_alert
from bot.slack.blocks_check import problems
from bot.store.records import Incident, IncidentState
from bot.warehouse import open_warehouse
from tests.support.demo import Demo, demo_config
from tests.support.stack import Stack, start_stack, stop_stack

# What a hostile or careless person types: every mrkdwn, mention and link construct, control
# and bidi characters, and the words the grammar knows so the parser goes deep.
HOSTILE = [
    "<!channel>", "<!here>", "<!everyone>", "<@U0ANA>", "<#C02ALERTS>", "<!subteam^S1>",
    "<http://evil.example|click>", "<mailto:x@y.z|mail>", "*bold*", "_it_", "~s~", "`code`",
    "```", "&amp;", "&lt;", ">", "<", "&", "\n", "\t", "\x00", "\x1b[31m", "\u202e", "\u200b",
    "📦", "ü", "\"", "'", "\\", "%s", "{0}", "{{x}}", "${x}", "😀" * 3,
]  # fmt: skip
WORDS = [
    "failing", "status", "cost", "running", "sla", "help", "alerts", "waste", "anomalies",
    "by", "team", "7d", "30m", "24h", "today", "yesterday", "30d", "since", "nightly_sales",
    "--", "-1d", "999999d", "0d",
]  # fmt: skip
fragment = st.one_of(st.sampled_from(HOSTILE + WORDS), st.text(max_size=12))
command_text = st.lists(fragment, max_size=8).map(" ".join)
LIVE = ("<!channel>", "<!here>", "<!everyone>", "<@U0ANA>", "<http://evil.example|click>")


@pytest.fixture(scope="module")
def stack(demo: Demo) -> Iterator[Stack]:
    s = start_stack(open_warehouse(demo.path), demo_config(demo.story), working_after=2.0)
    try:
        yield s
    finally:
        stop_stack(s)


def _shown(seen: Any) -> list[dict[str, Any]]:
    """Everything the person was shown for one command: the ack's message, response_url
    posts and ephemerals, as message payloads."""
    out = [dict(r) for r in seen.responses]
    for m in [*seen.ephemerals, *seen.messages]:
        out.append({"text": m.text, "blocks": m.blocks})
    if seen.ack_message is not None:
        out.append({"text": seen.ack_message.text, "blocks": seen.ack_message.blocks})
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=command_text)
def test_any_command_text_gets_a_clean_answer(stack: Stack, text: str) -> None:
    seen = stack.sb.command(f"/jobs {text}", timeout=20)
    assert seen.status == "ok", (text, seen.status, seen.detail)
    shown = _shown(seen)
    assert shown, f"nothing shown for {text!r}"
    body = json.dumps(shown, ensure_ascii=False)
    assert "Traceback" not in body and "error id" not in body.lower(), body[:500]
    for live in LIVE:
        assert live not in body, (text, live)
    for message in shown:
        if message.get("blocks"):
            assert problems(message) == [], (text, problems(message))
            assert len(message["blocks"]) <= MAX_BLOCKS


# --- alerts drawn from hostile job names and error messages ---------------------------------

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)), min_size=1, max_size=30
).map("".join)


def _incident(name: str, error: str, tasks: int) -> Incident:
    detail = {
        "job_name": name,
        "job_url": "https://adb-1.1.azuredatabricks.net/jobs/101",
        "workspace": name[:30] or "ws",
        "run_id": "9002",
        "run_url": "https://adb-1.1.azuredatabricks.net/jobs/101/runs/9002",
        "state": "FAILED",
        "code": error[:40],
        "type": "CLIENT_ERROR",
        "message": error,
        "ended_at": NOW.isoformat(),
        "duration_seconds": 61.0,
        "p90_seconds": 50.0,
        "trigger": "PERIODIC",
        "owner": name,
        "owner_id": None,
        "cost": None,
        "currency": "USD",
        "tasks": [
            {"key": f"{name}-{i}", "error": error * (1 + i % 3), "attempts": 1}
            for i in range(tasks)
        ],
        "late": False,
    }
    return Incident(
        id=1, workspace_id="1", job_id="101", kind="failure", key="", job_name=name,
        state=IncidentState.OPEN, first_failure_at=NOW, last_failure_at=NOW, streak=2,
        last_run_id="9002", last_error=error, detail=detail, channel="C02ALERTS",
        message_ts=None, thread_ts=None, acked_by=None, acked_at=None, snoozed_by=None,
        snoozed_until=None, resolved_at=None, resolved_run_id=None,
        version=1, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(name=hostile_text, error=hostile_text, tasks=st.integers(0, 12))
def test_an_alert_about_anything_is_valid_and_pings_nobody(
    name: str, error: str, tasks: int
) -> None:
    renderer = Renderer(tz="Europe/Amsterdam", currency="USD", clock=FixedClock(NOW))
    incident = _incident(name, error, tasks)
    view = failure_alert(incident, now=NOW, currency="USD")
    message = renderer.render("alert_failure.json.j2", a=view, ids=actions.TEMPLATE_IDS)
    assert problems(message) == [], problems(message)
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert len(message["text"]) <= 40_000
    body = json.dumps(message, ensure_ascii=False)
    for live in LIVE:
        assert live not in body
