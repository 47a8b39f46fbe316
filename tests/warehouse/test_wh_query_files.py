"""Every query file: a valid header, runs on the embedded warehouse, returns the columns its
header promises, and has a fixture test (`@pytest.mark.covers`) somewhere in this folder."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.warehouse import open_warehouse, sql, transpile

SAMPLE = {
    "TIMESTAMP": datetime(2026, 3, 2, 9, tzinfo=UTC),
    "DATE": date(2026, 3, 1),
    "STRING": "1",
    "INT": 7,
    "DOUBLE": 1.0,
    "BOOLEAN": False,
}


@pytest.mark.parametrize("name", sql.query_names())
def test_query_runs_and_returns_its_header_columns(name: str) -> None:
    q = sql.load(name)
    params = {p.name: SAMPLE[p.type] for p in q.params}
    if "group_by" in params:
        params["group_by"] = "job"
    wh = open_warehouse(None)
    try:
        wh.run(name, params)  # empty tables: must still bind and run
        cur = wh.cursor()  # type: ignore[attr-defined]
        cur.execute(transpile.duckdb_sql(q), {k: v.replace(tzinfo=None) if isinstance(v, datetime)
                                         else v for k, v in params.items()})  # fmt: skip
        assert [d[0] for d in cur.description] == [c.name for c in q.columns]
    finally:
        wh.close()


def test_every_query_file_has_a_fixture_test() -> None:
    here = Path(__file__).parent
    covered: set[str] = set()
    for path in here.glob("test_*.py"):
        for args in re.findall(r"mark\.covers\(([^)]*)\)", path.read_text()):
            covered |= set(re.findall(r"\"([a-z_]+)\"", args))
    missing = sorted(set(sql.query_names()) - covered)
    assert not missing, f"query files without a fixture test: {missing}"


def test_params_are_checked() -> None:
    wh = open_warehouse(None)
    with pytest.raises(ValueError, match="missing param :since"):
        wh.run("failing_jobs", {"now": SAMPLE["TIMESTAMP"]})
    with pytest.raises(ValueError, match="unknown param"):
        wh.run("job_lookup", {"needle": "x", "include_deleted": False, "extra": 1})
    with pytest.raises(ValueError, match="wants INT"):
        wh.run("sla_inputs", {"now": SAMPLE["TIMESTAMP"], "days": "7"})


def test_header_must_declare_every_param_it_uses() -> None:
    text = "-- q: x\n-- Params:\n--   :a INT  a\n-- Columns:\n--   x INT\nSELECT :a + :b AS x"
    with pytest.raises(sql.QueryFileError, match="declared"):
        sql.parse_header("q", text)
