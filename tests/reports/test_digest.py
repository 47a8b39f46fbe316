"""The daily digest against the hand-computed numbers of tests/support/report_account.py: the whole
account in the default channel, each team's part in its routed channel, open alerts from the
store, every line linked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.service.reports.digest import Digests
from bot.store import IncidentKey, OutboxKind, Store
from tests.support import report_account

HOST = "https://prod.cloud.databricks.com"
DEFAULT, FINANCE, ML = "#data-alerts", "#finance-data", "#ml-platform"


def _queued(store: Store, digests: Digests, channel: str) -> dict:
    row = store.outbox.find(digests.key(report_account.SENT, channel))
    assert row is not None and row.kind is OutboxKind.POST and row.channel == channel
    return row.payload


def _texts(payload: dict) -> str:
    return "\n".join(b["text"]["text"] for b in payload["blocks"] if "text" in b)


@pytest.fixture
def incidents(store: Store) -> None:
    at = report_account.NINE - timedelta(hours=20)
    store.incidents.open_or_bump_failure(
        IncidentKey(report_account.WS, "10"), "r1", at, "boom", job_name="nightly_sales"
    )
    store.incidents.open_or_bump_failure(
        IncidentKey(report_account.WS, "30"), "e2", at, "disk full", job_name="etl_core"
    )


def test_account_digest_numbers(digests: Digests, store: Store, incidents: None):
    facts = digests._read(report_account.DAY, report_account.NINE)
    v = digests.view(facts, DEFAULT)
    assert (v.runs, v.successes, v.failures) == (5, 2, 3)
    assert v.success_rate == pytest.approx(0.4)
    assert (v.cost, v.avg_cost) == (pytest.approx(28.5), pytest.approx(7.0))
    assert v.change == pytest.approx(21.5 / 7)
    assert [(f.label, f.note, f.url) for f in v.failed_jobs] == [
        ("etl_core", "2 of 2 runs failed", f"{HOST}/jobs/30/runs/e2"),
        ("nightly_sales", "1 of 2 runs failed", f"{HOST}/jobs/10/runs/r1"),
    ]
    assert (v.sla_met, v.sla_missed) == (1, 1)
    assert [(s.label, s.note) for s in v.sla_lines] == [
        ("etl_core", "missed: succeeded by 12:30 (UTC)")
    ]
    assert [(m.label, m.cost, m.baseline, m.change) for m in v.movers] == [
        ("nightly_sales", 15.0, 5.0, pytest.approx(2.0)),
        ("etl_core", 6.0, 0.0, None),
    ]
    w = v.waste
    assert (w.failed, w.failed_runs, w.idle, w.idle_clusters) == (16.0, 3, 5.5, 1)
    assert w.total == pytest.approx(21.5)
    assert [i.url for i in w.items][-1] == f"{HOST}/compute/clusters/c1"
    assert [i.label for i in v.incidents] == ["nightly_sales", "etl_core"]
    assert all(i.url for i in v.incidents)


def test_due_queues_one_digest_per_channel(digests: Digests, store: Store, incidents: None):
    assert digests.due() == [f"digest:2026-03-03:{c}" for c in (DEFAULT, FINANCE, ML)]
    account_text = _texts(_queued(store, digests, DEFAULT))
    assert (
        "5 runs · 40% succeeded, 3 failed · cost *$28.50*, ▲ +307% vs the 7-day average ($7.00)"
        in account_text
    )
    assert f"<{HOST}/jobs/30/runs/e2|etl_core>" in account_text
    assert "idle clusters $5.50 (1)" in account_text
    finance = _queued(store, digests, FINANCE)
    assert finance["text"].startswith("Daily digest Mon 2 Mar for #finance-data: 2 runs")
    text = _texts(finance)
    assert "cost *$15.00*, ▲ +200% vs the 7-day average ($5.00)" in text
    assert "etl_core" not in text and "idle clusters" not in text  # not the team's
    assert "nightly_sales" in text.split("*🚨 Still open*")[1]  # its open alert
    ml = _texts(_queued(store, digests, ML))
    assert "1 run · 100% succeeded, 0 failed · cost *$2.00*" in ml and "Still open" not in ml
    # Nothing is late at 09:00, and a second tick adds nothing.
    for c in (DEFAULT, FINANCE, ML):
        blocks = _queued(store, digests, c)["blocks"]
        assert "late" not in {b.get("block_id") for b in blocks}
    assert digests.due(report_account.NINE + timedelta(minutes=1)) == []


def test_nothing_before_nine_and_warehouse_outage_retries(
    digests: Digests, store: Store, world, clock
):
    assert digests.due(report_account.NINE - timedelta(minutes=1)) == []
    real = digests.reader.warehouse

    class Down:
        def run(self, name, params):
            raise ConnectionError("warehouse asleep")

        def close(self) -> None: ...

    digests.reader.warehouse = Down()
    assert digests.due() == []  # logged, nothing queued
    assert store.outbox.pending_count() == 0
    digests.reader.warehouse = real
    assert len(digests.due(report_account.NINE + timedelta(minutes=1))) == 3
