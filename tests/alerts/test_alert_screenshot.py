"""The README's picture of an alert: the real bot (watch mode, real store, notifier, Jobs API
against the local Databricks) posts a failure alert in the sandbox, Alice acknowledges it with
the real button, and Chromium shows the message as a person sees it — checked before the
picture is taken."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.actions import JOBS_ACK
from tests.alerts.conftest import WS, Live

pytestmark = pytest.mark.browser


def test_alert_screenshot(live: Live, browser: Any) -> None:
    job = live.world.add_job(
        WS, "nightly_sales", ("extract", ("load", ["extract"])), tags={"team": "finance-data"},
        run_as_user_name="ana.silva@example.com",
    )  # fmt: skip
    live.tick()
    run = live.world.start_run(WS, job.job_id)
    live.clock.set(live.clock.now() + timedelta(minutes=4))
    live.world.set_task_outcome(WS, run.run_id, "extract", "SUCCESS")
    live.clock.set(live.clock.now() + timedelta(minutes=20))
    error = (
        "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table `sales.orders_raw` cannot be found."
    )
    live.world.set_task_outcome(WS, run.run_id, "load", "FAILED", error, error=error)
    live.tick()
    channel = live.sb.workspace.channel_by_name("finance-data")
    assert channel is not None
    (alert,) = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    assert live.bot.slack is not None
    live.bot.slack.start()  # serve the Bolt app, so the sandbox can deliver the click
    live.sb.app_request_url = live.bot.slack.request_url
    clicked = live.sb.click(alert, JOBS_ACK, block_id="alert-actions", user="U01ALICE")
    assert clicked.status == "ok"
    live.bot.notifier.drain()  # type: ignore[union-attr]

    context = browser.new_context(
        viewport={"width": 1280, "height": 820}, locale="en-US", timezone_id="UTC"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live.sb.base_url}/?channel={channel.id}")
    page.wait_for_selector("body.ready")
    shown = page.locator("#messages .msg", has_text="nightly_sales").first
    shown.wait_for()
    text = shown.inner_text()
    for words in ("failed", "TABLE_OR_VIEW_NOT_FOUND", "load", "Acknowledged by", "Unacknowledge",
                  "Rerun failed tasks", "Open run"):  # fmt: skip
        assert words in text, words
    assert "<!date" not in text
    page.mouse.move(1270, 810)
    # Kept out of docs/: the README's alert picture is the demo's own (tests/e2e).
    folder = Path(tempfile.gettempdir()) / "jobs-bot-screenshots"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / "alert-one-job.png"))
    context.close()
