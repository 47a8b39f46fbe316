"""Workspace and SKU cost anomalies, from the embedded warehouse to the outbox: the real
queries (cost_scope_anomaly_candidates, cost_scope_movers), monitor, store and templates.

Every number asserted is worked out here from the rows, by the rules of bot.monitors.cost:
    z = (cost − expected) / (1.4826 · max(MAD, 0.10 · expected, 0.01)), alert from 3.5 and
    from $50 a day; "not an anomaly" multiplies the threshold by 1.5.

The account of most tests (workspace 1001 "prod-emea", PREMIUM_JOBS_COMPUTE at $1.00/DBU):
    A "ingest_a"  $50 and $150 on alternate days: median 100, MAD 50
    B "ingest_b"  $150 and $50 (the other way round): median 100, MAD 50
    C "steady_c"  $100 every day: median 100, MAD 0 (spread floored at 10)
so the workspace costs $300 every day (MAD 0, spread floored at 30). On the day A costs $200,
B $180 and C $140:
    A  z = 100 / (1.4826 · 50) = 1.35     B  z = 80 / 74.13 = 1.08
    C  z = 40 / (1.4826 · 10) = 2.70      none reaches 3.5: no job alerts
    workspace $520: z = 220 / (1.4826 · 30) = 4.95 → one workspace alert
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Config, ConfigError
from bot.render import Renderer
from bot.service.cost_alerts import CostScan
from bot.slack.blocks_check import problems
from bot.store import Store
from bot.store.records import IncidentKey, IncidentKind, OutboxKind, Verdict
from tests.support.proactive import CONFIG, DAY, JOBS_SKU, NOON, make_config, outbox, spend
from tests.support.wh_world import World

WS = "1001"
SERVERLESS = "PREMIUM_JOBS_SERVERLESS_COMPUTE"
COST_LINE = "cost: {currency: USD, anomaly_sensitivity: 3.5, min_daily_amount: 50}"


def _config(tmp_path: Path, scopes: str) -> Config:
    line = COST_LINE[:-1] + f", anomaly_scopes: {scopes}}}"
    return make_config(tmp_path, CONFIG.replace(COST_LINE, line))


def _scan(config: Config, clock: FixedClock, store: Store, world: World) -> CostScan:
    renderer = Renderer(tz=config.timezone, currency=config.cost.currency, clock=clock)
    return CostScan(config=config, clock=clock, renderer=renderer, store=store, warehouse=world.wh)


def _texts(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _account(world: World, before: date = DAY, scale: float = 1.0) -> None:
    """Jobs A, B and C of the module docstring, 28 days before `before` (× `scale`)."""
    for job, name in (("11", "ingest_a"), ("12", "ingest_b"), ("13", "steady_c")):
        world.job(WS, job, name, "2026-01-01 00:00")
    for back in range(1, 29):
        d = before - timedelta(days=back)
        odd = back % 2 == 1
        spend(world, WS, "11", d, (50 if odd else 150) * scale)
        spend(world, WS, "12", d, (150 if odd else 50) * scale)
        spend(world, WS, "13", d, 100 * scale)


def _the_jump(world: World, day: date = DAY, scale: float = 1.0) -> None:
    spend(world, WS, "11", day, 200 * scale)
    spend(world, WS, "12", day, 180 * scale)
    spend(world, WS, "13", day, 140 * scale)


def test_scopes_default_to_jobs_only_and_a_typo_is_named(tmp_path: Path) -> None:
    assert make_config(tmp_path).cost.anomaly_scopes == ("job",)
    assert _config(tmp_path, "[job, workspace, sku]").cost.anomaly_scopes == (
        "job",
        "workspace",
        "sku",
    )
    with pytest.raises(ConfigError, match='"workspaces" is not a cost anomaly scope'):
        _config(tmp_path, "[job, workspaces]")
    with pytest.raises(ConfigError, match="sku is listed twice"):
        _config(tmp_path, "[sku, sku]")


def test_a_workspace_jump_no_job_explains_alone_is_one_workspace_alert_naming_its_jobs(
    tmp_path, clock, store, world
) -> None:
    _account(world)
    _the_jump(world)
    config = _config(tmp_path, "[job, workspace]")
    scan = _scan(config, clock, store, world)
    out = scan.run(NOON)
    assert (out.anomalies, out.posted) == (1, 1)  # no job alert: none reaches its threshold
    (post,) = outbox(store)
    assert post.kind is OutboxKind.POST and post.channel == "#data-alerts"
    (incident,) = store.incidents.open_incidents(IncidentKind.COST_ANOMALY)
    assert incident.incident_key == IncidentKey(
        WS, "", IncidentKind.COST_ANOMALY, f"workspace:{DAY}"
    )
    assert incident.job_name == "workspace prod-emea"
    d = incident.detail or {}
    assert (d["cost"], d["baseline"], d["z"]) == (520.0, 300.0, 4.9)  # 220 / 44.478 = 4.946
    body = _texts(post.payload)
    assert "$520.00" in body and "$300.00" in body and "+$220.00" in body
    # The jobs behind it, biggest rise first, with today vs their own usual.
    assert "jobs up: ingest_a +$100.00, ingest_b +$80.00, steady_c +$40.00" in post.payload["text"]
    jobs = next(b for b in post.payload["blocks"] if b.get("block_id") == "cost-jobs")
    lines = jobs["text"]["text"].splitlines()
    assert lines[0] == "*Jobs that rose most:*"
    assert "ingest_a" in lines[1] and "*+$100.00* ($200.00 vs usually $100.00)" in lines[1]
    assert "ingest_b" in lines[2] and "*+$80.00* ($180.00 vs usually $100.00)" in lines[2]
    assert "steady_c" in lines[3] and "*+$40.00* ($140.00 vs usually $100.00)" in lines[3]
    assert "/jobs/11|ingest_a>" in lines[1]  # linked to the job
    skus = next(b for b in post.payload["blocks"] if b.get("block_id") == "cost-parts")
    assert "*SKUs that rose:*" in skus["text"]["text"]
    assert f"{JOBS_SKU} *+$220.00* ($520.00 vs usually $300.00)" in skus["text"]["text"]
    assert problems(post.payload) == []
    buttons = {e["action_id"]: e["value"] for b in post.payload["blocks"]
               for e in b.get("elements", []) if e.get("type") == "button"}  # fmt: skip
    value = json.loads(buttons["jobs_feedback_not_anomaly"])
    # The click listener stores "<scope>:<subject>" as scope and subject, as for jobs.
    assert value["k"] == f"workspace:{WS}" and value["d"] == DAY.isoformat()

    # One alert per workspace and day: later scans and a new process add nothing.
    clock.set(NOON + timedelta(hours=1))
    assert scan.run().posted == 0
    assert _scan(config, clock, store, world).run().posted == 0
    assert len(outbox(store)) == 1


def test_a_new_sku_is_one_sku_alert_naming_the_job_and_workspace(
    tmp_path, clock, store, world
) -> None:
    # Job 7: $100 a day on the jobs SKU; on the day also $80 on a SKU never billed before.
    world.job(WS, "7", "nightly_sales", "2026-01-01 00:00")
    world.price(SERVERLESS, "0.50", "2025-01-01 00:00")
    for back in range(1, 29):
        spend(world, WS, "7", DAY - timedelta(days=back), 100)
    spend(world, WS, "7", DAY, 100)
    world.usage(
        WS, SERVERLESS, f"{DAY} 05:00", f"{DAY} 05:30", "160", job_id="7", run_id="7-serverless"
    )  # 160 DBU x $0.50 = $80
    scan = _scan(_config(tmp_path, "[sku]"), clock, store, world)
    out = scan.run(NOON)
    # The jobs SKU costs what it always does; the new one: usual 0, $80 >= $50.
    assert (out.anomalies, out.posted) == (1, 1)
    (incident,) = store.incidents.open_incidents(IncidentKind.COST_ANOMALY)
    assert incident.incident_key == IncidentKey("", "", IncidentKind.COST_ANOMALY,
                                                f"sku:{SERVERLESS}:{DAY}")  # fmt: skip
    (post,) = outbox(store)
    text = post.payload["text"]
    assert f"SKU {SERVERLESS} $80.00" in text and "vs a usual $0.00 (new)" in text
    assert "a new SKU: not billed anywhere in the previous 28 days" in text
    assert "first billed in prod-emea" in text
    body = _texts(post.payload)
    assert (
        "nightly_sales (prod-emea)" in body and "*+$80.00* ($80.00, new: usually nothing)" in body
    )
    assert "*Workspaces that rose:*" in body
    assert problems(post.payload) == []


def test_a_sku_jump_names_the_workspaces_and_jobs_that_moved(tmp_path, clock, store, world) -> None:
    _account(world)
    _the_jump(world)
    scan = _scan(_config(tmp_path, "[sku]"), clock, store, world)
    assert scan.run(NOON).posted == 1
    (post,) = outbox(store)
    text = post.payload["text"]
    # The SKU is the workspace's only one: $300 a day, $520 on the day.
    assert f"SKU {JOBS_SKU} $520.00" in text and "usual $300.00" in text
    assert "workspaces up: prod-emea +$220.00" in text
    assert "jobs up: ingest_a (prod-emea) +$100.00" in text


def test_below_the_minimum_nothing_alerts_in_any_scope(tmp_path, clock, store, world) -> None:
    # A tenth of the account: $30 a day; on the day A $18, B $16, C $12 = $46:
    # z = 16 / (1.4826 · 3) = 3.60 would alert, but $46 is under the $50 minimum.
    _account(world, scale=0.1)
    spend(world, WS, "11", DAY, 18)
    spend(world, WS, "12", DAY, 16)
    spend(world, WS, "13", DAY, 12)
    scan = _scan(_config(tmp_path, "[job, workspace, sku]"), clock, store, world)
    out = scan.run(NOON)
    assert out.candidates > 0 and out.anomalies == 0
    assert outbox(store) == []


def test_scopes_off_by_default_give_no_workspace_or_sku_alert(clock, store, world, config) -> None:
    _account(world)
    _the_jump(world)
    out = _scan(config, clock, store, world).run(NOON)
    assert (out.anomalies, out.posted) == (0, 0)
    assert outbox(store) == []


def test_not_an_anomaly_on_a_workspace_silences_the_same_jump_next_day(
    tmp_path, clock, store, world
) -> None:
    _account(world)
    _the_jump(world)
    config = _config(tmp_path, "[job, workspace]")
    scan = _scan(config, clock, store, world)
    assert scan.run(NOON).posted == 1
    (incident,) = store.incidents.open_incidents(IncidentKind.COST_ANOMALY)
    store.feedback.give("workspace", WS, DAY, Verdict.NOT_ANOMALY, "U02BOB")
    assert scan.refresh(incident.id)
    update = outbox(store)[-1]
    assert update.kind is OutboxKind.UPDATE
    assert "Marked *not an anomaly* by <@U02BOB>" in _texts(update.payload)
    assert "this workspace needs a bigger jump" in _texts(update.payload)
    # The next day the same jump: its 14 days are 13 × $300 and the day's $520 (median 300,
    # MAD 0), so z = 220 / 44.478 = 4.95 again, under the raised 3.5 × 1.5 = 5.25.
    nxt = DAY + timedelta(days=1)
    _the_jump(world, nxt)
    clock.set(NOON + timedelta(days=1))
    out = scan.run()
    assert out.posted == 0 and out.resolved == 1  # the marked day's alert resolves
    assert store.incidents.open_incidents(IncidentKind.COST_ANOMALY) == []


def test_without_feedback_the_next_day_alerts_again(tmp_path, clock, store, world) -> None:
    # The control of the test above: the same two days, no mark.
    _account(world)
    _the_jump(world)
    scan = _scan(_config(tmp_path, "[workspace]"), clock, store, world)
    assert scan.run(NOON).posted == 1
    _the_jump(world, DAY + timedelta(days=1))
    clock.set(NOON + timedelta(days=1))
    assert scan.run().posted == 1


def test_expected_on_a_sku_resolves_it_and_keeps_it_quiet_that_day(
    tmp_path, clock, store, world
) -> None:
    _account(world)
    _the_jump(world)
    scan = _scan(_config(tmp_path, "[sku]"), clock, store, world)
    scan.run(NOON)
    store.feedback.give("sku", JOBS_SKU, DAY, Verdict.EXPECTED, "U02BOB")
    spend(world, WS, "13", DAY, 200)  # it grows on, but it was expected
    clock.set(NOON + timedelta(hours=1))
    out = scan.run()
    assert (out.posted, out.resolved) == (0, 1)
    last = outbox(store)[-1]
    assert last.kind is OutboxKind.UPDATE
    assert "Marked *expected* by <@U02BOB>" in _texts(last.payload)
    assert "no more alerts for this SKU on this day" in _texts(last.payload)


def test_a_growing_workspace_anomaly_updates_its_message(tmp_path, clock, store, world) -> None:
    _account(world)
    _the_jump(world)
    scan = _scan(_config(tmp_path, "[workspace]"), clock, store, world)
    scan.run(NOON)
    # The afternoon's billing: C another $100, so $620 (+19%, over the 10% note).
    spend(world, WS, "13", DAY, 100)
    clock.set(NOON + timedelta(hours=2))
    out = scan.run()
    assert (out.posted, out.updated) == (0, 1)
    rows = outbox(store)
    assert [r.kind for r in rows] == [OutboxKind.POST, OutboxKind.UPDATE, OutboxKind.THREAD_REPLY]
    body = _texts(rows[1].payload)
    assert "$620.00" in body and "first alerted at $520.00" in body
    # C is now the biggest mover: $240 vs usually $100.
    assert "jobs up: steady_c +$140.00, ingest_a +$100.00, ingest_b +$80.00" in body
    assert "Now $620.00" in rows[2].payload["text"] and "usually $300.00" in rows[2].payload["text"]
