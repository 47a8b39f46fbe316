"""`/jobs running` end to end over a mixed account: the sandbox Slack → the real Bolt app built
by bot.wiring → the real JobsApi (databricks-sdk) against a local Databricks for the workspace
with `jobs_api: true`, and the demo account's system tables for the one with `jobs_api: false`;
the usual durations (p90) from the same warehouse. A long live run is flagged against its p90;
when the warehouse fails, the table workspace is named and the live answer still shown."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.config import load_config
from bot.config.sections import WorkspaceConfig
from bot.service.answer import Reader
from bot.warehouse import open_warehouse, queries
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from sandbox.slack.driver import SlackSandbox
from tests.support.ask import ask
from tests.support.demo import END, Demo
from tests.support.jobs_api import START, make_api, workspace_config
from tests.support.warehouse import ProbeWarehouse

# START (the local Databricks' clock) is the demo account's end: the tables' "now".
assert START == END


@dataclass
class Mixed:
    sb: SlackSandbox
    world: World
    clock: FixedClock
    warehouse: ProbeWarehouse
    live_ws: int
    table_ws: str
    p90_job: str  # a job of the live workspace whose p90 the warehouse knows
    p90: float


@pytest.fixture
def mixed(demo: Demo) -> Iterator[Mixed]:
    live, tables = demo.story.workspaces  # prod-data-eng, prod-analytics
    warehouse = ProbeWarehouse(open_warehouse(demo.path))
    # A job of the live workspace with a p90 of about ten minutes in the demo account.
    durations = Reader(warehouse).read(queries.job_durations, now=END)
    row = next(
        r for r in durations if r.workspace_id == live.workspace_id and 300 < r.p90_seconds < 1200
    )
    clock = FixedClock(START)
    world = World(clock)
    world.add_workspace(live.name, int(live.workspace_id))
    server = LocalDatabricks(world)
    server.start()
    live_id = int(live.workspace_id)
    env = {"T_LIVE": server.token(live_id)}
    api = make_api(server, live_id, env=env, pat_env={live_id: "T_LIVE"})
    workspaces = [
        workspace_config(server, live_id, pat_env="T_LIVE"),
        WorkspaceConfig(id=tables.workspace_id, name=tables.name, host=tables.url, jobs_api=False),
    ]
    cfg = load_config(DEMO_CONFIG).model_copy(update={"workspaces": workspaces})
    sb = SlackSandbox(signing_secret="e2e-mixed")
    sb.start()
    link = wiring.SlackLink(
        bot_token=sb.bot_token, api_url=sb.api_url, transport="http", signing_secret="e2e-mixed"
    )
    bot = wiring.build(cfg, clock, warehouse=warehouse, slack=link, jobs_api=api, working_after=60)
    bot.start()
    assert bot.request_url is not None
    sb.app_request_url = bot.request_url
    try:
        yield Mixed(
            sb, world, clock, warehouse, live_id, tables.name, row.job_id, float(row.p90_seconds)
        )
    finally:
        bot.stop()
        sb.stop()
        server.stop()


def test_live_runs_are_flagged_against_their_p90_and_table_workspaces_answer_too(
    mixed: Mixed, demo: Demo
) -> None:
    m = mixed
    job = m.world.add_job(m.live_ws, "live_hourly", job_id=int(m.p90_job))
    m.world.start_run(m.live_ws, job.job_id)
    brief = m.world.add_job(m.live_ws, "live_brief", max_concurrent_runs=2)
    m.world.start_run(m.live_ws, brief.job_id)  # no history: never a long-runner
    over = timedelta(seconds=m.p90 + 120)
    m.clock.set(START + over)
    shown = ask(m.sb, "running", timeout=15)
    body = shown.rendered
    item = {
        name: text
        for text in (b["text"]["text"] for b in shown.items())
        for name in ("live_hourly", "live_brief")
        if name in text
    }
    assert item["live_hourly"].startswith("⚠️") and "*long-runner*" in item["live_hourly"]
    assert "(p90)" in item["live_hourly"]
    assert item["live_brief"].startswith("🔄") and "no history yet" in item["live_brief"]
    assert "long-runner" not in item["live_brief"]
    assert "running longer than usual (past p90)" in shown.text  # the summary counts it
    # The table workspace's runs in progress, from the system tables, marked as such.
    from_tables = [
        r.job.name for r in demo.story.in_progress if r.job.workspace_id != str(m.live_ws)
    ]
    assert from_tables and all(name in body for name in from_tables)
    assert f"{m.table_ws} from system tables" in body and "Live from the Jobs API" in body
    # The live workspace is answered live only: its table rows are not mixed in.
    live_in_tables = [
        r.job.name for r in demo.story.in_progress if r.job.workspace_id == str(m.live_ws)
    ]
    assert live_in_tables and not any(name in body for name in live_in_tables)
    assert "Could not reach" not in body


def test_a_failing_warehouse_names_the_table_workspace_and_still_shows_live_runs(
    mixed: Mixed,
) -> None:
    m = mixed
    job = m.world.add_job(m.live_ws, "live_hourly", job_id=int(m.p90_job))
    m.world.start_run(m.live_ws, job.job_id)
    m.clock.set(START + timedelta(minutes=3))
    m.warehouse.fail_with = ConnectionResetError("[Errno 104] Connection reset by peer")
    shown = ask(m.sb, "running", timeout=15)
    body = shown.rendered
    assert "couldn't read the Databricks system tables" not in body  # not a failed answer
    assert "live_hourly" in body and "running 3m 00s" in body
    assert f"Could not reach {m.table_ws} (system tables unreachable)" in body
    assert "usual durations unavailable" in body
    assert f"{m.table_ws} from system tables" not in body
    m.warehouse.fail_with = None
    again = ask(m.sb, "running", user="U02BOB", timeout=15).rendered
    assert "Could not reach" not in again and f"{m.table_ws} from system tables" in again
