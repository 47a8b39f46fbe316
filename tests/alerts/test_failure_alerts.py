"""Failure alerts from the Jobs API to the outbox: the real JobsApi (databricks-sdk) against the
local Databricks, the real store on SQLite, the real templates. What a user would notice:
one message per incident, updates and thread lines on later failures, recovery in place,
muted jobs silent, hostile text literal, and nothing repeated across a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Config, load_config
from bot.models import JobKey
from bot.render import Renderer
from bot.service.alerts import FailureAlerts
from bot.slack.blocks_check import problems
from bot.store import Store
from bot.store.records import OutboxKind
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from tests.jobs_api.conftest import START, make_api, workspace_config

WS = 1234567890


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def setup(
    clock: FixedClock, tmp_path: Path
) -> Iterator[tuple[World, LocalDatabricks, Store, FailureAlerts, Config]]:
    world = World(clock)
    world.add_workspace("prod-emea", WS)
    server = LocalDatabricks(world)
    api = make_api(server, WS)
    cfg = load_config(DEMO_CONFIG).model_copy(update={"workspaces": [workspace_config(server, WS)]})
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock)
    renderer = Renderer(tz=cfg.timezone, clock=clock)
    alerts = FailureAlerts(config=cfg, clock=clock, renderer=renderer, store=store, jobs_api=api)
    yield world, server, store, alerts, cfg
    store.close()
    server.stop()


def _outbox(store: Store) -> list:
    # Every row, in order; the test reads the store the notifier will read.
    rows = []
    i = 1
    while True:
        found = store.outbox.get(i)
        if found is None:
            break
        rows.append(found)
        i += 1
    return rows


def _fail(world: World, clock: FixedClock, job_id: int, error: str, *, minutes: int = 5) -> int:
    run = world.start_run(WS, job_id)
    clock.set(clock.now() + timedelta(minutes=minutes))
    world.set_task_outcome(WS, run.run_id, "load", "FAILED", error, error=error)
    return run.run_id


def _succeed(world: World, clock: FixedClock, job_id: int) -> int:
    run = world.start_run(WS, job_id)
    clock.set(clock.now() + timedelta(minutes=5))
    world.set_task_outcome(WS, run.run_id, "load", "SUCCESS")
    return run.run_id


def test_a_failure_posts_one_alert_then_updates_then_resolves(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(
        WS, "nightly_sales", ("load",), tags={"team": "finance-data"},
        run_as_user_name="ana.silva@example.com",
    )  # fmt: skip
    alerts.poll(str(WS))  # first poll: nothing yet
    run1 = _fail(world, clock, job.job_id, "Table sales.orders not found")
    clock.set(clock.now() + timedelta(seconds=30))
    assert alerts.poll(str(WS)).alerted == 1
    rows = _outbox(store)
    assert [r.kind for r in rows] == [OutboxKind.POST]
    post = rows[0]
    assert post.channel == "#finance-data"  # routed by the team tag
    body = json.dumps(post.payload)
    assert "nightly_sales" in body and "Table sales.orders not found" in body
    assert "<@U01ALICE>" in body  # the owner, mapped by the config
    assert "failed (no retries left)" in body and f"run {run1}" in body
    assert problems(post.payload) == []
    ids = [e.get("action_id") for b in post.payload["blocks"] for e in b.get("elements", [])]
    assert {"jobs_rerun", "jobs_ack", "jobs_snooze", "jobs_open_run"} <= set(ids)

    # The same poll again (a restart before the watermark was saved) adds nothing.
    assert alerts.poll(str(WS)).alerted == 0 and len(_outbox(store)) == 1

    _fail(world, clock, job.job_id, "Table sales.orders not found (again)")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    rows = _outbox(store)
    assert [r.kind for r in rows] == [OutboxKind.POST, OutboxKind.UPDATE, OutboxKind.THREAD_REPLY]
    assert "2nd failure in a row" in json.dumps(rows[1].payload)
    assert "<@U01ALICE>" not in json.dumps(rows[2].payload)  # thread lines ping nobody

    _succeed(world, clock, job.job_id)
    clock.set(clock.now() + timedelta(seconds=30))
    assert alerts.poll(str(WS)).resolved == 1
    rows = _outbox(store)
    update, thread = rows[-2], rows[-1]
    assert update.kind is OutboxKind.UPDATE and thread.kind is OutboxKind.THREAD_REPLY
    assert "recovered" in update.payload["text"]
    assert not any(b["type"] == "actions" for b in update.payload["blocks"])  # buttons gone
    assert "Recovered" in thread.payload["text"] and "after 2 failures" in thread.payload["text"]
    assert store.incidents.open_incidents() == []


def test_a_restart_from_a_stored_watermark_repeats_nothing(setup, clock) -> None:
    world, server, store, alerts, cfg = setup
    job = world.add_job(WS, "ml_features", ("load",))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "boom")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    # A new process: new client, new FailureAlerts, same store.
    again = FailureAlerts(
        config=cfg, clock=clock, renderer=Renderer(clock=clock), store=store,
        jobs_api=make_api(server, WS),
    )  # fmt: skip
    clock.set(clock.now() + timedelta(seconds=30))
    assert again.poll(str(WS)).alerted == 0
    assert [r.kind for r in _outbox(store)] == [OutboxKind.POST]
    assert _outbox(store)[0].channel == "#ml-platform"  # by name pattern ml_*


def test_a_muted_job_records_its_incident_and_posts_nothing(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(WS, "noisy_job", ("load",))
    store.mutes.mute(JobKey(str(WS), str(job.job_id)), "U02BOB", START + timedelta(hours=4))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "boom")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    assert _outbox(store) == []
    assert len(store.incidents.open_incidents()) == 1


def test_hostile_names_and_errors_render_literally(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    evil = "<!channel> `*x*` <@U01ALICE>"
    job = world.add_job(WS, evil, ("load",))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "```<!here>``` " + "x" * 5000)
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    post = _outbox(store)[0].payload
    body = json.dumps(post, ensure_ascii=False)
    assert "<!channel>" not in body and "<!here>" not in body and "<@U01ALICE>" not in body
    assert "&lt;!channel&gt;" in body
    assert problems(post) == []
