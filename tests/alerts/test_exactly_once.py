"""No duplicate and no lost alert when the watcher dies at any step of a cycle — after the poll,
after the outbox write, after Slack accepted the message but before the store recorded it —
and when two watchers (two replicas) share one PostgreSQL store. Each "restart" is a new bot
built by bot.wiring on the same store file/database; messages are counted in the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.config import Config, load_config
from bot.store import Store
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from sandbox.slack.driver import SlackSandbox
from tests.support.jobs_api import START, make_api, workspace_config
from tests.support.postgres import fresh_schema

WS = 777


class Died(Exception):
    """The process "dies" here: nothing after this line of the cycle happens."""


@pytest.fixture
def env() -> Iterator[tuple[World, LocalDatabricks, SlackSandbox, FixedClock, Config]]:
    clock = FixedClock(START)
    world = World(clock)
    world.add_workspace("prod-emea", WS)
    server = LocalDatabricks(world)
    server.start()
    cfg = load_config(DEMO_CONFIG).model_copy(update={"workspaces": [workspace_config(server, WS)]})
    sb = SlackSandbox(signing_secret="e2e-once")
    sb.start()
    try:
        yield world, server, sb, clock, cfg
    finally:
        sb.stop()
        server.stop()


def _bot(env: tuple, url: str) -> wiring.Bot:
    world, server, sb, clock, cfg = env
    link = wiring.SlackLink(
        bot_token=sb.bot_token, api_url=sb.api_url, transport="http", signing_secret="e2e-once"
    )
    bot = wiring.build(
        cfg, clock, warehouse=open_warehouse(None), slack=link,
        store=Store.open(url, clock), watch=True, jobs_api=make_api(server, WS),
    )  # fmt: skip
    assert bot.notifier is not None
    bot.notifier._pace.interval = 0.0  # pacing has its own tests
    return bot


def _alerts(sb: SlackSandbox) -> list[Any]:
    channel = sb.workspace.channel_by_name("data-alerts")
    assert channel is not None
    return [m for m in sb.messages(channel.id) if m.source != "user" and not m.thread_ts]


def _fail(world: World, clock: FixedClock, job_id: int) -> None:
    run = world.start_run(WS, job_id)
    clock.set(clock.now() + timedelta(minutes=2))
    world.set_task_outcome(WS, run.run_id, "main", "FAILED", "boom", error="boom")
    clock.set(clock.now() + timedelta(seconds=40))


def _dies_once(obj: Any, name: str) -> Callable[[], None]:
    """Make obj.<name> raise Died the first time it is called (the crash point)."""
    real = getattr(obj, name)
    state = {"armed": True}

    def dying(*args: Any, **kwargs: Any) -> Any:
        if state["armed"]:
            state["armed"] = False
            raise Died(name)
        return real(*args, **kwargs)

    setattr(obj, name, dying)
    return lambda: setattr(obj, name, real)


@pytest.mark.parametrize(
    "crash", ["after_poll", "between_claim_and_enqueue", "after_outbox_write", "before_recorded"]
)
def test_a_watcher_killed_at_any_step_sends_each_alert_once(env, tmp_path: Path, crash) -> None:
    world, _, sb, clock, _ = env
    url = f"sqlite:///{tmp_path / 'state.db'}"
    job = world.add_job(WS, "nightly_etl")
    first = _bot(env, url)
    assert first.alerts is not None and first.notifier is not None and first.store is not None
    first.alerts.poll(str(WS))  # watermark: now
    _fail(world, clock, job.job_id)
    if crash == "after_poll":
        # Dies right after runs/list answered: before anything was counted.
        _dies_once(first.store.incidents, "open_or_bump_failure")
        with pytest.raises(Died):
            first.alerts.poll(str(WS))
    elif crash == "between_claim_and_enqueue":
        # Dies after the store counted the failed run (the incident is open), before its
        # alert was written to the outbox: the restart must still post it, once.
        _dies_once(first.store.outbox, "enqueue")
        with pytest.raises(Died):
            first.alerts.poll(str(WS))
        assert first.store.incidents.open_incidents() and first.store.outbox.pending_count() == 0
    elif crash == "after_outbox_write":
        # Dies after the incident and its message are written, before the watermark moves.
        _dies_once(first.store.watermarks, "set")
        with pytest.raises(Died):
            first.alerts.poll(str(WS))
    else:
        # Slack accepted the post; the process dies before the store records it.
        first.alerts.poll(str(WS))
        _dies_once(first.store.outbox, "mark_sent")
        first.notifier.drain()
        assert len(_alerts(sb)) == 1
    first.stop()

    again = _bot(env, url)  # the restart
    assert again.alerts is not None and again.notifier is not None
    clock.set(clock.now() + timedelta(minutes=3))  # past the outbox claim lease
    again.alerts.poll(str(WS))
    again.notifier.drain()
    again.alerts.poll(str(WS))
    again.notifier.drain()
    assert len(_alerts(sb)) == 1, f"one alert after a crash {crash}"
    again.stop()


def test_a_crash_between_counting_a_second_failure_and_queueing_its_update(
    env, tmp_path: Path
) -> None:
    world, _, sb, clock, _ = env
    url = f"sqlite:///{tmp_path / 'state.db'}"
    job = world.add_job(WS, "nightly_etl")
    first = _bot(env, url)
    assert first.alerts is not None and first.notifier is not None and first.store is not None
    first.alerts.poll(str(WS))
    _fail(world, clock, job.job_id)
    first.alerts.poll(str(WS))
    first.notifier.drain()
    (alert,) = _alerts(sb)
    _fail(world, clock, job.job_id)
    _dies_once(first.store.outbox, "enqueue")  # the streak is 2 in the store, nothing queued
    with pytest.raises(Died):
        first.alerts.poll(str(WS))
    first.stop()

    again = _bot(env, url)
    assert again.alerts is not None and again.notifier is not None
    clock.set(clock.now() + timedelta(minutes=3))
    for _ in range(2):
        again.alerts.poll(str(WS))
        again.notifier.drain()
    (edited,) = _alerts(sb)
    assert edited.ts == alert.ts and "2nd failure in a row" in str(edited.blocks)
    replies = [m for m in sb.thread(edited.channel, edited.ts) if m.ts != edited.ts]
    assert [m.text.split(":")[0] for m in replies] == ["🔴 Failed again"]
    again.stop()


def test_two_watchers_on_one_postgresql_store_send_one_message_per_incident(
    env, postgres_server: str
) -> None:
    world, _, sb, clock, _ = env
    jobs = [world.add_job(WS, f"job_{i}") for i in range(3)]
    with fresh_schema(postgres_server) as url:
        a, b = _bot(env, url), _bot(env, url)
        assert a.alerts and b.alerts and a.notifier and b.notifier
        a.alerts.poll(str(WS))
        b.alerts.poll(str(WS))
        for job in jobs:
            _fail(world, clock, job.job_id)
        # Both replicas see every failure and both drain: Slack gets each alert once.
        for bot in (a, b, a, b):
            bot.alerts.poll(str(WS))  # type: ignore[union-attr]
        a.notifier.drain()
        b.notifier.drain()
        a.stop()
        b.stop()
    assert sorted(m.text.split()[1] for m in _alerts(sb)) == ["job_0", "job_1", "job_2"]
