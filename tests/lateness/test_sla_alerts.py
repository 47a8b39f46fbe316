"""SLA alerts from the config's rules, judged on the system tables (a workspace without the
Jobs API) with the injected clock: at risk before the deadline, breached at it, met late after
it — one POST, then UPDATEs of that same message with a thread line each — and deadlines that
follow the wall clock across the DST changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FixedClock
from bot.config.sections import JobSelector, SlaRule
from bot.service.sla_alerts import SlaAlerts
from bot.slack.blocks_check import problems
from bot.store import Store
from bot.store.records import IncidentKind, OutboxKind
from tests.lateness.conftest import demo_config, messages, outbox, renderer_for, send_all
from tests.support.wh_world import Rows

AMS = "Europe/Amsterdam"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def history(tables: Rows, before: str, *, minutes: int = 60, start_utc: str = "04:00") -> None:
    """nightly_sales: ten days of successful runs of `minutes` each (so p90 = minutes)."""
    tables.job("1", "100", "nightly_sales", "2026-01-01 00:00", run_as="ana.silva@example.com")
    day = datetime.fromisoformat(before)
    for back in range(1, 11):
        start = datetime.fromisoformat(f"{(day - timedelta(days=back)).date()} {start_utc}")
        end = start + timedelta(minutes=minutes)
        tables.slice("1", "100", f"h{back}", f"{start}", f"{end}", "SUCCEEDED", "SUCCESS")


def sla_alerts(tables: Rows, store: Store, clock: FixedClock, rule: SlaRule) -> SlaAlerts:
    cfg = demo_config(slas=(rule,))
    return SlaAlerts(
        config=cfg, clock=clock, renderer=renderer_for(cfg, clock), store=store,
        warehouse=tables.wh, warehouse_ttl=timedelta(0),
    )  # fmt: skip


def deadline_rule(tz: str = AMS, days: str | None = "Mon-Fri") -> SlaRule:
    return SlaRule.model_validate(
        {
            "job": {"name": "nightly_sales"},
            "deadline": "07:00",
            "timezone": tz,
            **({"days": days} if days else {}),
        }  # fmt: skip
    )


def test_at_risk_then_breached_then_met_late_is_one_message(tables, store, clock) -> None:
    # Monday 2 March 2026: 07:00 Amsterdam (CET) is 06:00 UTC; runs take an hour (p90).
    history(tables, "2026-03-02")
    clock.set(at("2026-03-02 04:30"))
    alerts = sla_alerts(tables, store, clock, deadline_rule())
    alerts.check()
    assert outbox(store) == []  # an hour and a half to spare: pending, no message

    clock.set(at("2026-03-02 05:10"))  # a run started now would end 06:10: at risk
    assert alerts.check().opened == 1
    (post,) = outbox(store)
    assert post.kind is OutboxKind.POST and post.channel == "#data-alerts"
    assert "at risk" in post.payload["text"] and "nightly_sales" in post.payload["text"]
    assert problems(post.payload) == []
    ids = {e.get("action_id") for b in post.payload["blocks"] for e in b.get("elements", [])}
    assert {"jobs_ack", "jobs_snooze"} <= ids and "jobs_rerun" not in ids  # no failed run
    ack = next(e for b in post.payload["blocks"] for e in b.get("elements", [])
               if e.get("action_id") == "jobs_ack")  # fmt: skip
    assert json.loads(ack["value"])["a"] == str(post.incident_id)  # alert_id = incident id

    # It starts late; still at risk (expected 06:15): nothing new is said.
    tables.slice("1", "100", "r1", "2026-03-02 05:15", "2026-03-02 05:20")
    clock.set(at("2026-03-02 05:20"))
    alerts.check()
    assert len(outbox(store)) == 1

    clock.set(at("2026-03-02 06:00"))  # the deadline
    alerts.check()
    alerts.check()  # a second check at the same moment adds nothing
    rows = outbox(store)
    assert [r.kind for r in rows] == [OutboxKind.POST, OutboxKind.UPDATE, OutboxKind.THREAD_REPLY]
    assert "breached" in rows[1].payload["text"]
    assert rows[2].payload["text"].startswith("🔴 Breached")

    tables.slice("1", "100", "r1", "2026-03-02 05:20", "2026-03-02 06:25", "SUCCEEDED", "SUCCESS")
    clock.set(at("2026-03-02 06:30"))
    assert alerts.check().resolved == 1
    rows = outbox(store)
    assert [r.kind for r in rows][3:] == [OutboxKind.UPDATE, OutboxKind.THREAD_REPLY]
    assert {r.incident_id for r in rows} == {post.incident_id}  # all one incident, one message
    final = rows[3].payload
    assert "met its SLA late by 25m" in final["text"]
    assert not any(b["type"] == "actions" for b in final["blocks"])  # buttons gone
    assert (
        "Met late: succeeded at 07:25 CET, 25m 00s late (due 07:00 CET)" in rows[4].payload["text"]
    )
    assert store.incidents.open_incidents(IncidentKind.SLA) == []

    clock.set(at("2026-03-02 07:30"))
    alerts.check()
    assert len(outbox(store)) == 5  # resolved stays resolved


def test_met_on_time_after_at_risk_resolves_without_breach(tables, store, clock) -> None:
    history(tables, "2026-03-03")
    alerts = sla_alerts(tables, store, clock, deadline_rule())
    clock.set(at("2026-03-03 05:10"))
    alerts.check()
    tables.slice("1", "100", "r2", "2026-03-03 05:12", "2026-03-03 05:55", "SUCCEEDED", "SUCCESS")
    clock.set(at("2026-03-03 05:56"))
    alerts.check()
    rows = outbox(store)
    assert [r.kind for r in rows] == [OutboxKind.POST, OutboxKind.UPDATE, OutboxKind.THREAD_REPLY]
    assert "met its SLA" in rows[1].payload["text"] and "late" not in rows[1].payload["text"]


def test_a_failed_run_behind_a_breach_offers_rerun(tables, store, clock) -> None:
    history(tables, "2026-03-04")
    tables.slice(
        "1", "100", "9001", "2026-03-04 04:00", "2026-03-04 04:20", "FAILED", "RUN_EXECUTION_ERROR"
    )
    alerts = sla_alerts(tables, store, clock, deadline_rule())
    clock.set(at("2026-03-04 06:01"))
    alerts.check()
    (post,) = outbox(store)
    assert "breached" in post.payload["text"] and "last run failed" in json.dumps(post.payload)
    rerun = next(e for b in post.payload["blocks"] for e in b.get("elements", [])
                 if e.get("action_id") == "jobs_rerun")  # fmt: skip
    assert json.loads(rerun["value"]) == {
        "v": 1,
        "w": 1,
        "j": 100,
        "r": 9001,
        "a": str(post.incident_id),
    }


@pytest.mark.parametrize(
    ("day", "last_before", "breach"),
    [
        ("2026-03-29", "2026-03-29 04:59", "2026-03-29 05:00"),  # spring forward: CEST, UTC+2
        ("2026-10-25", "2026-10-25 05:59", "2026-10-25 06:00"),  # fall back: CET, UTC+1
    ],
)
def test_deadline_follows_the_wall_clock_on_dst_days(
    tables, store, clock, day, last_before, breach
) -> None:
    history(tables, day, minutes=30, start_utc="01:00")
    alerts = sla_alerts(tables, store, clock, deadline_rule(days=None))
    clock.set(at(last_before))
    alerts.check()
    before = outbox(store)
    assert all("breached" not in r.payload["text"] for r in before)
    clock.set(at(breach))
    alerts.check()
    rows = outbox(store)
    assert any("breached" in r.payload["text"] for r in rows), "breached at 07:00 local"
    (incident,) = store.incidents.open_incidents(IncidentKind.SLA)
    assert incident.key == f"deadline 07:00/{day}"
    assert incident.detail["deadline"] == at(breach).isoformat()  # type: ignore[index]


def test_yesterdays_breach_is_closed_when_its_day_is_over(tables, store, clock) -> None:
    history(tables, "2026-03-02")
    alerts = sla_alerts(tables, store, clock, deadline_rule())
    clock.set(at("2026-03-02 06:05"))
    alerts.check()
    assert len(store.incidents.open_incidents(IncidentKind.SLA)) == 1
    clock.set(at("2026-03-02 23:30"))  # 00:30 on Tuesday in Amsterdam
    alerts.check()
    assert store.incidents.open_incidents(IncidentKind.SLA) == []
    last = outbox(store)[-2:]
    assert last[0].kind is OutboxKind.UPDATE and "did not meet its SLA" in last[0].payload["text"]
    assert "closed" in last[1].payload["text"]


def test_a_muted_job_is_recorded_but_not_posted(tables, store, clock) -> None:
    from bot.models import JobKey

    history(tables, "2026-03-02")
    store.mutes.mute(JobKey("1", "100"), "U0ANA", at("2026-03-03 00:00"), "nightly_sales")
    alerts = sla_alerts(tables, store, clock, deadline_rule())
    clock.set(at("2026-03-02 06:05"))
    alerts.check()
    assert len(store.incidents.open_incidents(IncidentKind.SLA)) == 1 and outbox(store) == []


def test_hostile_job_names_render_literally(tables, store, clock) -> None:
    tables.job("1", "100", "<!channel> *boom*", "2026-01-01 00:00")
    rule = SlaRule(job=JobSelector(name="<!channel> *boom*"), freshness=timedelta(hours=6))
    alerts = sla_alerts(tables, store, clock, rule)
    alerts.check()  # no success on record: breached
    (post,) = outbox(store)
    body = json.dumps(post.payload, ensure_ascii=False)
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body


def test_a_freshness_breach_caused_by_failing_runs_offers_rerun(tables, store, clock) -> None:
    # The demo's hourly_events_ingest: "succeeds at least every 2h", and its last runs failed.
    # The alert had no Rerun, though a repair of the failed run is the way out.
    tables.job("1", "300", "hourly_ingest", "2026-01-01 00:00", run_as="ana.silva@example.com")
    tables.slice("1", "300", "3001", "2026-03-02 01:00", "2026-03-02 01:10", "SUCCEEDED", "SUCCESS")
    for h in (2, 3, 4):
        tables.slice("1", "300", f"300{h}", f"2026-03-02 0{h}:00", f"2026-03-02 0{h}:10",
                     "FAILED", "RUN_EXECUTION_ERROR")  # fmt: skip
    clock.set(at("2026-03-02 04:30"))
    rule = SlaRule.model_validate({"job": {"name": "hourly_ingest"}, "freshness": "2h"})
    assert sla_alerts(tables, store, clock, rule).check().opened == 1
    (post,) = outbox(store)
    assert "breached" in post.payload["text"]
    rerun = [e for b in post.payload["blocks"] for e in b.get("elements", [])
             if e.get("action_id") == "jobs_rerun"]  # fmt: skip
    assert len(rerun) == 1, "no Rerun on an SLA breached by failing runs"
    assert json.loads(rerun[0]["value"])["r"] == 3004  # the latest failed run


def test_an_hourly_job_overrunning_every_run_makes_one_message_a_day(tables, store, clock) -> None:
    # hourly_ingest must finish within 30 min; every run of Monday takes 40 (seen in the tables
    # when each run's slice is written, at its end): 24 breaches, one message.
    tables.job("1", "300", "hourly_ingest", "2026-01-01 00:00")
    rule = SlaRule(job=JobSelector(name="hourly_ingest"), max_duration=timedelta(minutes=30))
    for h in range(24):
        tables.slice("1", "300", f"m{h}", f"2026-03-02 {h:02d}:00", f"2026-03-02 {h:02d}:40",
                     "SUCCEEDED", "SUCCESS")  # fmt: skip
    tables.slice("1", "300", "t0", "2026-03-03 00:00", "2026-03-03 00:40", "SUCCEEDED", "SUCCESS")
    alerts = sla_alerts(tables, store, clock, rule)
    clock.set(at("2026-03-02 00:00"))
    while clock.now() < at("2026-03-03 01:00"):
        clock.set(clock.now() + timedelta(minutes=20))
        alerts.check()
        send_all(store)
    rows = messages(store)
    posts = [r for r in rows if r[0] is OutboxKind.POST]
    # Days are Amsterdam's (CET): the run starting 23:00 UTC starts on Tuesday, so Monday has
    # 23 runs (one message), Tuesday 2 by 01:00 UTC (a message of its own).
    assert len(posts) == 2, [p[2] for p in posts]
    monday, tuesday = posts[0][1], posts[1][1]
    assert "met its SLA late by 10m" in posts[0][2]
    about_monday = [r for r in rows if r[1] == monday]
    updates = [r for r in about_monday if r[0] is OutboxKind.UPDATE]
    lines = [r for r in about_monday if r[0] is OutboxKind.THREAD_REPLY]
    assert len(updates) == 22 and len(lines) == 22  # each later overrun: an edit and a line
    assert all(line[2].startswith("🟠 Met late: took 40m") for line in lines), lines[:2]
    assert {r[1] for r in rows} == {monday, tuesday}  # nothing about any other message
    # Every breach is its own incident (each resolves by itself), all on the day's message.
    assert store.incidents.open_incidents(IncidentKind.SLA) == []


def test_a_feed_overdue_twice_in_a_day_updates_the_days_message(tables, store, clock) -> None:
    # hourly_events must succeed at least every 2 h. Monday: last success 00:30, overdue from
    # 02:30 until 05:00; then overdue again from 07:00 until 09:00.
    tables.job("1", "400", "hourly_events", "2026-01-01 00:00")
    for run, (start, end) in enumerate(
        [("00:20", "00:30"), ("04:50", "05:00"), ("08:50", "09:00")]
    ):
        tables.slice("1", "400", f"e{run}", f"2026-03-02 {start}", f"2026-03-02 {end}",
                     "SUCCEEDED", "SUCCESS")  # fmt: skip
    rule = SlaRule(job=JobSelector(name="hourly_events"), freshness=timedelta(hours=2))
    alerts = sla_alerts(tables, store, clock, rule)
    clock.set(at("2026-03-02 00:40"))
    while clock.now() < at("2026-03-02 10:00"):
        clock.set(clock.now() + timedelta(minutes=10))
        alerts.check()
        send_all(store)
    rows = messages(store)
    posts = [r for r in rows if r[0] is OutboxKind.POST]
    assert len(posts) == 1, [p[2] for p in posts]
    message = posts[0][1]
    assert {r[1] for r in rows} == {message}
    lines = [r[2] for r in rows if r[0] is OutboxKind.THREAD_REPLY]
    assert [line.split(":")[0] for line in lines] == [
        "🟠 Met late",  # 05:00, the first breach over
        "🔴 Breached again today",  # 07:00
        "🟠 Met late",  # 09:00
    ], lines
    assert store.incidents.open_incidents(IncidentKind.SLA) == []


def test_a_feed_that_never_succeeded_settles_at_its_first_success(tables, store, clock) -> None:
    # new_feed must succeed at least every 2 h, and every run so far has failed: the alert
    # says it never succeeded. Its first success settles that alert (it stayed open for ever).
    tables.job("1", "410", "new_feed", "2026-01-01 00:00")
    tables.slice("1", "410", "f0", "2026-03-02 00:20", "2026-03-02 00:30", "FAILED")
    tables.slice("1", "410", "f1", "2026-03-02 02:20", "2026-03-02 02:30", "FAILED")
    rule = SlaRule(job=JobSelector(name="new_feed"), freshness=timedelta(hours=2))
    alerts = sla_alerts(tables, store, clock, rule)
    clock.set(at("2026-03-02 03:00"))
    alerts.check()
    send_all(store)
    (incident,) = store.incidents.open_incidents(IncidentKind.SLA)
    tables.slice("1", "410", "s2", "2026-03-02 03:20", "2026-03-02 03:30", "SUCCEEDED", "SUCCESS")
    clock.set(at("2026-03-02 03:40"))
    alerts.check()
    send_all(store)
    assert store.incidents.open_incidents(IncidentKind.SLA) == []
    rows = messages(store)
    assert len([r for r in rows if r[0] is OutboxKind.POST]) == 1
    lines = [r[2] for r in rows if r[0] is OutboxKind.THREAD_REPLY]
    assert lines[-1].endswith("its first success."), lines
