"""The roll-up, end to end: failures through the real FailureAlerts, the real store, the real
notifier and WebClient against the local Slack sandbox (with 429s injected), on an injected
clock. What a user would notice in an outage: a few alerts, then one roll-up per channel that
counts up in place, every incident in its thread exactly once, nothing lost, at most one
message a second per channel, and each alert still resolving on its own."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.clock import FixedClock
from bot.config import Config
from bot.models import ApiRun, ApiRunState, JobInfo
from bot.render import Renderer
from bot.service.alerts import FailureAlerts
from bot.service.rollup import Rollup
from bot.slack.client import web_client
from bot.slack.notifier import Notifier
from bot.store import Store
from bot.store.records import IncidentKind, OutboxState
from sandbox.slack.driver import SlackSandbox
from tests.support.proactive import NOON

WS = "1001"
FINANCE, ALERTS = "C07FINANCE", "C02ALERTS"
PACE = 0.02  # seconds between two messages of one channel (production: 1.0)


@pytest.fixture
def sb() -> Iterator[SlackSandbox]:
    with SlackSandbox() as sandbox:
        yield sandbox


def _state(state: str, code: str | None = None) -> ApiRunState:
    return ApiRunState(state=state, ended=True, status_state="TERMINATED", life_cycle_state=None,
                       result_state=state, termination_code=code, termination_type=None,
                       message=None)  # fmt: skip


def _run(job: int, run: int, state: str, clock: FixedClock, code: str | None = None) -> ApiRun:
    end = clock.now()
    return ApiRun(workspace_id=WS, job_id=str(job), run_id=str(run), run_name=None,
                  state=_state(state, code), start_time=end - timedelta(minutes=5), end_time=end,
                  duration_seconds=300.0, queue_seconds=None, run_page_url=None, run_type=None,
                  trigger="PERIODIC", creator_user_name=None, tasks_complete=True)  # fmt: skip


def _job(job: int) -> JobInfo:
    tags = {"team": "finance-data"} if job % 2 == 0 else {}
    return JobInfo(workspace_id=WS, job_id=str(job), name=f"job_{job:03d}", tags=tags,
                   creator_user_name=None, run_as_user_name=None, quartz_cron=None,
                   timezone=None, paused=False)  # fmt: skip


def _drain(notifier: Notifier, rollup: Rollup, store: Store, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        notifier.drain()
        linked = rollup.sync()
        if store.outbox.pending_count() == 0 and linked == 0:
            return
        assert time.monotonic() < deadline, f"{store.outbox.pending_count()} still pending"
        time.sleep(0.01)


def _all_messages(sb: SlackSandbox, channel: str) -> list:
    """Top-level messages and every thread reply, oldest first."""
    found = {}
    for top in sb.messages(channel):
        for m in sb.thread(channel, top.ts):
            found[m.ts] = m
    return sorted(found.values(), key=lambda m: float(m.ts))


def test_two_hundred_failures_in_five_minutes_make_one_rollup_per_channel(
    sb: SlackSandbox, config: Config, clock: FixedClock, renderer: Renderer, store: Store
) -> None:
    client = web_client(sb.bot_token, sb.api_url)
    notifier = Notifier(store.outbox, store.incidents, client, clock, default_channel="#data-alerts",
                        per_channel_interval=PACE, backoff_base=0.05, backoff_cap=0.2)  # fmt: skip
    rollup = Rollup(config=config, clock=clock, renderer=renderer, store=store)
    alerts = FailureAlerts(config=config, clock=clock, renderer=renderer, store=store,
                           jobs_api=None, router=rollup)  # fmt: skip
    errors = ["TABLE_OR_VIEW_NOT_FOUND", "DRIVER_UNREACHABLE", "CLOUD_FAILURE"]
    for i in range(200):
        clock.set(NOON + timedelta(seconds=1.5 * i))  # 200 in 300 s
        alerts.handle_ended(_run(i, 5000 + i, "FAILED", clock, errors[i % 7 % 3]), job=_job(i))
        if i == 40:
            sb.faults.ratelimit("chat.postMessage", retry_after=1, times=4)
            sb.faults.ratelimit("chat.update", retry_after=1, times=2)
        if i % 20 == 19:
            _drain(notifier, rollup, store)
    clock.set(clock.now() + timedelta(seconds=20))  # the tick after the last alert
    _drain(notifier, rollup, store)

    limit = config.monitoring.rollup_after_alerts  # 5
    for channel, parity in ((FINANCE, 0), (ALERTS, 1)):
        names = {f"job_{i:03d}" for i in range(200) if i % 2 == parity}
        top = sb.messages(channel)
        # The first `limit` alerts alone, then exactly one roll-up.
        assert len(top) == limit + 1, [m.text[:60] for m in top]
        head = top[limit]
        assert head.text.startswith("🔥 100 jobs failed in prod-emea since"), head.text
        assert "top errors: `TABLE_OR_VIEW_NOT_FOUND`" in head.text
        thread = sb.thread(channel, head.ts)[1:]
        seen = Counter(n for m in thread for n in names if n in json.dumps(m.blocks) + m.text)
        assert seen == Counter({n: 1 for n in names})  # every incident in the thread once
        stamps = [float(m.ts) for m in _all_messages(sb, channel)]
        assert min(b - a for a, b in zip(stamps, stamps[1:], strict=False)) >= PACE * 0.98
    # Nothing lost: every row was sent (through the 429s), none given up.
    assert store.outbox.failed() == [] and store.outbox.pending_count() == 0
    assert sum(1 for c in sb.calls_to("chat.postMessage") if c.status == 429) == 4
    assert len(store.incidents.open_incidents(IncidentKind.MONITORING)) == 2

    # Each incident still resolves by itself: its entry in the thread turns "recovered" and
    # the recovery line lands in the roll-up's thread.
    clock.set(clock.now() + timedelta(minutes=1))
    alerts.handle_ended(_run(100, 9100, "SUCCEEDED", clock), job=_job(100))
    _drain(notifier, rollup, store)
    head = sb.messages(FINANCE)[limit]
    thread = sb.thread(FINANCE, head.ts)[1:]
    entry = next(m for m in thread if "job_100" in m.text and "recovered" in m.text)
    assert entry.edited
    assert any(m.text.startswith("✅ Recovered") for m in thread)
    assert len(sb.messages(FINANCE)) == limit + 1  # still nothing new at the top

    # A quiet window closes the roll-ups; the next failure posts alone again.
    clock.set(clock.now() + timedelta(seconds=config.monitoring.rollup_window_seconds + 1))
    rollup.sync()
    _drain(notifier, rollup, store)
    assert store.incidents.open_incidents(IncidentKind.MONITORING) == []
    assert "Burst over" in json.dumps(sb.messages(FINANCE)[limit].blocks)
    alerts.handle_ended(_run(300, 9300, "FAILED", clock), job=_job(300))
    _drain(notifier, rollup, store)
    assert len(sb.messages(FINANCE)) == limit + 2


def test_a_few_alerts_post_alone(
    config: Config, clock: FixedClock, renderer: Renderer, store: Store
) -> None:
    rollup = Rollup(config=config, clock=clock, renderer=renderer, store=store)
    alerts = FailureAlerts(config=config, clock=clock, renderer=renderer, store=store,
                           jobs_api=None, router=rollup)  # fmt: skip
    for i in range(1, 11, 2):  # five alerts in #data-alerts: the limit, not more
        clock.set(NOON + timedelta(seconds=i))
        alerts.handle_ended(_run(i, 100 + i, "FAILED", clock), job=_job(i))
    # A sixth, but after the window: still alone.
    clock.set(NOON + timedelta(seconds=config.monitoring.rollup_window_seconds + 5))
    alerts.handle_ended(_run(11, 111, "FAILED", clock), job=_job(11))
    rows = [store.outbox.get(i) for i in range(1, 20)]
    kinds = [r.kind.value for r in rows if r is not None]
    assert kinds == ["post"] * 6
    assert store.incidents.open_incidents(IncidentKind.MONITORING) == []
    assert all(r.state is OutboxState.PENDING for r in rows if r is not None)


def test_a_run_reported_twice_is_counted_once(
    config: Config, clock: FixedClock, renderer: Renderer, store: Store
) -> None:
    rollup = Rollup(config=config, clock=clock, renderer=renderer, store=store)
    alerts = FailureAlerts(config=config, clock=clock, renderer=renderer, store=store,
                           jobs_api=None, router=rollup)  # fmt: skip
    for i in range(1, 8, 2):  # four alerts in #data-alerts, each reported twice
        clock.set(NOON + timedelta(seconds=i))
        run = _run(i, 100 + i, "FAILED", clock)
        alerts.handle_ended(run, job=_job(i))
        alerts.handle_ended(run, job=_job(i))
    clock.set(NOON + timedelta(seconds=10))
    alerts.handle_ended(_run(9, 109, "FAILED", clock), job=_job(9))  # the fifth: still alone
    assert store.incidents.open_incidents(IncidentKind.MONITORING) == []
    alerts.handle_ended(_run(11, 111, "FAILED", clock), job=_job(11))  # the sixth rolls up
    (head,) = store.incidents.open_incidents(IncidentKind.MONITORING)
    post = store.outbox.find(f"incident:{head.id}:post")
    assert post is not None and post.payload["text"].startswith("🔥 6 jobs failed")
