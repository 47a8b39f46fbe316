"""Cost-anomaly alerts from the embedded warehouse to the outbox: real query, real monitor,
real store and templates. What a user would notice: one alert per job and billing day,
routed like the job's other alerts, naming the usual cost, the day's cost and the likely
cause with its numbers; an update (not a second post) as the day grows; and feedback that
changes what the detector does next."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.clock import FixedClock
from bot.config import Config
from bot.render import Renderer
from bot.service.cost_alerts import CostScan
from bot.slack.blocks_check import problems
from bot.store import Store
from bot.store.records import IncidentKind, OutboxKind, Verdict
from tests.support.proactive import DAY, NOON, outbox, spend, usual_month
from tests.support.wh_world import World

WS = "1001"
EVIL = "<!channel> *boom* <http://evil|click>"


def _scan(
    config: Config, clock: FixedClock, renderer: Renderer, store: Store, world: World
) -> CostScan:
    return CostScan(config=config, clock=clock, renderer=renderer, store=store, warehouse=world.wh)


def _sales(world: World, name: str = "nightly_sales") -> None:
    world.job(WS, "7", name, "2026-01-01 00:00", tags={"team": "finance-data"},
              run_as="ana@example.com")  # fmt: skip
    usual_month(world, WS, "7", DAY)


def _texts(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_a_jump_posts_one_alert_with_baseline_today_and_cause(
    config, clock, renderer, store, world
) -> None:
    _sales(world)
    spend(world, WS, "7", DAY, 240, runs=4)
    scan = _scan(config, clock, renderer, store, world)
    out = scan.run(NOON)
    assert (out.anomalies, out.posted) == (1, 1)
    (post,) = outbox(store)
    assert post.kind is OutboxKind.POST and post.channel == "#finance-data"  # by the team tag
    body = _texts(post.payload)
    assert "nightly_sales" in body and "$240.00" in body and "$100.00" in body
    assert "more runs: 4 vs usually 1" in body  # the cause, with its numbers
    assert "<@U01ALICE>" in body  # the owner, mapped by the config
    assert problems(post.payload) == []
    buttons = {e["action_id"]: e["value"] for b in post.payload["blocks"]
               for e in b.get("elements", []) if e.get("type") == "button"}  # fmt: skip
    assert set(buttons) == {"jobs_feedback_expected", "jobs_feedback_not_anomaly"}
    value = json.loads(buttons["jobs_feedback_expected"])
    assert value["k"] == f"job:{WS}/7" and value["d"] == DAY.isoformat()
    (incident,) = store.incidents.open_incidents(IncidentKind.COST_ANOMALY)
    assert incident.key == f"job:{DAY}" and value["a"] == str(incident.id)

    # The next scan, and a scan by a new process, add nothing.
    clock.set(NOON + timedelta(hours=1))
    assert scan.run().posted == 0
    assert _scan(config, clock, renderer, store, world).run().posted == 0
    assert len(outbox(store)) == 1


def test_a_growing_anomaly_updates_its_message_and_says_so_in_the_thread(
    config, clock, renderer, store, world
) -> None:
    _sales(world)
    spend(world, WS, "7", DAY, 240, runs=4)
    scan = _scan(config, clock, renderer, store, world)
    scan.run(NOON)
    # Billing brings two more runs' cost in the afternoon: +50%.
    world.usage(WS, "PREMIUM_JOBS_COMPUTE", f"{DAY} 13:00", f"{DAY} 13:50", "120", job_id="7",
                run_id="late-1")  # fmt: skip
    clock.set(NOON + timedelta(hours=2))
    out = scan.run()
    assert (out.posted, out.updated) == (0, 1)
    rows = outbox(store)
    assert [r.kind for r in rows] == [OutboxKind.POST, OutboxKind.UPDATE, OutboxKind.THREAD_REPLY]
    assert "$360.00" in _texts(rows[1].payload) and "first alerted at $240.00" in _texts(
        rows[1].payload
    )
    assert "Now $360.00" in rows[2].payload["text"]
    # A small change (under 10%) refreshes the message without a thread line.
    world.usage(WS, "PREMIUM_JOBS_COMPUTE", f"{DAY} 15:00", f"{DAY} 15:10", "5", job_id="7",
                run_id="late-1")  # fmt: skip
    clock.set(NOON + timedelta(hours=3))
    scan.run()
    assert [r.kind for r in outbox(store)][3:] == [OutboxKind.UPDATE]
    # Nothing changed: nothing is sent.
    clock.set(NOON + timedelta(hours=4))
    scan.run()
    assert len(outbox(store)) == 4


def test_small_jobs_never_alert(config, clock, renderer, store, world) -> None:
    world.job(WS, "8", "tiny", "2026-01-01 00:00")
    for back in range(1, 29):
        spend(world, WS, "8", DAY - timedelta(days=back), 1 if back % 2 else 2)
    spend(world, WS, "8", DAY, 40)  # z is huge, but under the $50 minimum
    assert _scan(config, clock, renderer, store, world).run(NOON).anomalies == 0
    assert outbox(store) == []


def test_expected_silences_that_day_only_and_the_message_shows_who_said_so(
    config, clock, renderer, store, world
) -> None:
    _sales(world)
    spend(world, WS, "7", DAY, 240, runs=4)
    scan = _scan(config, clock, renderer, store, world)
    scan.run(NOON)
    (incident,) = store.incidents.open_incidents(IncidentKind.COST_ANOMALY)
    # The click listener records the verdict; the alert re-renders at once.
    store.feedback.give("job", f"{WS}/7", DAY, Verdict.EXPECTED, "U02BOB")
    assert scan.refresh(incident.id)
    update = outbox(store)[-1]
    assert update.kind is OutboxKind.UPDATE
    assert "Marked *expected* by <@U02BOB>" in _texts(update.payload)
    assert "✓ Expected" in _texts(update.payload)
    # The next scan resolves it (no more alerts for the job that day), repeating nothing.
    clock.set(NOON + timedelta(hours=1))
    assert scan.run().resolved == 1
    assert store.incidents.open_incidents(IncidentKind.COST_ANOMALY) == []
    assert [r.kind for r in outbox(store)][2:] == [OutboxKind.UPDATE]  # "so far" goes
    clock.set(NOON + timedelta(hours=2))
    scan.run()
    assert len(outbox(store)) == 3
    # The next day jumps again: "expected" was about one day, so it alerts.
    nxt = DAY + timedelta(days=1)
    spend(world, WS, "7", nxt, 240, runs=4)
    clock.set(NOON + timedelta(days=1))
    assert scan.run().posted == 1


def test_not_an_anomaly_raises_the_bar_for_that_job(config, clock, renderer, store, world) -> None:
    # Usual 100 ± 10: z = (cost − 100) / 14.8, alert from 3.5 (cost ≥ 152); one "not an
    # anomaly" mark makes it 5.25 (cost ≥ 178), for that job only.
    _sales(world)
    world.job(WS, "9", "control", "2026-01-01 00:00")
    usual_month(world, WS, "9", DAY)
    store.feedback.give("job", f"{WS}/7", DAY - timedelta(days=5), Verdict.NOT_ANOMALY, "U02BOB")
    spend(world, WS, "7", DAY, 165)
    spend(world, WS, "9", DAY, 165)
    scan = _scan(config, clock, renderer, store, world)
    out = scan.run(NOON)
    incidents = store.incidents.open_incidents(IncidentKind.COST_ANOMALY)
    assert [i.job_id for i in incidents] == ["9"]  # the marked job stays quiet
    assert out.posted == 1
    # A jump well past the raised bar still alerts.
    spend(world, WS, "7", DAY, 60)  # 225 now
    clock.set(NOON + timedelta(hours=1))
    assert scan.run().posted == 1
    incident = store.incidents.find_open(
        incidents[0].incident_key.__class__(WS, "7", IncidentKind.COST_ANOMALY, f"job:{DAY}")
    )
    assert incident is not None and "alerts from 5.2" in _texts(scan.render(incident))


def test_marks_older_than_the_memory_no_longer_count(config, clock, renderer, store, world) -> None:
    _sales(world)
    store.feedback.give("job", f"{WS}/7", DAY - timedelta(days=91), Verdict.NOT_ANOMALY, "U02BOB")
    spend(world, WS, "7", DAY, 165)
    assert _scan(config, clock, renderer, store, world).run(NOON).posted == 1


def test_yesterday_is_still_scanned_and_older_days_resolve_quietly(
    config, clock, renderer, store, world
) -> None:
    _sales(world)
    spend(world, WS, "7", DAY, 240, runs=4)
    scan = _scan(config, clock, renderer, store, world)
    # Shortly after midnight UTC, the day before is still being billed: it alerts then.
    clock.set(NOON + timedelta(hours=13))
    assert scan.run().posted == 1
    clock.set(NOON + timedelta(days=2))
    out = scan.run()
    assert out.resolved == 1 and out.posted == 0
    assert store.incidents.open_incidents() == []
    assert len(outbox(store)) == 1


def test_hostile_job_names_render_literally(config, clock, renderer, store, world) -> None:
    _sales(world, EVIL)
    spend(world, WS, "7", DAY, 240, runs=4)
    _scan(config, clock, renderer, store, world).run(NOON)
    body = _texts(outbox(store)[0].payload)
    assert "<!channel>" not in body and "<http://evil|click>" not in body
    assert "&lt;!channel&gt;" in body


def test_a_failing_warehouse_is_reported_and_changes_nothing(
    config, clock, renderer, store, world
) -> None:
    class Broken:
        def run(self, name, params):
            from bot.warehouse.duckdb_backend import QueryFailed

            raise QueryFailed(f"{name} failed: warehouse is stopped")

        def close(self) -> None: ...

    seen: list[tuple[str, bool]] = []

    class Recorder:
        def record(self, component: str, ok: bool, error: str | None = None) -> None:
            seen.append((component, ok))

    scan = CostScan(config=config, clock=clock, renderer=renderer, store=store, warehouse=Broken(),
                    health=Recorder())  # fmt: skip
    out = scan.run(NOON)
    assert out.errors and seen == [("warehouse", False)]
    assert outbox(store) == []
