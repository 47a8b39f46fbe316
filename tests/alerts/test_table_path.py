"""The system-table failure path: workspaces without Jobs API access are watched through the
tables (on a hand-built embedded warehouse), the reconcile alerts late — once, marked so — on a
failure the Jobs API path never saw, and a failed run's cost fills in once billing has it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import WorkspaceConfig, load_config
from bot.render import Renderer
from bot.service.alerts import FailureAlerts
from bot.store import Store
from bot.store.records import OutboxKind
from bot.warehouse import open_warehouse, queries
from sandbox import DEMO_CONFIG
from tests.support.wh_world import World, utc

NOW = utc("2026-03-02 09:00")
TABLES_ONLY, WATCHED = "111", "222"


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[World, Store, FailureAlerts, FixedClock]]:
    clock = FixedClock(NOW)
    wh = open_warehouse(None)
    world = World(wh)  # type: ignore[arg-type]
    cfg = load_config(DEMO_CONFIG).model_copy(
        update={
            "workspaces": [
                WorkspaceConfig(id=TABLES_ONLY, name="legacy", host="https://legacy.example",
                                jobs_api=False),
                WorkspaceConfig(id=WATCHED, name="prod", host="https://prod.example"),
            ]
        }
    )  # fmt: skip
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}", clock)
    alerts = FailureAlerts(
        config=cfg,
        clock=clock,
        renderer=Renderer(clock=clock),
        store=store,
        jobs_api=None,  # the table path must not need it
        ended_runs=partial(queries.runs_ended, wh),
        run_cost=lambda ws, run: queries.run_cost(wh, workspace_id=ws, job_run_id=run),
    )
    yield world, store, alerts, clock
    store.close()
    wh.close()


def _rows(store: Store) -> list:
    out, i = [], 1
    while (row := store.outbox.get(i)) is not None:
        out.append(row)
        i += 1
    return out


def test_a_tables_only_workspace_alerts_from_the_tables_once(setup) -> None:
    world, store, alerts, clock = setup
    world.job(
        TABLES_ONLY, "7", "finance_gl_export", "2026-01-01 00:00", tags={"team": "finance-data"}
    )
    world.slice(TABLES_ONLY, "7", "r1", "2026-03-02 08:00", "2026-03-02 08:40", "FAILED",
                "RUN_EXECUTION_ERROR")  # fmt: skip
    assert alerts.poll_tables().alerted == 1
    (post,) = _rows(store)
    assert post.kind is OutboxKind.POST and post.channel == "#finance-data"
    body = json.dumps(post.payload)
    assert "finance_gl_export" in body and "RUN_EXECUTION_ERROR" in body
    assert "found late" not in body  # the tables are this workspace's own source
    clock.set(NOW + timedelta(minutes=5))
    alerts.poll_tables()  # the same rows, seen again: nothing new
    assert len(_rows(store)) == 1
    # A later success resolves it from the tables too.
    world.slice(TABLES_ONLY, "7", "r2", "2026-03-02 08:50", "2026-03-02 09:02", "SUCCEEDED",
                "SUCCESS")  # fmt: skip
    clock.set(NOW + timedelta(minutes=10))
    assert alerts.poll_tables().resolved == 1
    assert store.incidents.open_incidents() == []


def test_the_reconcile_alerts_late_on_a_failure_the_api_path_missed(setup) -> None:
    world, store, alerts, clock = setup
    world.job(WATCHED, "9", "nightly_sales", "2026-01-01 00:00")
    world.slice(WATCHED, "9", "r7", "2026-03-02 08:30", "2026-03-02 08:55", "FAILED")
    # Five minutes after the end the API path still has its head start: no reconcile alert.
    assert alerts.poll_tables().alerted == 0
    clock.set(NOW + timedelta(minutes=20))
    assert alerts.poll_tables().alerted == 1
    (post,) = _rows(store)
    assert "found late, from the system tables" in json.dumps(post.payload)
    clock.set(NOW + timedelta(minutes=30))
    alerts.poll_tables()
    assert len(_rows(store)) == 1  # once


def test_an_older_failure_under_a_newer_success_is_history(setup) -> None:
    world, store, alerts, clock = setup
    world.job(TABLES_ONLY, "5", "hourly", "2026-01-01 00:00")
    world.slice(TABLES_ONLY, "5", "a", "2026-03-02 07:00", "2026-03-02 07:10", "FAILED")
    world.slice(TABLES_ONLY, "5", "b", "2026-03-02 08:00", "2026-03-02 08:10", "SUCCEEDED")
    alerts.poll_tables()
    assert _rows(store) == [] and store.incidents.open_incidents() == []


def test_the_failed_runs_cost_fills_in_once_billing_has_it(setup) -> None:
    world, store, alerts, clock = setup
    world.job(TABLES_ONLY, "7", "etl", "2026-01-01 00:00")
    world.slice(TABLES_ONLY, "7", "r1", "2026-03-02 07:00", "2026-03-02 08:40", "FAILED")
    world.price("JOBS_COMPUTE", "0.15", "2026-01-01 00:00")
    alerts.poll_tables()
    (incident,) = store.incidents.open_incidents()
    store.incidents.set_message(incident.id, "C1", "1.1")
    assert alerts.backfill_costs() == 0  # no billing yet: the alert says pending
    world.usage(TABLES_ONLY, "JOBS_COMPUTE", "2026-03-02 07:00", "2026-03-02 08:00", "10",
                job_id="7", run_id="r1")  # fmt: skip
    assert alerts.backfill_costs() == 0  # billed up to 08:00 only; the run ran to 08:40
    world.usage(TABLES_ONLY, "JOBS_COMPUTE", "2026-03-02 08:00", "2026-03-02 09:00", "6",
                job_id="7", run_id="r1")  # fmt: skip
    assert alerts.backfill_costs() == 1
    update = _rows(store)[-1]
    assert update.kind is OutboxKind.UPDATE
    assert "$2.40" in json.dumps(update.payload, ensure_ascii=False)  # 16 DBU × $0.15
    assert alerts.backfill_costs() == 0  # filled once
