"""Long lists are delivered: an answer cut to Slack's 50 blocks when rendered used to be cut
again when the Share button was added, leaving two "…and N more" blocks with the same
block_id, which Slack refuses (`invalid_blocks`) — the user got no answer at all. Measured
through the sandbox, which refuses a message with a repeated block_id as Slack does."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import timedelta

from bot.actions import JOBS_SHARE
from sandbox.slack.blockkit import check_blocks
from tests.support.ask import ask
from tests.support.stack import Stack
from tests.support.system_rows import job_row, run_row


def _failing(n_jobs: int, n_failing: int) -> tuple[list[dict], list[dict]]:
    jobs = [job_row(str(i), f"job_{i:05d}") for i in range(1, n_jobs + 1)]
    runs = [
        run_row(
            str(i),
            f"{i}01",
            ended_ago=timedelta(minutes=30 + i % 600),
            state="FAILED" if i <= n_failing else "SUCCEEDED",
            code="RUN_EXECUTION_ERROR" if i <= n_failing else None,
        )
        for i in range(1, n_jobs + 1)
    ]
    return jobs, runs


def _running(n_jobs: int, n_running: int) -> tuple[list[dict], list[dict]]:
    jobs = [job_row(str(i), f"job_{i:05d}") for i in range(1, n_jobs + 1)]
    # A slice without a terminal state that ended minutes ago: a run still in progress.
    runs = [
        run_row(str(i), f"{i}02", ended_ago=timedelta(minutes=5), state=None)
        for i in range(1, n_running + 1)
    ]
    return jobs, runs


def _one_more_line(blocks: list[dict]) -> int:
    ids = [b.get("block_id") for b in blocks if b.get("block_id")]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    mores = [b for b in blocks if b.get("block_id") == "more"]
    assert len(mores) == 1, mores
    found = re.search(r"…and (\d+) more", json.dumps(mores[0], ensure_ascii=False))
    assert found
    return int(found.group(1))


def test_twenty_four_failing_jobs_are_answered_with_one_more_line_and_a_share_button(
    hand_stack: Callable[..., Stack],
) -> None:
    st = hand_stack(*_failing(30, 24))
    shown = ask(st.sb, "failing 24h")  # asserts the sandbox took it (200 ok, no invalid_blocks)
    blocks = shown.blocks
    assert len(blocks) <= 50 and check_blocks(blocks) == []
    hidden = _one_more_line(blocks)
    assert blocks[-1]["block_id"] == "jobs_share"
    # Every failing job is either listed or counted in "…and N more".
    assert len(shown.items()) + hidden == 24, (len(shown.items()), hidden)


def test_forty_seven_runs_in_progress_are_answered(hand_stack: Callable[..., Stack]) -> None:
    st = hand_stack(*_running(60, 47))
    shown = ask(st.sb, "running")
    assert len(shown.blocks) <= 50
    hidden = _one_more_line(shown.blocks)
    assert len(shown.items()) + hidden == 47


def test_five_thousand_jobs_and_a_thousand_failing_fit_and_share(
    hand_stack: Callable[..., Stack],
) -> None:
    jobs, runs = _failing(5000, 1000)
    running = [
        run_row(str(i), f"{i}03", ended_ago=timedelta(minutes=5), state=None)
        for i in range(1001, 2001)
    ]
    st = hand_stack(jobs, runs + running)
    started = time.monotonic()
    failing = ask(st.sb, "failing 24h", timeout=60)
    took = time.monotonic() - started
    assert len(failing.blocks) <= 50 and len(failing.text) <= 40_000
    assert len(failing.items()) + _one_more_line(failing.blocks) == 1000
    assert took < 30, took  # a generous guard: cutting a long list must not be quadratic
    live = ask(st.sb, "running", timeout=60)
    assert len(live.items()) + _one_more_line(live.blocks) == 1000
    # Share posts the same long answer in the channel: accepted, still one "more" line.
    clicked = st.sb.click(failing.message, JOBS_SHARE, block_id="jobs_share", timeout=30)
    assert clicked.status == "ok"
    shared = [m for m in st.sb.messages("C02ALERTS") if m.text == failing.text]
    assert len(shared) == 1
    assert _one_more_line(shared[0].blocks) + len(failing.items()) == 1000
    posts = [c for c in st.sb.calls_to("chat.postMessage") if c.response.get("ok") is False]
    assert posts == []
