"""The Jobs API path of both checks, against the local Databricks (real JobsApi, real HTTP):
a max_duration SLA judged while the run is still running and resolved when it ends, and
missed runs from each job's own schedule — missed, covered, paused, deleted, unscheduled —
resolved the moment a run starts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.clock import FixedClock
from bot.config.sections import JobSelector, SlaRule
from bot.service.missed_runs import MissedRuns
from bot.service.sla_alerts import SlaAlerts
from bot.store import Store
from bot.store.records import IncidentKind, OutboxKind
from sandbox.databricks import LocalDatabricks, World
from tests.lateness.conftest import demo_config, messages, outbox, renderer_for, send_all
from tests.support.jobs_api import make_api, workspace_config
from tests.support.wh_world import Rows

WS = 5151


@pytest.fixture
def live(clock: FixedClock) -> Iterator[tuple[World, LocalDatabricks]]:
    world = World(clock)
    world.add_workspace("prod-emea", WS)
    server = LocalDatabricks(world)
    yield world, server
    server.stop()


def test_max_duration_breaches_while_running_and_resolves_when_it_ends(
    live, tables: Rows, store: Store, clock: FixedClock
) -> None:
    world, server = live
    job = world.add_job(WS, "nightly_etl", ("load",))
    tables.job(str(WS), str(job.job_id), "nightly_etl", "2026-01-01 00:00")  # found by name
    api = make_api(server, WS)  # starts the server, so its URL is known
    cfg = demo_config(
        workspaces=[workspace_config(server, WS)],
        slas=(SlaRule(job=JobSelector(name="nightly_etl"), max_duration=timedelta(minutes=30)),),
    )
    alerts = SlaAlerts(
        config=cfg, clock=clock, renderer=renderer_for(cfg, clock), store=store,
        warehouse=tables.wh, jobs_api=api, warehouse_ttl=timedelta(0),
    )  # fmt: skip
    run = world.start_run(WS, job.job_id)
    clock.set(clock.now() + timedelta(minutes=20))
    alerts.check()
    assert outbox(store) == []  # running 20 of 30 minutes, nothing in the tables yet
    clock.set(clock.now() + timedelta(minutes=11))
    alerts.check()
    (post,) = outbox(store)
    assert "breached its SLA" in post.payload["text"] and "running for 31m" in str(post.payload)
    clock.set(clock.now() + timedelta(minutes=9))
    world.set_task_outcome(WS, run.run_id, "load", "SUCCESS")
    clock.set(clock.now() + timedelta(seconds=30))
    assert alerts.check().resolved == 1
    rows = outbox(store)
    assert [r.kind for r in rows] == [OutboxKind.POST, OutboxKind.UPDATE, OutboxKind.THREAD_REPLY]
    assert "met its SLA late by 10m" in rows[1].payload["text"]
    assert {r.incident_id for r in rows} == {post.incident_id}


def _missed(
    world: World, server: LocalDatabricks, tables: Rows, store: Store, clock: FixedClock
) -> MissedRuns:
    api = make_api(server, WS)  # starts the server, so its URL is known
    cfg = demo_config(workspaces=[workspace_config(server, WS)])
    return MissedRuns(
        config=cfg, clock=clock, renderer=renderer_for(cfg, clock), store=store,
        warehouse=tables.wh, jobs_api=api, warehouse_ttl=timedelta(0),
    )  # fmt: skip


def test_missed_vs_paused_vs_deleted_vs_unscheduled(live, tables, store, clock) -> None:
    world, server = live
    # Every job's schedule says 10:00 Amsterdam (09:00 UTC, when the clock starts).
    sched = {"quartz_cron_expression": "0 0 10 * * ?", "timezone_id": "Europe/Amsterdam"}
    missed = world.add_job(WS, "finance_gl_export", schedule=sched, tags={"team": "finance-data"})
    paused = world.add_job(WS, "paused_job", schedule={**sched, "pause_status": "PAUSED"})
    deleted = world.add_job(WS, "deleted_job", schedule=sched)
    covered = world.add_job(WS, "covered_job", schedule=sched)
    unscheduled = world.add_job(WS, "manual_job")
    for j in (missed, paused, deleted, covered, unscheduled):
        # The table still shows every one of them scheduled and unpaused (it lags): the live
        # API is what decides.
        tables.scheduled_job(str(WS), str(j.job_id), j.name, "2026-03-02 08:00",
                             "0 0 10 * * ?", "Europe/Amsterdam")  # fmt: skip
    world.delete_job(WS, deleted.job_id)
    world.start_run(WS, covered.job_id)
    checks = _missed(world, server, tables, store, clock)

    clock.set(clock.now() + timedelta(minutes=14))
    assert checks.check().missed == 0  # within the grace period
    clock.set(clock.now() + timedelta(minutes=1))
    outcome = checks.check()
    assert outcome.missed == 1, outcome
    (post,) = outbox(store)
    assert post.channel == "#finance-data"  # routed by the live job's tag
    assert "finance_gl_export did not start" in post.payload["text"]
    assert "at 10:00 Europe/Amsterdam, no run by 10:15" in post.payload["text"]
    (incident,) = store.incidents.open_incidents(IncidentKind.MISSED_RUN)
    assert incident.job_id == str(missed.job_id)

    clock.set(clock.now() + timedelta(minutes=5))
    checks.check()
    assert len(outbox(store)) == 1  # nothing new while it stays missed

    world.start_run(WS, missed.job_id, trigger="ONE_TIME")  # someone starts it by hand
    clock.set(clock.now() + timedelta(seconds=30))
    assert checks.check().resolved == 1
    rows = outbox(store)
    assert [r.kind for r in rows] == [OutboxKind.POST, OutboxKind.UPDATE, OutboxKind.THREAD_REPLY]
    assert "running again" in rows[1].payload["text"]
    assert "A run started at" in rows[2].payload["text"] and "20m" in rows[2].payload["text"]
    assert store.incidents.open_incidents(IncidentKind.MISSED_RUN) == []


def test_pausing_a_job_closes_its_missed_run(live, tables, store, clock) -> None:
    world, server = live
    sched = {"quartz_cron_expression": "0 0 10 * * ?", "timezone_id": "Europe/Amsterdam"}
    job = world.add_job(WS, "daily_export", schedule=sched)
    tables.scheduled_job(str(WS), str(job.job_id), job.name, "2026-03-02 08:00",
                         "0 0 10 * * ?", "Europe/Amsterdam")  # fmt: skip
    checks = _missed(world, server, tables, store, clock)
    clock.set(clock.now() + timedelta(minutes=16))
    checks.check()
    assert len(outbox(store)) == 1
    world.pause(WS, job.job_id)
    clock.set(clock.now() + timedelta(minutes=11))  # past the jobs/get cache
    checks.check()
    assert store.incidents.open_incidents(IncidentKind.MISSED_RUN) == []
    assert "paused" in outbox(store)[-1].payload["text"]


def test_back_to_back_overruns_share_the_days_message(
    live, tables: Rows, store: Store, clock: FixedClock
) -> None:
    # Two runs of nightly_etl in a row, each over its 30 min; the second starts the moment the
    # first ends, so the check after that sees a new run before judging the old one's end.
    world, server = live
    job = world.add_job(WS, "nightly_etl", ("load",))
    tables.job(str(WS), str(job.job_id), "nightly_etl", "2026-01-01 00:00")
    api = make_api(server, WS)
    cfg = demo_config(
        workspaces=[workspace_config(server, WS)],
        slas=(SlaRule(job=JobSelector(name="nightly_etl"), max_duration=timedelta(minutes=30)),),
    )
    alerts = SlaAlerts(
        config=cfg, clock=clock, renderer=renderer_for(cfg, clock), store=store,
        warehouse=tables.wh, jobs_api=api, warehouse_ttl=timedelta(0),
    )  # fmt: skip
    first = world.start_run(WS, job.job_id)
    clock.set(clock.now() + timedelta(minutes=31))
    alerts.check()
    send_all(store)
    clock.set(clock.now() + timedelta(minutes=9))
    world.set_task_outcome(WS, first.run_id, "load", "SUCCESS")
    world.start_run(WS, job.job_id)
    clock.set(clock.now() + timedelta(seconds=30))
    assert alerts.check().resolved == 1  # the first run: met late, although a new one runs
    send_all(store)
    clock.set(clock.now() + timedelta(minutes=31))
    alerts.check()
    send_all(store)
    rows = messages(store)
    said = [(kind, text) for kind, _, text in rows if kind is not OutboxKind.UPDATE]
    assert [kind for kind, _ in said] == [
        OutboxKind.POST, OutboxKind.THREAD_REPLY, OutboxKind.THREAD_REPLY,
    ]  # fmt: skip
    assert said[0][1].startswith("🔴 nightly_etl breached its SLA by 1m 00s")
    assert said[1][1].startswith("🟠 Met late") and "took 40m" in said[1][1]
    assert said[2][1].startswith("🔴 Breached again today") and "running for 31m" in said[2][1]
    assert len({about for _, about, _ in rows}) == 1  # all about one Slack message
    (still,) = store.incidents.open_incidents(IncidentKind.SLA)  # the second run's breach
    assert still.message_ts == rows[0][1]
