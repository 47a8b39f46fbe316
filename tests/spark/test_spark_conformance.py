"""Every query file on Apache Spark SQL (ANSI on) and on the embedded DuckDB warehouse, over
the hand-built fixture worlds of tests/warehouse with the same bound params: the same rows,
in the same order, with the same NULLs and the same Python types (money exact as Decimal,
doubles to a relative 1e-9), and each engine's result column types matching the query
file's header. Parametrized over the query files, so a new file that does not pass on Spark
fails the suite."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.warehouse import sql, transpile
from tests.spark.conftest import all_cases, build_world, case_key
from tests.support.worlds import Case

# The first test to ask for the Spark results starts the session and runs every case (a minute
# or two on a busy 2-core machine), longer than the suite's default per-test timeout.
pytestmark = [pytest.mark.spark, pytest.mark.timeout(900)]

# Header type -> the Spark types (DataType.simpleString) and DuckDB types it allows. INT is an
# integer of either width: Spark's count() is a BIGINT, and the bot reads both as int.
_SPARK_TYPES = {
    "STRING": ("string",),
    "INT": ("int", "bigint"),
    "BIGINT": ("bigint",),
    "DOUBLE": ("double",),
    "BOOLEAN": ("boolean",),
    "TIMESTAMP": ("timestamp",),
    "DATE": ("date",),
}
_DUCKDB_TYPES = {
    "STRING": ("VARCHAR",),
    "INT": ("INTEGER", "BIGINT", "HUGEINT"),
    "BIGINT": ("BIGINT", "HUGEINT"),
    "DOUBLE": ("DOUBLE",),
    "BOOLEAN": ("BOOLEAN",),
    "TIMESTAMP": ("TIMESTAMP",),
    "DATE": ("DATE",),
}


def _type_ok(header: str, actual: str, allowed: dict[str, tuple[str, ...]]) -> bool:
    if header == "DECIMAL":
        return actual.upper().startswith("DECIMAL(")
    return actual in allowed[header]


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, float)
            and isinstance(b, float)
            and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        )
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return isinstance(a, Decimal) and isinstance(b, Decimal) and a == b
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.utcoffset() == b.utcoffset() and a == b
    return type(a) is type(b) and a == b


def _duckdb(case: Case) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    wh = build_world(case.world)
    try:
        rows = wh.run(case.query, case.params)
        query = sql.load(case.query)
        values = {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v
                  for k, v in sql.check_params(query, case.params).items()}  # fmt: skip
        cur = wh.cursor()
        cur.execute(transpile.duckdb_sql(query), values)
        types = [(d[0], str(d[1])) for d in cur.description]
        cur.close()
        return types, rows
    finally:
        wh.close()


def _diff(case: Case, spark: tuple[Any, ...]) -> list[str]:
    header = sql.load(case.query).columns
    problems: list[str] = []
    if spark[0] == "error":
        return [f"Spark failed: {spark[1][:1500]}"]
    spark_types, spark_rows = spark[1], spark[2]
    duck_types, duck_rows = _duckdb(case)
    names = [c.name for c in header]
    for engine, types, allowed in (("Spark", spark_types, _SPARK_TYPES),
                                   ("DuckDB", duck_types, _DUCKDB_TYPES)):  # fmt: skip
        if [n for n, _ in types] != names:
            problems.append(f"{engine} columns {[n for n, _ in types]} != header {names}")
            continue
        for col, (_, actual) in zip(header, types, strict=True):
            if not _type_ok(col.type, actual, allowed):
                problems.append(f"{engine} {col.name} is {actual}, header says {col.type}")
    if len(spark_rows) != len(duck_rows):
        problems.append(f"{len(spark_rows)} rows on Spark, {len(duck_rows)} on DuckDB")
    for i, (s_row, d_row) in enumerate(zip(spark_rows, duck_rows, strict=False)):
        for name in names:
            s, d = s_row.get(name), d_row.get(name)
            if not _same(s, d):
                problems.append(f"row {i} {name}: Spark {s!r} != DuckDB {d!r}")
    return problems


def _cases_of(name: str) -> list[Case]:
    return [c for c in all_cases() if c.query == name]


@pytest.mark.parametrize("name", sql.query_names())
def test_query_matches_on_spark_and_duckdb(name: str, spark_results: dict[str, Any]) -> None:
    problems: list[str] = []
    for case in _cases_of(name):
        problems += [f"{case_key(case)}: {p}" for p in _diff(case, spark_results[case_key(case)])]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sql.query_names())
def test_query_has_a_world_with_rows(name: str) -> None:
    """An empty result matches on any two engines; each query needs a case that returns rows."""
    with_rows = [c for c in _cases_of(name) if c.world != "empty" and _duckdb(c)[1]]
    assert with_rows, f"{name}: add a Case with rows to tests/support/worlds.py CASES"
