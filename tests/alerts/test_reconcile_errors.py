"""A failure the Jobs API path missed (the workspace's API was down while the run ended) is
alerted late by the system-table reconcile, and once the API answers again the late alert
carries the failed task and its error, which the tables do not hold; while it still does not
answer, the alert goes out all the same with the tables' termination code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import load_config
from bot.render import Renderer
from bot.service.alerts import FailureAlerts
from bot.store import Store
from bot.warehouse import open_warehouse, queries
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from tests.support.jobs_api import START, make_api, workspace_config
from tests.support.wh_world import World as Tables

WS = 5151


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[World, LocalDatabricks, Tables, FailureAlerts, Store]]:
    clock = FixedClock(START)
    world = World(clock)
    world.add_workspace("prod-emea", WS)
    server = LocalDatabricks(world)
    api = make_api(server, WS)
    cfg = load_config(DEMO_CONFIG).model_copy(update={"workspaces": [workspace_config(server, WS)]})
    wh = open_warehouse(None)
    tables = Tables(wh)  # type: ignore[arg-type]
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock)
    alerts = FailureAlerts(
        config=cfg,
        clock=clock,
        renderer=Renderer(tz=cfg.timezone, clock=clock),
        store=store,
        jobs_api=api,
        ended_runs=partial(queries.runs_ended, wh),
    )
    yield world, server, tables, alerts, store
    store.close()
    wh.close()
    server.stop()


def _missed_failure(world: World, tables: Tables, clock: FixedClock) -> None:
    """A run that failed while the API path was not looking, and its rows in the tables."""
    job = world.add_job(WS, "nightly_sales", ("extract", "load"))
    run = world.start_run(WS, job.job_id, "PERIODIC")
    start = clock.now()
    clock.set(start + timedelta(minutes=20))
    world.set_task_outcome(WS, run.run_id, "extract", "SUCCEEDED", None)
    world.set_task_outcome(
        WS, run.run_id, "load", "FAILED", "boom", error="KeyError: 'amount' in load_sales"
    )
    fmt = "%Y-%m-%d %H:%M"
    tables.job(str(WS), str(job.job_id), "nightly_sales", "2026-01-01 00:00")
    tables.slice(str(WS), str(job.job_id), str(run.run_id), start.strftime(fmt),
                 clock.now().strftime(fmt), "FAILED", "RUN_EXECUTION_ERROR")  # fmt: skip
    clock.set(clock.now() + timedelta(minutes=30))  # past the API path's head start


def test_the_late_alert_has_the_task_error_once_the_api_answers(stack) -> None:
    world, _, tables, alerts, store = stack
    _missed_failure(world, tables, alerts.clock)
    assert alerts.poll_tables().alerted == 1
    post = store.outbox.get(1)
    body = json.dumps(post.payload, ensure_ascii=False)
    assert "found late, from the system tables" in body
    assert "load" in body and "KeyError: 'amount' in load_sales" in body


def test_the_late_alert_goes_out_without_the_api(stack) -> None:
    world, server, tables, alerts, store = stack
    _missed_failure(world, tables, alerts.clock)
    server.take_down(WS)
    assert alerts.poll_tables().alerted == 1
    body = json.dumps(store.outbox.get(1).payload, ensure_ascii=False)
    assert "found late, from the system tables" in body and "RUN_EXECUTION_ERROR" in body
