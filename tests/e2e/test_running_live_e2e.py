"""`/jobs running` in real time, end to end: the sandbox Slack → the real Bolt app built by
bot.wiring → the real JobsApi (databricks-sdk) against two local Databricks workspaces, one of
which is down; the usual durations from the demo account's warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.config import load_config
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from sandbox.slack.driver import SlackSandbox
from tests.support.ask import ask
from tests.support.demo import Demo
from tests.support.jobs_api import START, make_api, workspace_config

UP, DOWN = 111, 222


@pytest.fixture
def live(demo: Demo) -> Iterator[tuple[SlackSandbox, World, LocalDatabricks, FixedClock]]:
    clock = FixedClock(START)
    world = World(clock)
    world.add_workspace("prod-emea", UP)
    world.add_workspace("prod-us", DOWN)
    server = LocalDatabricks(world)
    server.start()
    # A PAT works in its own workspace only: one env var each, as in production.
    env = {"T_UP": server.token(UP), "T_DOWN": server.token(DOWN)}
    pats = {UP: "T_UP", DOWN: "T_DOWN"}
    api = make_api(server, UP, DOWN, env=env, pat_env=pats)
    workspaces = [workspace_config(server, w, pat_env=pats[w]) for w in (UP, DOWN)]
    cfg = load_config(DEMO_CONFIG).model_copy(update={"workspaces": workspaces})
    sb = SlackSandbox(signing_secret="e2e-live")
    sb.start()
    link = wiring.SlackLink(
        bot_token=sb.bot_token, api_url=sb.api_url, transport="http", signing_secret="e2e-live"
    )
    # A down workspace costs the interactive bound (the SDK retries a refused connection), so
    # the "working on it" notice may come first; this test reads the answer itself.
    bot = wiring.build(
        cfg, clock, warehouse=open_warehouse(demo.path), slack=link, jobs_api=api,
        working_after=60,
    )  # fmt: skip
    bot.start()
    assert bot.request_url is not None
    sb.app_request_url = bot.request_url
    try:
        yield sb, world, server, clock
    finally:
        bot.stop()
        sb.stop()
        server.stop()


def test_running_shows_live_runs_and_names_the_workspace_that_is_down(live) -> None:
    sb, world, server, clock = live
    job = world.add_job(UP, "nightly_sales", ("load",), max_concurrent_runs=1)
    first = world.start_run(UP, job.job_id)
    second = world.start_run(UP, job.job_id)  # queued behind the first
    clock.set(clock.now() + timedelta(minutes=7))
    server.take_down(DOWN)
    shown = ask(sb, "running", timeout=15)
    body = shown.rendered
    assert "nightly_sales" in body and "running 7m 00s" in body
    assert "queued since" in body  # the second run waits for the first
    assert "Could not reach prod-us" in body
    assert "Live from the Jobs API" in body
    # Once the run ends it is gone at the next question: no cache in front of live data.
    world.set_task_outcome(UP, first.run_id, "load", "SUCCESS")
    world.set_task_outcome(UP, second.run_id, "load", "SUCCESS")
    server.bring_up(DOWN)
    again = ask(sb, "running", user="U02BOB", timeout=15)
    assert "Nothing is running right now" in again.rendered
    assert "Could not reach" not in again.rendered
