"""Failure alerts from the Jobs API to the outbox: the real JobsApi (databricks-sdk) against the
local Databricks, the real store on SQLite, the real templates. What a user would notice:
one message per incident, updates and thread lines on later failures, recovery in place,
muted jobs silent, hostile text literal, and nothing repeated across a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Config, check_file, load_config
from bot.models import ApiRun, ApiRunState, JobInfo, JobKey, RunCost, TaskRun
from bot.render import Renderer
from bot.service.alert_feed import FEED
from bot.service.alerts import FailureAlerts
from bot.slack.blocks_check import problems
from bot.store import Store
from bot.store.records import IncidentKey, IncidentKind, OutboxKind
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from tests.support.jobs_api import START, make_api, workspace_config

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


# -- muted, never posted, or posted in vain: nothing waits forever -----------------------------


def _pending(store: Store) -> list:
    return [r for r in _outbox(store) if r.state.value in ("pending", "sending")]


def _send(store: Store, ts: str = "1700000000.000100") -> None:
    """What the notifier does with every due row: Slack accepts it."""
    while (row := store.outbox.claim_next()) is not None:
        store.outbox.mark_sent(row, ts)


def test_a_success_while_muted_of_a_never_posted_incident_queues_nothing(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(WS, "noisy_job", ("load",))
    store.mutes.mute(JobKey(str(WS), str(job.job_id)), "U02BOB", START + timedelta(hours=4))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "boom")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    _succeed(world, clock, job.job_id)
    clock.set(clock.now() + timedelta(seconds=30))
    assert alerts.poll(str(WS)).resolved == 1  # recorded: the incident is closed
    assert store.incidents.open_incidents() == []
    assert _outbox(store) == []  # and nothing waits for a message that was never posted


def test_after_a_mute_ends_the_next_failure_posts_the_alert_with_its_streak(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(WS, "noisy_job", ("load",))
    store.mutes.mute(JobKey(str(WS), str(job.job_id)), "U02BOB", START + timedelta(minutes=20))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "boom")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    assert _outbox(store) == []
    clock.set(START + timedelta(minutes=30))  # the mute ran out; the incident is still open
    _fail(world, clock, job.job_id, "boom again")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    rows = _outbox(store)
    assert [r.kind for r in rows] == [OutboxKind.POST]
    assert "2nd failure in a row" in json.dumps(rows[0].payload)
    assert "boom again" in json.dumps(rows[0].payload)
    _send(store)
    assert _pending(store) == []


def test_a_recovery_of_an_incident_never_posted_posts_nothing(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(WS, "noisy_job", ("load",))
    store.mutes.mute(JobKey(str(WS), str(job.job_id)), "U02BOB", START + timedelta(minutes=10))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "boom")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    clock.set(START + timedelta(minutes=30))  # unmuted by time
    _succeed(world, clock, job.job_id)
    clock.set(clock.now() + timedelta(seconds=30))
    assert alerts.poll(str(WS)).resolved == 1
    assert _outbox(store) == []


def test_a_muted_recovery_edits_the_posted_alert_without_a_thread_line(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(WS, "noisy_job", ("load",))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "boom")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    _send(store)
    store.mutes.mute(JobKey(str(WS), str(job.job_id)), "U02BOB", clock.now() + timedelta(hours=4))
    _succeed(world, clock, job.job_id)
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    (update,) = _pending(store)
    assert update.kind is OutboxKind.UPDATE and "recovered" in update.payload["text"]


def test_an_alert_whose_post_failed_for_good_is_posted_again_by_the_next_failure(
    setup, clock
) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(WS, "nightly_sales", ("load",))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "boom")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    post = store.outbox.claim_next()
    assert post is not None and post.kind is OutboxKind.POST
    store.outbox.mark_failed(post, "invalid_blocks")  # and its stand-in was refused too
    _fail(world, clock, job.job_id, "boom again")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    (again,) = _pending(store)
    assert again.kind is OutboxKind.POST  # not an update of a message that does not exist
    assert "2nd failure in a row" in json.dumps(again.payload)
    _send(store)
    incident = store.incidents.open_incidents()[0]
    assert incident.message_ts is not None  # the new post is the incident's message now
    _fail(world, clock, job.job_id, "boom thrice")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    assert [r.kind for r in _pending(store)] == [OutboxKind.UPDATE, OutboxKind.THREAD_REPLY]


# -- cost backfill -----------------------------------------------------------------------------


def _cost(amount: str, end: datetime) -> RunCost:
    return RunCost(True, Decimal(amount), Decimal("1"), 1, end - timedelta(hours=1), end, "USD")


def test_cost_backfill_is_not_starved_by_incidents_that_already_have_a_cost(setup, clock) -> None:
    _, _, store, alerts, _ = setup
    ended = clock.now()
    for i in range(55):
        detail = {"run_id": str(1000 + i), "ended_at": ended.isoformat(), "job_name": f"j{i}"}
        if i < 50:
            detail["cost"] = "1.00"  # the 50 oldest were billed already
        key = IncidentKey(str(WS), str(100 + i), IncidentKind.FAILURE)
        at = ended + timedelta(seconds=i)
        store.incidents.open_or_bump_failure(key, str(1000 + i), at, "boom", detail=detail)
    alerts.costs.run_cost = lambda ws, run_id: _cost("2.50", ended + timedelta(minutes=5))
    clock.set(ended + timedelta(hours=3))
    assert alerts.backfill_costs() == 5
    costs = [i.detail["cost"] for i in store.incidents.open_incidents()]
    assert costs.count("2.50") == 5 and costs.count("1.00") == 50


def test_a_recovered_alert_still_gets_the_cost_of_its_failed_run(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(WS, "nightly_sales", ("load",))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "boom")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    _send(store)
    ended = clock.now()
    _succeed(world, clock, job.job_id)
    clock.set(clock.now() + timedelta(seconds=30))
    assert alerts.poll(str(WS)).resolved == 1
    _send(store)
    # Billing for the failed run lands an hour after the recovery.
    alerts.costs.run_cost = lambda ws, run_id: _cost("7.25", ended + timedelta(minutes=1))
    clock.set(clock.now() + timedelta(hours=1))
    assert alerts.backfill_costs() == 1
    (update,) = _pending(store)
    assert update.kind is OutboxKind.UPDATE
    assert "recovered" in update.payload["text"] and "$7.25" in json.dumps(update.payload)


# -- repairs and snoozes -----------------------------------------------------------------------


def test_a_failed_repair_says_repair_by_whom_and_reports_in_the_thread_while_snoozed(
    setup, clock
) -> None:
    world, server, store, alerts, _ = setup
    job = world.add_job(WS, "flaky_export", ("load",))
    alerts.poll(str(WS))
    run_id = _fail(world, clock, job.job_id, "disk full")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    _send(store)
    incident = store.incidents.open_incidents()[0]
    store.incidents.snooze(incident.id, "U02BOB", clock.now() + timedelta(hours=4))
    # What the Rerun button does (bot.service.rerun): repair, audit, watch.
    make_api(server, WS).repair_failed_tasks(str(WS), str(run_id))
    store.audit.record(
        "rerun", "ok", actor_id="U03CAROL", workspace_id=str(WS), job_id=str(job.job_id),
        run_id=str(run_id), detail={"how": "repair", "started_run": str(run_id)},
    )  # fmt: skip
    alerts.watch(str(WS), str(run_id))
    clock.set(clock.now() + timedelta(minutes=2))
    world.set_task_outcome(WS, run_id, "load", "FAILED", "disk full", error="disk full")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    update, reply = _pending(store)
    assert update.kind is OutboxKind.UPDATE
    assert "*Trigger*\\nrepair by <@U03CAROL>" in json.dumps(update.payload, ensure_ascii=False)
    assert reply.kind is OutboxKind.THREAD_REPLY  # snoozed, but a rerun's outcome is news
    assert reply.payload["text"].startswith("🔴 Rerun failed: <http")
    assert f"|run {run_id}> (2 in a row)" in reply.payload["text"]


def test_a_snoozed_incident_still_stays_quiet_on_an_ordinary_failure(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(WS, "flaky_export", ("load",))
    alerts.poll(str(WS))
    _fail(world, clock, job.job_id, "disk full")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    _send(store)
    incident = store.incidents.open_incidents()[0]
    store.incidents.snooze(incident.id, "U02BOB", clock.now() + timedelta(hours=4))
    _fail(world, clock, job.job_id, "disk full")
    clock.set(clock.now() + timedelta(seconds=30))
    alerts.poll(str(WS))
    assert [r.kind for r in _pending(store)] == [OutboxKind.UPDATE]


# -- cancelled and skipped runs ------------------------------------------------------------------


def _cancel(world: World, clock: FixedClock, job_id: int) -> None:
    run = world.start_run(WS, job_id)
    clock.set(clock.now() + timedelta(minutes=5))
    world.cancel_run(WS, run.run_id)


def test_cancelled_runs_are_ignored_by_default(setup, clock) -> None:
    world, _, store, alerts, _ = setup
    job = world.add_job(WS, "nightly_sales", ("load",))
    alerts.poll(str(WS))
    _cancel(world, clock, job.job_id)
    clock.set(clock.now() + timedelta(seconds=30))
    assert alerts.poll(str(WS)).alerted == 0
    assert _outbox(store) == [] and store.incidents.open_incidents() == []


def test_cancelled_runs_alert_when_the_config_says_so(setup, clock) -> None:
    world, _, store, alerts, cfg = setup
    alerts.config = cfg.model_copy(
        update={"monitoring": cfg.monitoring.model_copy(update={"alert_on_states": ("CANCELLED",)})}
    )
    job = world.add_job(WS, "nightly_sales", ("load",))
    alerts.poll(str(WS))
    _cancel(world, clock, job.job_id)
    clock.set(clock.now() + timedelta(seconds=30))
    assert alerts.poll(str(WS)).alerted == 1
    (post,) = _outbox(store)
    assert post.kind is OutboxKind.POST and "nightly_sales was cancelled" in post.payload["text"]
    assert problems(post.payload) == []


def _with_states(tmp_path: Path, name: str, states: str) -> str:
    text = Path(DEMO_CONFIG).read_text(encoding="utf-8")
    assert "\nmonitoring:\n" in text
    path = tmp_path / name
    path.write_text(
        text.replace("\nmonitoring:\n", f"\nmonitoring:\n  alert_on_states: {states}\n", 1),
        encoding="utf-8",
    )
    return str(path)


def test_check_config_names_a_bad_alert_state(tmp_path: Path) -> None:
    found = "\n".join(check_file(_with_states(tmp_path, "bad.yml", "[cancelled, failed]")))
    assert "monitoring.alert_on_states" in found and '"failed" is not a run state' in found
    ok = _with_states(tmp_path, "ok.yml", "[Skipped, canceled]")
    assert check_file(ok) == []
    assert load_config(ok, env={}).monitoring.alert_on_states == ("SKIPPED", "CANCELLED")


# -- attempt x of y ------------------------------------------------------------------------------


def _retried_run(max_retries: int | None) -> ApiRun:
    failed = ApiRunState("FAILED", True, "TERMINATED", "TERMINATED", "FAILED",
                         "RUN_EXECUTION_ERROR", "CLIENT_ERROR", "boom")  # fmt: skip
    tasks = tuple(
        TaskRun("load", str(700 + n), n, failed, START, START, 60.0, None, (), max_retries)
        for n in range(3)
    )
    return ApiRun(
        workspace_id=str(WS), job_id="55", run_id="9001", run_name="nightly", state=failed,
        start_time=START, end_time=START + timedelta(minutes=9), duration_seconds=540.0,
        queue_seconds=0.0, run_page_url=None, run_type="JOB_RUN", trigger="PERIODIC",
        creator_user_name=None, tasks=tasks, tasks_complete=True,
    )  # fmt: skip


def _job(**over: object) -> JobInfo:
    values: dict = dict(workspace_id=str(WS), job_id="55", name="nightly", tags={},
                        creator_user_name=None, run_as_user_name=None, quartz_cron=None,
                        timezone=None, paused=False)  # fmt: skip
    values.update(over)
    return JobInfo(**values)


@pytest.mark.parametrize(
    ("from_run", "from_job", "said"),
    [
        (2, None, "failed on attempt 3 of 3"),  # the run's own copy of the task settings
        (None, 4, "failed on attempt 3 of 5"),  # the job's settings (jobs/get, cached)
        (None, -1, "failed on attempt 3 (retries without limit)"),
        (None, None, "failed on attempt 3"),  # not known: no made-up "of 3"
    ],
)
def test_the_attempt_is_of_the_tasks_max_retries_plus_one(
    clock, tmp_path: Path, from_run, from_job, said
) -> None:
    cfg = load_config(DEMO_CONFIG)
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock)
    alerts = FailureAlerts(config=cfg, clock=clock, renderer=Renderer(clock=clock), store=store,
                           jobs_api=None)  # fmt: skip
    retries = () if from_job is None else (("load", from_job),)
    alerts.handle_ended(_retried_run(from_run), job=_job(task_max_retries=retries))
    (post,) = _outbox(store)
    task = next(
        b["text"]["text"] for b in post.payload["blocks"] if b["block_id"] == "alert-task-1"
    )
    assert task == f"Task `load` {said}"  # (no error text: this bot has no Jobs API)
    store.close()


def test_a_watched_run_databricks_deleted_is_watched_no_more(setup, clock) -> None:
    """A run the Rerun button watches, deleted in Databricks (runs/delete) before a poll saw it
    end: the next poll drops it, so polls stop asking runs/get about it for ever."""
    world, server, store, alerts, _ = setup
    job = world.add_job(WS, "flaky_export", ("load",))
    alerts.poll(str(WS))
    run = world.start_run(WS, job.job_id)
    clock.set(clock.now() + timedelta(minutes=1))
    alerts.poll(str(WS))  # seen running: the feed tracks it by runs/get from now on
    alerts.watch(str(WS), str(run.run_id))
    world.cancel_run(WS, run.run_id)
    world.delete_run(WS, run.run_id)
    clock.set(clock.now() + timedelta(minutes=1))
    alerts.poll(str(WS))
    mark = store.watermarks.get(FEED, str(WS))
    assert mark is not None and str(run.run_id) not in mark.value.get("watch", ())
    before = dict(server.calls(WS))
    clock.set(clock.now() + timedelta(minutes=1))
    alerts.poll(str(WS))
    after = server.calls(WS)
    gets = {k: after[k] - before.get(k, 0) for k in after if "runs/get" in k}
    assert not any(gets.values()), gets


def test_a_watch_added_by_another_replica_during_a_poll_is_kept(
    setup, clock, tmp_path, monkeypatch
) -> None:
    """A Rerun click served by the standby replica adds a watch while the leader's poll is
    between reading the feed watermark and writing it back: the watch must survive (else the
    repair's outcome is never posted if it ends between two polls)."""
    world, server, store, alerts, cfg = setup
    world.add_job(WS, "flaky_export", ("load",))
    alerts.poll(str(WS))
    standby_store = Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock)
    standby = FailureAlerts(
        config=cfg,
        clock=clock,
        renderer=Renderer(tz=cfg.timezone, clock=clock),
        store=standby_store,
        jobs_api=make_api(server, WS),
    )
    real_get = store.watermarks.get
    reads: list[int] = []

    def get_then_race(name: str, workspace_id: str = ""):
        mark = real_get(name, workspace_id)
        reads.append(1)
        if len(reads) == 2:  # the poll's read before it writes the advanced feed back
            standby.watch(str(WS), "424242")
        return mark

    monkeypatch.setattr(store.watermarks, "get", get_then_race)
    clock.set(clock.now() + timedelta(minutes=1))
    alerts.poll(str(WS))
    monkeypatch.undo()
    mark = store.watermarks.get(FEED, str(WS))
    assert mark is not None and "424242" in mark.value["watch"]
    assert mark.value.get("feed")  # and the feed advanced all the same
    standby_store.close()
