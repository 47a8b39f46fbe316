"""Watching itself: failed checks in a row become one "monitoring degraded" notice in the
default channel, nothing more while it lasts, and one "restored" when the component answers
again — across restarts, with the real store and templates on the injected clock."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.clock import FixedClock
from bot.config import Config
from bot.render import Renderer
from bot.service import health as h
from bot.service.health import Health
from bot.slack.blocks_check import problems
from bot.store import Store
from bot.store.records import IncidentKind, OutboxKind
from tests.support.proactive import NOON, outbox


def _health(config: Config, clock: FixedClock, renderer: Renderer, store: Store) -> Health:
    return Health(config=config, clock=clock, renderer=renderer, store=store)


def test_three_failures_in_a_row_say_degraded_once_then_restored_once(
    config, clock, renderer, store
) -> None:
    health = _health(config, clock, renderer, store)
    component = h.jobs_api("1001")
    assert health.record(component, False, "HTTP 503 from jobs/runs/list") is None
    clock.set(NOON + timedelta(seconds=30))
    assert health.record(component, False, "HTTP 503") is None
    assert outbox(store) == []
    clock.set(NOON + timedelta(seconds=60))
    assert health.record(component, False, "<!channel> HTTP 503") == "degraded"
    (post,) = outbox(store)
    assert post.kind is OutboxKind.POST and post.channel == "#data-alerts"
    text = post.payload["text"]
    assert text.startswith("⚠️ Monitoring degraded: the Jobs API of prod-emea, since <!date^")
    assert f"<!date^{int(NOON.timestamp())}^" in text  # since the first failed check
    assert "failure alerts for prod-emea are late" in text  # the effect
    body = json.dumps(post.payload)
    assert "<!channel>" not in body and "&lt;!channel&gt; HTTP 503" in body
    assert problems(post.payload) == []
    # While degraded nothing repeats, also not after a restart.
    for i in range(10):
        clock.set(NOON + timedelta(minutes=2 + i))
        assert health.record(component, False, "HTTP 503") is None
    again = _health(config, clock, renderer, store)
    assert again.record(component, False, "HTTP 503") is None and again.is_degraded(component)
    assert len(outbox(store)) == 1
    # It works again: the notice turns "restored" in place and the thread says so, once.
    clock.set(NOON + timedelta(minutes=20))
    assert again.record(component, True) == "restored"
    assert again.record(component, True) is None
    update, line = outbox(store)[1:]
    assert update.kind is OutboxKind.UPDATE and update.incident_id == post.incident_id
    assert (
        update.payload["text"]
        == "✅ Monitoring restored: the Jobs API of prod-emea answers again (down 20m 00s)"
    )
    assert line.kind is OutboxKind.THREAD_REPLY and "✅ Restored" in line.payload["text"]
    assert "after 20m 00s" in line.payload["text"]
    assert store.incidents.open_incidents(IncidentKind.MONITORING) == []
    assert len(outbox(store)) == 3


def test_a_success_in_between_starts_the_count_again(config, clock, renderer, store) -> None:
    health = _health(config, clock, renderer, store)
    for ok in (False, False, True, False, False, True):
        assert health.record(h.WAREHOUSE, ok, None if ok else "warehouse is starting") is None
    assert outbox(store) == []


def test_each_component_is_its_own_outage_and_a_second_outage_is_told_again(
    config, clock, renderer, store
) -> None:
    health = _health(config, clock, renderer, store)
    for _ in range(3):
        health.record(h.WAREHOUSE, False, "stopped")
        health.record(h.SLACK, False, "ratelimited")
    texts = [r.payload["text"] for r in outbox(store)]
    assert len(texts) == 2
    assert texts[0].startswith("⚠️ Monitoring degraded: the SQL warehouse")
    assert texts[1].startswith("⚠️ Monitoring degraded: Slack")
    health.record(h.WAREHOUSE, True)
    clock.set(NOON + timedelta(hours=1))
    for _ in range(3):
        health.record(h.WAREHOUSE, False, "stopped again")
    posts = [r for r in outbox(store) if r.kind is OutboxKind.POST]
    assert len(posts) == 3  # a new outage, a new notice
