"""Missed runs where only the system tables are read: a run is visible only once its first
hourly slice is written, so a run that has started is not reported missed while its slice
cannot exist yet; a job with no run at all is, once it could have shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.service.missed_runs import MissedRuns
from bot.store.records import IncidentKind, OutboxKind
from tests.lateness.conftest import demo_config, outbox, renderer_for


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_started_run_without_its_slice_is_not_missed(tables, store, clock) -> None:
    cfg = demo_config()  # no workspaces with the Jobs API: the tables are all there is
    for job_id, name in (("10", "started_late_slice"), ("20", "never_started")):
        tables.scheduled_job(
            "1", job_id, name, "2026-03-01 12:00", "0 0 2 * * ?", "Europe/Amsterdam"
        )
    checks = MissedRuns(
        config=cfg, clock=clock, renderer=renderer_for(cfg, clock), store=store,
        warehouse=tables.wh, warehouse_ttl=timedelta(0),
    )  # fmt: skip
    # Job 10's run started at 02:05 Amsterdam (01:05 UTC); its first slice ends at 02:00 UTC
    # and lands in the table an hour later. Fire 01:00 UTC + 15 min grace -> judged from
    # 02:00 (end of that clock hour) + 1 h lag = 03:00 UTC.
    for now in ("2026-03-02 01:20", "2026-03-02 02:10", "2026-03-02 02:59"):
        clock.set(at(now))
        assert checks.check().missed == 0, now
    tables.slice("1", "10", "r10", "2026-03-02 01:05", "2026-03-02 02:00")  # written now
    clock.set(at("2026-03-02 03:00"))
    assert checks.check().missed == 1
    (post,) = outbox(store)
    assert "never_started did not start" in post.payload["text"]
    assert "at 02:00 Europe/Amsterdam, no run by 02:15" in post.payload["text"]
    assert "system tables" in str(post.payload["blocks"])
    (incident,) = store.incidents.open_incidents(IncidentKind.MISSED_RUN)
    assert incident.job_id == "20"

    # Job 20 is started by hand at 03:10 UTC; its slice shows at 03:20.
    tables.slice("1", "20", "r20", "2026-03-02 03:10", "2026-03-02 03:20", "SUCCEEDED")
    clock.set(at("2026-03-02 03:25"))
    assert checks.check().resolved == 1
    assert [r.kind for r in outbox(store)] == [
        OutboxKind.POST, OutboxKind.UPDATE, OutboxKind.THREAD_REPLY,
    ]  # fmt: skip


def test_paused_and_deleted_jobs_in_the_table_never_alert(tables, store, clock) -> None:
    cfg = demo_config()
    tables.scheduled_job("1", "30", "paused_one", "2026-03-01 12:00", "0 0 2 * * ?", paused=True)
    tables.scheduled_job("1", "40", "deleted_one", "2026-03-01 12:00", "0 0 2 * * ?",
                         deleted="2026-03-01 13:00")  # fmt: skip
    tables.job("1", "50", "no_schedule", "2026-03-01 12:00")
    checks = MissedRuns(
        config=cfg, clock=clock, renderer=renderer_for(cfg, clock), store=store,
        warehouse=tables.wh, warehouse_ttl=timedelta(0),
    )  # fmt: skip
    clock.set(at("2026-03-02 12:00"))
    outcome = checks.check()
    assert outcome.jobs == 1 and outcome.missed == 0  # only the paused one is even read
    assert outbox(store) == []
