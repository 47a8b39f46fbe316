"""The weekly cost report end to end: queued at Monday 09:00, posted by the real notifier in
the sandbox Slack, then its chart uploaded into the report's thread with Slack's upload flow
(the PNG visible there, its bytes a valid image), each exactly once across restarts."""

from __future__ import annotations

import logging
import urllib.request
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import FixedClock
from bot.render import Renderer
from bot.service.reports.weekly import Week, WeeklyReports
from bot.slack.client import web_client
from bot.slack.notifier import Notifier
from bot.slack.sender import Sender, Target
from bot.store import OutboxKind, Store
from sandbox.slack.driver import SlackSandbox
from tests.support.chart import png_size

MONDAY = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # Mon 9 Mar, 09:00 in Amsterdam
HOST = "https://prod.cloud.databricks.com"


@pytest.fixture
def sb():
    with SlackSandbox() as sandbox:
        yield sandbox


def notifier(sb: SlackSandbox, store: Store, clock: FixedClock) -> Notifier:
    client = web_client(sb.bot_token, sb.api_url)
    return Notifier(store.outbox, store.incidents, client, clock,
                    default_channel="#data-alerts", per_channel_interval=0.01)  # fmt: skip


def reports_on(store: Store, config, clock, world) -> WeeklyReports:
    renderer = Renderer(tz=config.timezone, clock=clock)
    return WeeklyReports(config=config, clock=clock, renderer=renderer, store=store,
                         warehouse=world.wh)  # fmt: skip


def test_week_numbers(weekly: WeeklyReports):
    # Mon 2 – Sun 8 Mar holds the account's 28.50 (2 Mar); the week before (23 Feb – 1 Mar)
    # the seven baseline days, 7.00 each.
    v = weekly.view(Week.before(date(2026, 3, 9)))
    assert (v.since, v.until) == (date(2026, 3, 2), date(2026, 3, 8))
    assert (v.cost, v.prev_cost) == (pytest.approx(28.5), pytest.approx(49.0))
    assert v.change == pytest.approx(28.5 / 49 - 1)
    by_team, by_ws, by_sku = v.groups
    assert [(r.label, r.cost, r.baseline) for r in by_team.rows] == [
        ("finance-data", 15.0, 35.0),
        ("(untagged)", 13.5, 14.0),
    ]
    assert [(r.label, r.cost) for r in by_ws.rows] == [("prod", 28.5)]
    assert [r.label for r in by_sku.rows] == ["PREMIUM_JOBS_COMPUTE", "PREMIUM_ALL_PURPOSE_COMPUTE"]
    assert [(j.label, j.cost, j.url) for j in v.top_cost] == [
        ("nightly_sales", 15.0, f"{HOST}/jobs/10"),
        ("etl_core", 6.0, f"{HOST}/jobs/30"),
        ("ml_train", 2.0, f"{HOST}/jobs/20"),
    ]
    assert [(j.label, j.cost - j.baseline) for j in v.top_growth] == [("etl_core", 6.0)]
    assert (v.waste.failed, v.waste.idle) == (16.0, 5.5)


def test_report_then_its_chart_in_the_thread_once(sb, open_store, config, world, clock):
    clock.set(MONDAY)
    store = open_store()
    reports = reports_on(store, config, clock, world)
    assert reports.due(MONDAY - timedelta(minutes=1)) == []
    assert reports.due() == ["weekly:2026-03-09"]
    assert reports.due() == []  # the chart waits for the report's ts
    notifier(sb, store, clock).drain()
    (report,) = [m for m in sb.messages("C02ALERTS") if "Weekly cost report" in m.text]
    assert report.text.startswith("Weekly cost report 2 Mar – 8 Mar 2026: $28.50")

    # A restarted bot takes the next step: the chart, in the report's thread.
    clock.set(MONDAY + timedelta(minutes=1))
    restarted = open_store()
    again = reports_on(restarted, config, clock, world)
    assert again.due() == ["weekly:2026-03-09:chart"]
    row = restarted.outbox.find("weekly:2026-03-09:chart")
    assert row.kind is OutboxKind.THREAD_REPLY and row.payload["thread_ts"] == report.ts
    notifier(sb, restarted, clock).drain()
    assert again.due() == [] and reports.due() == []

    thread = sb.thread("C02ALERTS", report.ts)
    assert len(thread) == 2
    (chart,) = thread[1].files
    assert chart["name"] == "cost-by-team-2026-03-02-2026-03-08.png"
    assert chart["mimetype"] == "image/png" and chart["title"].startswith("Daily cost by team")
    with urllib.request.urlopen(chart["url_private"]) as r:
        png = r.read()
    assert png_size(png) == (960, 540)
    assert png == reports.chart(Week.before(date(2026, 3, 9)))  # what was uploaded, byte for byte
    assert [c.method for c in sb.calls_to("files.completeUploadExternal")] == [
        "files.completeUploadExternal"
    ]
    assert sb.calls_to("files.completeUploadExternal")[0].params["thread_ts"] == report.ts


def test_a_retried_upload_finds_the_chart_already_shared(sb, store, config, world, clock):
    clock.set(MONDAY)
    reports = reports_on(store, config, clock, world)
    reports.due()
    notifier(sb, store, clock).drain()
    reports.due()
    row = store.outbox.claim_next()
    assert row is not None and row.payload.get("file")
    # A first notifier shared the file and died before recording it; its claim lapses.
    sender = Sender(web_client(sb.bot_token, sb.api_url), logging.getLogger(__name__))
    sender.send(row, Target("C02ALERTS", row.payload["thread_ts"]), fresh=True)
    clock.set(MONDAY + timedelta(minutes=5))
    stats = notifier(sb, store, clock).drain()
    assert stats.recovered == 1 and stats.sent == 0
    assert len(sb.calls_to("files.completeUploadExternal")) == 1
