"""The doctor's probe queries: one per system table, each answering at most one row whatever the
table holds, and failing (not answering empty) when the table is not there."""

from __future__ import annotations

import pytest

from bot.doctor import SYSTEM_TABLES, probe_query
from bot.warehouse import sql
from tests.support.wh_world import World

PROBES = [probe_query(t) for t in SYSTEM_TABLES]


@pytest.mark.covers(
    "probe_lakeflow_jobs", "probe_lakeflow_job_run_timeline",
    "probe_lakeflow_job_task_run_timeline", "probe_billing_usage", "probe_billing_list_prices",
    "probe_compute_clusters", "probe_compute_node_timeline", "probe_access_workspaces_latest",
)  # fmt: skip
def test_each_probe_reads_at_most_one_row(world: World) -> None:
    for name in PROBES:
        assert world.wh.run(name, {}) == []  # an empty table is readable, not an error
    world.workspace("1", "analytics")
    world.job("1", "100", "nightly", "2026-01-01 00:00")
    world.job("1", "100", "nightly", "2026-02-01 00:00")
    assert world.wh.run("probe_lakeflow_jobs", {}) == [{"readable": 1}]
    assert world.wh.run("probe_access_workspaces_latest", {}) == [{"readable": 1}]


def test_the_covers_mark_names_every_probe() -> None:
    marked = test_each_probe_reads_at_most_one_row.pytestmark[0].args  # type: ignore[attr-defined]
    assert sorted(marked) == sorted(PROBES)


def test_each_probe_reads_its_own_table_and_nothing_else() -> None:
    for table in SYSTEM_TABLES:
        text = sql.load(probe_query(table)).text
        body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
        assert f"FROM {table}" in body and "JOIN" not in body.upper()
        assert sql.load(probe_query(table)).params == ()


def test_a_missing_table_fails_loudly(world: World) -> None:
    world.con.execute("DROP TABLE billing.list_prices")
    with pytest.raises(Exception, match="list_prices"):
        world.wh.run("probe_billing_list_prices", {})
