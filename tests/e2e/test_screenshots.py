"""Screenshots for the README from the sandbox page in Chromium: the real bot answering on the
account `jobs-bot demo` generates (60 jobs, 30 days, 3 workspaces, seed 7; here at a fixed end
time), wired as the demo wires it. Each picture is taken only after checking that what it shows
is right: `UPDATE_SCREENSHOTS=1 ./run-tests -m browser` writes them to docs/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import wiring
from bot.actions import JOBS_ACK
from bot.clock import FixedClock
from bot.config import WorkspaceConfig
from bot.store import Store
from bot.warehouse import open_warehouse
from bot.warehouse.duckdb_backend import DuckDBWarehouse, open_db
from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.simulator import Simulator
from sandbox.databricks.simulator_catalog import from_warehouse
from sandbox.databricks.sink import DuckDBSink
from sandbox.slack.driver import SlackSandbox
from tests.support.browser import screenshot_dir
from tests.support.demo import END, Demo, demo_config, make_full_demo
from tests.support.stack import Stack, start_stack, stop_stack

DOCS = screenshot_dir()

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def full_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    demo = make_full_demo(tmp_path_factory.mktemp("full-demo"))
    assert demo.story.jobs == 60 and len(demo.story.workspaces) == 3
    return demo


@pytest.fixture(scope="module")
def full_stack(full_demo: Demo) -> Iterator[Stack]:
    stack = start_stack(open_warehouse(full_demo.path), demo_config(full_demo.story))
    try:
        yield stack
    finally:
        stop_stack(stack)


def _page(browser: Any, base_url: str, channel: str, height: int = 900) -> Any:
    context = browser.new_context(
        viewport={"width": 1280, "height": height}, locale="en-US", timezone_id="UTC"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/?channel={channel}")
    page.wait_for_selector("body.ready")
    return page, errors


def _type_and_wait(browser: Any, stack: Stack, channel: str, command: str, marker: str) -> Any:
    page, errors = _page(browser, stack.sb.base_url, channel)
    page.locator("#composer-input").fill(command)
    page.locator("#composer-input").press("Enter")
    answer = page.locator("#messages .msg.ephemeral", has_text=marker)
    answer.wait_for()
    assert errors == []
    return page, answer


def _shoot(page: Any, answer: Any, name: str) -> None:
    # Long answers: show their top (header, summary, worst first) rather than the tail.
    answer.evaluate("e => e.scrollIntoView({block: 'start'})")
    viewport = page.viewport_size
    page.mouse.move(viewport["width"] - 10, viewport["height"] - 10)  # no hover highlight
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / name))
    page.context.close()


def test_failing_screenshot(full_stack: Stack, full_demo: Demo, browser: Any) -> None:
    page, answer = _type_and_wait(browser, full_stack, "C02ALERTS", "/jobs failing 24h", "worst:")
    shown = answer.inner_text()
    assert "Only visible to you" in shown
    story = full_demo.story
    in_window = [f for f in story.failing if END - f.last_failure < timedelta(hours=24)]
    worst = story.failing[0]
    assert f"{len(in_window)} jobs failing in the last 24h" in shown
    assert f"worst: {worst.job.name}" in shown
    for f in story.failing_designed():
        assert f.job.name in shown and f"{f.streak} failures in a row" in shown
    assert answer.locator("a.link", has_text=worst.job.name).count() == 1
    assert answer.locator("button", has_text="Share in channel").count() == 1
    assert answer.locator("button", has_text="Rerun failed tasks").count() == len(in_window) >= 3
    _shoot(page, answer, "failing.png")


def test_status_screenshot(full_stack: Stack, full_demo: Demo, browser: Any) -> None:
    late = next(lj.job for lj in full_demo.story.late if lj.job.name == "nightly_sales")
    page, answer = _type_and_wait(
        browser, full_stack, "C01GENERAL", f"/jobs status {late.name}", "Latest runs"
    )
    assert answer.locator(".block-header").first.inner_text().endswith(late.name)
    shown = answer.inner_text()
    for word in ("Success 7d", "Duration p50 / p90", "Cost 30d", "SLA", "Met", late.job_id):
        assert word in shown
    assert "<!date" not in shown  # dates are rendered, not shown raw
    _shoot(page, answer, "status.png")


def test_cost_screenshot(full_stack: Stack, browser: Any) -> None:
    page, answer = _type_and_wait(browser, full_stack, "C07FINANCE", "/jobs cost 7d by team", "Top")
    shown = answer.inner_text()
    assert "Cost · last 7d by tag:team" in shown
    assert "vs the previous 7d" in shown
    for team in ("data-eng", "ml-platform", "analytics", "finance-data", "(untagged)"):
        assert team in shown
    for waste in ("Failed runs & retries", "All-purpose compute", "Idle clusters"):
        assert waste in shown
    _shoot(page, answer, "cost.png")


def test_alert_screenshot(full_demo: Demo, browser: Any, tmp_path: Path) -> None:
    """The demo's first minute: the local Databricks runs the account, the failing job the
    demo kicks fails, the watcher's poll finds it through the Jobs API, the notifier posts the
    alert, and Alice acknowledges it with the real button (the bot served over HTTP)."""
    path = str(tmp_path / "demo.duckdb")
    shutil.copy(full_demo.path, path)  # the simulator writes into it, as in the demo
    con = open_db(path)
    clock = FixedClock(END)
    world = World(clock)
    sim = Simulator(world, from_warehouse(con, seed=7), DuckDBSink(con), clock=clock, seed=7)
    server = LocalDatabricks(world)
    sb = SlackSandbox(signing_secret="screenshots")
    bot: wiring.Bot | None = None
    try:
        env: dict[str, str] = {}
        workspaces = []
        for ws_id, url in sorted(server.start().items()):
            var = f"JOBS_BOT_DEMO_TOKEN_{ws_id}"
            env[var] = server.token(ws_id)
            with world.lock:
                name = world.workspace(ws_id).name
            workspaces.append(WorkspaceConfig(id=str(ws_id), name=name, host=url, jobs_api=True,
                                              pat_env=var))  # fmt: skip
        cfg = demo_config(full_demo.story).model_copy(update={"workspaces": tuple(workspaces)})
        sb.start()
        link = wiring.SlackLink(bot_token=sb.bot_token, api_url=sb.api_url, transport="http",
                                signing_secret="screenshots")  # fmt: skip
        store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock)
        bot = wiring.build(cfg, clock, warehouse=DuckDBWarehouse(con), slack=link, store=store,
                           watch=True, env=env)  # fmt: skip
        alerts, notifier, slack = bot.alerts, bot.notifier, bot.slack
        assert alerts is not None and notifier is not None and slack is not None
        notifier._pace.interval = 0.0  # the pace has its own tests; here it would only wait

        def tick(seconds: float) -> None:
            sim.step(timedelta(seconds=seconds))
            for w in workspaces:
                alerts.poll(w.id)
            notifier.drain()

        tick(1)
        job = sim.kick()  # as `jobs-bot demo` does: one of the failing jobs fails again
        failing = {f.job.name: f.job for f in full_demo.story.failing_designed()}
        assert job.name in failing
        ws_name = next(w.name for w in full_demo.story.workspaces
                       if w.workspace_id == failing[job.name].workspace_id)  # fmt: skip
        for _ in range(3):
            tick(30)
        channel = sb.workspace.channel_by_name("data-alerts")
        assert channel is not None
        (alert,) = [m for m in sb.messages(channel.id) if m.source != "user"]
        slack.start()  # serve the Bolt app, so the sandbox can deliver the click
        sb.app_request_url = slack.request_url
        clicked = sb.click(alert, JOBS_ACK, block_id="alert-actions", user="U01ALICE")
        assert clicked.status == "ok"
        notifier.drain()
        replies = [m for m in sb.thread(channel.id, alert.ts) if m.ts != alert.ts]
        assert any("acknowledged" in m.text.lower() for m in replies), [m.text for m in replies]

        page, errors = _page(browser, sb.base_url, channel.id, height=820)
        shown = page.locator("#messages .msg", has_text=job.name).first
        shown.wait_for()
        text = shown.inner_text()
        code = job.modes[0][1]  # the kicked run fails the first way the job's last run did
        for words in (f"{job.name} failed · {ws_name}", code, "failed (no retries left)",
                      "Acknowledged by", "Unacknowledge", "Rerun failed tasks", "Open run"):  # fmt: skip
            assert words in text, words
        assert "<!date" not in text and errors == []
        _shoot(page, shown, "demo-alert.png")
    finally:
        if bot is not None:
            bot.stop()
        sb.stop()
        server.stop()
        con.close()
