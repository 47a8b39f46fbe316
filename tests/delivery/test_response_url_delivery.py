"""A 429 or a 5xx on the response_url used to drop the answer (Bolt's `respond()` posts once
and does not look at the status). The sandbox answers response_url posts with these faults;
the answer must still arrive, replacing the "Working on…" notice when there was one, and what
could not be delivered at all is logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from sandbox.slack.driver import SlackSandbox
from tests.support.stack import Stack
from tests.support.warehouse import ProbeWarehouse


@pytest.fixture(autouse=True)
def _no_faults_left(stack: Stack) -> None:
    # The shared stack outlives a test: a fault one test left unused must not spoil the next.
    stack.sb.faults.clear()


def _latest_hook(sb: SlackSandbox, user: str) -> str | None:
    hooks = [h for h in sb.server.hooks._hooks.values() if h.user == user]
    return max(hooks, key=lambda h: h.created).id if hooks else None


def _answered(sb: SlackSandbox, text: str, user: str) -> tuple[list[int], dict]:
    """Type `/jobs text` and wait until the sandbox took a post on its response_url;
    (the status of every post on that URL, the answer taken)."""
    seen = sb.command(f"/jobs {text}", user=user, expect_answer=False)
    assert (seen.status, seen.http_status) == ("ok", 200)
    hook = _latest_hook(sb, user)

    def taken() -> list[dict]:
        mine = [p for p in sb.hook_posts if p["hook_id"] == hook]
        return mine if any(p["status"] == 200 for p in mine) else []

    posts = sb.wait_until(taken, timeout=15)
    assert posts, "no answer was taken"
    answer = json.loads(posts[-1]["body"])
    shown = sb.ephemerals(user, "C02ALERTS")
    assert shown and shown[-1].text == answer["text"]
    return [p["status"] for p in posts], answer


def test_the_answer_arrives_after_a_429_on_the_response_url(stack: Stack) -> None:
    sb = stack.sb
    sb.faults.ratelimit("response_url", retry_after=1, times=1)
    statuses, answer = _answered(sb, "running", "U03CAROL")
    assert statuses == [429, 200], statuses
    assert "runs in progress" in answer["text"]


def test_the_answer_arrives_after_a_503_on_the_response_url(stack: Stack) -> None:
    sb = stack.sb
    sb.faults.server_error("response_url", status=503, times=2)
    statuses, answer = _answered(sb, "help", "U04DAVE")
    assert statuses == [503, 503, 200], statuses
    assert "/jobs" in answer["text"]


def test_web_api_faults_on_every_method_leave_the_response_url_alone(stack: Stack) -> None:
    sb = stack.sb
    sb.faults.server_error("*", status=500, times=1)
    try:
        statuses, _ = _answered(sb, "help", "U02BOB")
        assert statuses == [200]
    finally:
        sb.faults.clear()


def test_after_the_working_notice_a_rate_limited_answer_still_replaces_the_hourglass(
    make_stack: Callable[..., Stack],
) -> None:
    st = make_stack(lambda wh: ProbeWarehouse(wh, delay=2.5), working_after=0.3)
    sb = st.sb
    seen = sb.command("/jobs running", user="U02BOB", expect_answer=False)
    assert seen.status == "ok"
    working = sb.wait_until(lambda: sb.ephemerals("U02BOB", "C02ALERTS"), timeout=3)
    assert working and "Working on" in working[0].text
    sb.faults.ratelimit("response_url", retry_after=1, times=1)
    done = sb.wait_until(
        lambda: [m for m in sb.ephemerals("U02BOB", "C02ALERTS") if "Working on" not in m.text],
        timeout=15,
    )
    assert done, "the answer never replaced the notice"
    mine = sb.ephemerals("U02BOB", "C02ALERTS")
    assert [m.id for m in mine] == [working[0].id]  # replaced in place: no hourglass left
    hook = _latest_hook(sb, "U02BOB")
    posts = [p for p in sb.hook_posts if p["hook_id"] == hook]
    assert [p["status"] for p in posts][-2:] == [429, 200]
    assert json.loads(posts[-1]["body"])["replace_original"] is True


def test_an_answer_that_cannot_be_delivered_is_logged(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    sb = stack.sb
    # Retry-After: 0 keeps the test fast; the bot still gives up after its attempts.
    sb.faults.ratelimit("response_url", retry_after=0, times=None)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.slack"):
            seen = sb.command("/jobs help", user="U01ALICE", expect_answer=False)
            assert seen.status == "ok"
            hook = _latest_hook(sb, "U01ALICE")
            sb.wait_until(
                lambda: any("could not deliver" in r.getMessage() for r in caplog.records),
                timeout=10,
            )
    finally:
        sb.faults.clear()
    lost = [r for r in caplog.records if "could not deliver" in r.getMessage()]
    assert lost and lost[0].levelno == logging.ERROR
    assert "/jobs" in lost[0].getMessage() or "help" in lost[0].getMessage().lower()
    posts = [p for p in sb.hook_posts if p["hook_id"] == hook]
    assert len(posts) >= 2 and all(p["status"] == 429 for p in posts)
