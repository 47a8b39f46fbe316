"""The queries of the proactive path that start from the warehouse (routing facts for cost
alerts) and the as-of view layer the replay reads through, on hand-built rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import UserError
from bot.models import JobKey
from bot.warehouse import open_warehouse, queries, schema
from bot.warehouse.as_of import VISIBLE_FROM, AsOfWarehouse
from tests.support.wh_world import World, utc


@pytest.mark.covers("job_routing")
def test_job_routing_is_the_latest_row_as_of_now(world: World) -> None:
    w = world
    w.job("1", "7", "nightly", "2026-01-01 00:00", tags={"team": "fin", "owner": "a@x.com"})
    w.job("1", "7", "nightly_v2", "2026-02-01 00:00", tags={"team": 'fin, "data"'},
          run_as="b@x.com")  # fmt: skip
    w.job("2", "7", "other workspace", "2026-01-01 00:00")
    w.job("1", "8", "untagged", "2026-01-01 00:00", creator="c@x.com")
    now = queries.job_routing(w.wh, JobKey("1", "7"), now=utc("2026-03-01 00:00"))
    assert now is not None and now.name == "nightly_v2" and now.owner == "b@x.com"
    assert json.loads(now.tags_json) == {"team": 'fin, "data"'}  # commas and quotes survive
    before = queries.job_routing(w.wh, JobKey("1", "7"), now=utc("2026-01-15 00:00"))
    assert before is not None and before.name == "nightly" and before.owner == "a@x.com"
    plain = queries.job_routing(w.wh, JobKey("1", "8"), now=utc("2026-03-01 00:00"))
    assert plain is not None and json.loads(plain.tags_json) == {} and plain.owner == "c@x.com"
    assert queries.job_routing(w.wh, JobKey("1", "9"), now=utc("2026-03-01 00:00")) is None
    assert queries.job_routing(w.wh, JobKey("1", "7"), now=utc("2025-12-01 00:00")) is None


@pytest.mark.covers("replay_moments")
def test_replay_moments_are_the_run_ends_in_the_window(world: World) -> None:
    w = world
    w.slice("1", "7", "r1", "2026-03-01 01:00", "2026-03-01 02:00")  # an hour slice, running
    w.slice("1", "7", "r1", "2026-03-01 02:00", "2026-03-01 02:10", "FAILED")
    w.slice("1", "7", "r1", "2026-03-01 03:00", "2026-03-01 03:20", "SUCCEEDED")  # repaired
    w.slice("1", "8", "r2", "2026-03-01 02:00", "2026-03-01 02:10", "SUCCEEDED")  # same instant
    w.slice("1", "8", "r3", "2026-03-01 05:00", "2026-03-01 05:10", "FAILED")  # after the window
    got = queries.replay_moments(w.wh, since=utc("2026-03-01 00:00"), until=utc("2026-03-01 05:10"))
    assert got == [utc("2026-03-01 02:10"), utc("2026-03-01 03:20")]


def test_the_as_of_layer_shows_no_row_from_the_future(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    wh = open_warehouse(str(path))
    w = World(wh)  # type: ignore[arg-type]
    w.job("1", "7", "nightly", "2026-01-01 00:00")
    w.job("1", "7", "nightly_v2", "2026-03-01 12:00")  # renamed at noon
    w.slice("1", "7", "r1", "2026-03-01 09:00", "2026-03-01 10:00")
    w.slice("1", "7", "r1", "2026-03-01 10:00", "2026-03-01 10:30", "FAILED")
    w.price("PREMIUM_JOBS_COMPUTE", "1.00", "2026-06-01 00:00")  # published ahead: visible
    w.usage("1", "PREMIUM_JOBS_COMPUTE", "2026-03-01 09:00", "2026-03-01 10:00", "5", job_id="7")
    w.cluster("1", "c1", "shared", "UI", "2026-03-01 11:00")
    w.node_minute("1", "c1", "2026-03-01 11:00", 10.0, 1.0)
    wh.close()

    asof = AsOfWarehouse.open(str(path))
    con = asof._con  # DuckDB-only test of the views themselves

    def count(table: str) -> int:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    try:
        asof.set_now(utc("2026-03-01 09:59"))
        assert count("lakeflow.job_run_timeline") == 0 and count("billing.usage") == 0
        assert count("lakeflow.jobs") == 1 and count("billing.list_prices") == 1
        asof.set_now(utc("2026-03-01 10:00"))
        assert count("lakeflow.job_run_timeline") == 1 and count("billing.usage") == 1
        asof.set_now(utc("2026-03-01 10:45"))
        ended = queries.runs_ended(asof, now=utc("2026-03-01 10:45"),
                                   since=utc("2026-03-01 00:00"), until=utc("2026-03-01 10:45"))  # fmt: skip
        assert [(r.run_id, r.result_state, r.name) for r in ended] == [("r1", "FAILED", "nightly")]
        assert count("compute.clusters") == 0 and count("compute.node_timeline") == 0
        asof.set_now(utc("2026-03-01 12:00"))
        routing = queries.job_routing(asof, JobKey("1", "7"), now=utc("2026-03-02 00:00"))
        assert routing is not None and routing.name == "nightly_v2"
        assert count("compute.clusters") == 1 and count("compute.node_timeline") == 1
        assert set(VISIBLE_FROM) == {t.full_name for t in schema.TABLES}  # every table ruled
    finally:
        asof.close()
    with pytest.raises(UserError, match="no such warehouse file"):
        AsOfWarehouse.open(str(tmp_path / "missing.duckdb"))
