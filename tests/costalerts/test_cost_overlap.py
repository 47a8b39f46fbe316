"""One cause, one message: a workspace or SKU anomaly mostly explained by jobs alerted for the
same day is not posted on its own (bot.service.cost_alerts, EXPLAINED_SHARE = 80%).

Every number is worked out here from the rows, by the rules of bot.monitors.cost:
    z = (cost − expected) / (1.4826 · max(MAD, 0.10 · expected, 0.01)), alert from 3.5 and
    from $50 a day.

The account (workspace 1001 "prod-emea", one SKU, PREMIUM_JOBS_COMPUTE at $1.00/DBU), 28 days:
    A "ingest_a"  $50 and $150 on alternate days: expected 100, MAD 50 (spread 74.13)
    B "ingest_b"  $150 and $50 (the other way round): expected 100, MAD 50
    C "steady_c"  $100 every day: expected 100, MAD 0 (spread floored at 10: 14.826)
so the workspace, and the SKU (its only one), cost $300 every day: MAD 0, spread 44.478.

C's spike (A $150, B $50, C $400 on the day):
    C  +300, z = 300 / 14.826 = 20.2 → a job alert
    A  +50, z = 50 / 74.13 = 0.67; B −50: no alert (A is a mover of +50, B is none)
    workspace $600: +300, z = 300 / 44.478 = 6.74 → an anomaly, and the SKU the same
    C explains 300 of the 300 rise: 100% ≥ 80% → no workspace or SKU alert of their own

Many small rises (A $200, B $180, C $140):
    A z = 100 / 74.13 = 1.35, B z = 80 / 74.13 = 1.08, C z = 40 / 14.826 = 2.70: no job alert
    workspace $520: +220, z = 220 / 44.478 = 4.95 → explained by alerted jobs: 0 → it alerts
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from pathlib import Path

from bot.clock import FixedClock
from bot.config import Config
from bot.render import Renderer
from bot.service.cost_alerts import CostScan
from bot.slack.blocks_check import problems
from bot.store import Store
from bot.store.records import IncidentKey, IncidentKind, OutboxKind
from tests.support.proactive import CONFIG, DAY, JOBS_SKU, NOON, make_config, outbox, spend
from tests.support.wh_world import World

WS = "1001"
COST_LINE = "cost: {currency: USD, anomaly_sensitivity: 3.5, min_daily_amount: 50}"
ALL = "[job, workspace, sku]"
JOB_C = IncidentKey(WS, "13", IncidentKind.COST_ANOMALY, f"job:{DAY}")
WORKSPACE = IncidentKey(WS, "", IncidentKind.COST_ANOMALY, f"workspace:{DAY}")
SKU = IncidentKey("", "", IncidentKind.COST_ANOMALY, f"sku:{JOBS_SKU}:{DAY}")


def _config(tmp_path: Path, scopes: str) -> Config:
    line = COST_LINE[:-1] + f", anomaly_scopes: {scopes}}}"
    return make_config(tmp_path, CONFIG.replace(COST_LINE, line))


def _scan(config: Config, clock: FixedClock, store: Store, world: World) -> CostScan:
    renderer = Renderer(tz=config.timezone, currency=config.cost.currency, clock=clock)
    return CostScan(config=config, clock=clock, renderer=renderer, store=store, warehouse=world.wh)


def _account(world: World, before: date = DAY) -> None:
    for job, name in (("11", "ingest_a"), ("12", "ingest_b"), ("13", "steady_c")):
        world.job(WS, job, name, "2026-01-01 00:00")
    for back in range(1, 29):
        d = before - timedelta(days=back)
        odd = back % 2 == 1
        spend(world, WS, "11", d, 50 if odd else 150)
        spend(world, WS, "12", d, 150 if odd else 50)
        spend(world, WS, "13", d, 100)


def _c_spikes(world: World) -> None:
    spend(world, WS, "11", DAY, 150)
    spend(world, WS, "12", DAY, 50)
    spend(world, WS, "13", DAY, 400)


def _keys(store: Store) -> set[IncidentKey]:
    return {i.incident_key for i in store.incidents.open_incidents(IncidentKind.COST_ANOMALY)}


def _posts(store: Store) -> list:
    return [r for r in outbox(store) if r.kind is OutboxKind.POST]


def test_one_jobs_spike_with_every_scope_on_is_one_alert_the_jobs(
    tmp_path, clock, store, world, caplog
) -> None:
    _account(world)
    _c_spikes(world)
    scan = _scan(_config(tmp_path, ALL), clock, store, world)
    with caplog.at_level(logging.INFO, logger="bot.service.cost_alerts"):
        out = scan.run(NOON)
    # Three anomalies (C, the workspace, the SKU), one cause: C's alert only.
    assert (out.anomalies, out.posted, out.suppressed) == (3, 1, 2)
    assert _keys(store) == {JOB_C}
    (post,) = outbox(store)
    assert "steady_c" in post.payload["text"] and "$400.00" in post.payload["text"]
    also = next(b for b in post.payload["blocks"] if b.get("block_id") == "cost-also")
    assert also["elements"][0]["text"] == (
        f"↳ Also most of the rise of workspace prod-emea; SKU {JOBS_SKU} that day: "
        "no separate alert for them."
    )
    assert problems(post.payload) == []
    skipped = [r.getMessage() for r in caplog.records if "not alerted on its own" in r.getMessage()]
    assert len(skipped) == 2
    assert any(
        "workspace prod-emea" in m and "$300.00 of its +$300.00 rise is steady_c" in m
        for m in skipped
    )

    # The hourly scans of the same numbers add nothing.
    clock.set(NOON + timedelta(hours=1))
    out = scan.run()
    assert (out.posted, out.updated, out.suppressed) == (0, 0, 2)
    assert len(outbox(store)) == 1


def test_many_small_rises_none_alerting_alone_still_alert_the_workspace_and_sku(
    tmp_path, clock, store, world
) -> None:
    _account(world)
    spend(world, WS, "11", DAY, 200)
    spend(world, WS, "12", DAY, 180)
    spend(world, WS, "13", DAY, 140)
    out = _scan(_config(tmp_path, ALL), clock, store, world).run(NOON)
    assert (out.anomalies, out.posted, out.suppressed) == (2, 2, 0)
    assert _keys(store) == {WORKSPACE, SKU}


def test_an_alerted_job_explaining_under_80_percent_does_not_silence_its_workspace(
    tmp_path, clock, store, world
) -> None:
    # A $200 (+100, z 1.35), B $180 (+80, z 1.08), C $180: +80, z = 80 / 14.826 = 5.40 alerts.
    # Workspace / SKU $560: +260, z = 260 / 44.478 = 5.85; C explains 80 / 260 = 31% < 80%.
    _account(world)
    spend(world, WS, "11", DAY, 200)
    spend(world, WS, "12", DAY, 180)
    spend(world, WS, "13", DAY, 180)
    out = _scan(_config(tmp_path, ALL), clock, store, world).run(NOON)
    assert (out.anomalies, out.posted, out.suppressed) == (3, 3, 0)
    assert _keys(store) == {JOB_C, WORKSPACE, SKU}
    job = store.incidents.find_open(JOB_C)
    assert job is not None
    job_post = next(p for p in _posts(store) if p.incident_id == job.id)
    assert "cost-also" not in json.dumps(job_post.payload)


def test_a_workspace_skipped_in_the_morning_alerts_once_its_other_jobs_rise(
    tmp_path, clock, store, world
) -> None:
    _account(world)
    _c_spikes(world)
    scan = _scan(_config(tmp_path, ALL), clock, store, world)
    morning = NOON - timedelta(hours=2)
    clock.set(morning)
    assert (scan.run().posted, len(_keys(store))) == (1, 1)  # C's only, as above

    # By 13:00 A has billed another $150 ($300: +200, z = 200 / 74.13 = 2.70) and B another
    # $130 ($180: +80, z 1.08): still no alert of theirs. The workspace is $880: +580, of which
    # C's +300 is 52% < 80%: the rest is news, so the workspace (and the SKU, the same
    # numbers) alert now.
    spend(world, WS, "11", DAY, 150)
    spend(world, WS, "12", DAY, 130)
    clock.set(NOON + timedelta(hours=1))
    out = scan.run()
    assert (out.posted, out.suppressed) == (2, 0)
    assert _keys(store) == {JOB_C, WORKSPACE, SKU}
    ws = store.incidents.find_open(WORKSPACE)
    assert ws is not None and (ws.detail or {})["cost"] == 880.0
    # C's message no longer says it stands for the workspace and the SKU.
    job_id = store.incidents.find_open(JOB_C).id
    last_job = [r for r in outbox(store) if r.incident_id == job_id][-1]
    assert last_job.kind is OutboxKind.UPDATE and "cost-also" not in json.dumps(last_job.payload)

    # Then C grows to $2,400 (+2,300): the workspace's $2,880 (+2,580) is now 89% C's, but it
    # has its alert: that one message is updated, never a second post nor a skip.
    spend(world, WS, "13", DAY, 2000)
    clock.set(NOON + timedelta(hours=2))
    out = scan.run()
    assert (out.posted, out.suppressed) == (0, 0)
    assert out.updated == 3  # C, the workspace, the SKU
    assert len(_posts(store)) == 3
    ws = store.incidents.find_open(WORKSPACE)
    assert ws is not None and (ws.detail or {})["cost"] == 2880.0


def test_with_the_job_scope_off_a_jobs_spike_is_the_workspace_alert_as_before(
    tmp_path, clock, store, world
) -> None:
    _account(world)
    _c_spikes(world)
    out = _scan(_config(tmp_path, "[workspace]"), clock, store, world).run(NOON)
    assert (out.anomalies, out.posted, out.suppressed) == (1, 1, 0)
    assert _keys(store) == {WORKSPACE}
    (post,) = outbox(store)
    d = store.incidents.find_open(WORKSPACE).detail or {}
    assert (d["cost"], d["baseline"], d["z"]) == (600.0, 300.0, 6.7)  # 300 / 44.478 = 6.74
    assert "jobs up: steady_c +$300.00, ingest_a +$50.00" in post.payload["text"]
