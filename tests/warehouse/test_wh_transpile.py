"""Each Databricks -> DuckDB fix, checked by running the transpiled SQL on DuckDB and
comparing with what Databricks returns for the same expression (reference section 5)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest
import sqlglot

from bot.warehouse import schema, sql, transpile


def _one(text: str, params: dict | None = None, ts: frozenset[str] = frozenset()) -> object:
    con = duckdb.connect()
    schema.create_all(con)
    con.execute(
        "INSERT INTO lakeflow.job_run_timeline (workspace_id, job_id, run_id, period_start_time,"
        " period_end_time) VALUES ('1', '1', 'r', '2026-03-01 23:00', '2026-03-02 00:00'),"
        " ('1', '1', 'r', '2026-03-02 00:00', '2026-03-02 00:30')"
    )
    return con.execute(transpile.to_duckdb(text, ts), params or {}).fetchone()[0]


def test_system_catalog_is_mapped() -> None:
    assert _one("SELECT count(*) FROM system.lakeflow.job_run_timeline") == 2


def test_interval_cast_to_long_is_seconds_even_when_summed() -> None:
    q = "SELECT CAST(sum(period_end_time - period_start_time) AS LONG) FROM system.lakeflow.job_run_timeline"
    assert _one(q) == 5400


def test_interval_cast_with_a_timestamp_param() -> None:
    q = "SELECT CAST(:now - max(period_end_time) AS BIGINT) FROM system.lakeflow.job_run_timeline"
    assert _one(q, {"now": datetime(2026, 3, 2, 1, 0, 0)}, frozenset({"now"})) == 1800


def test_plain_integer_cast_is_untouched() -> None:
    assert _one("SELECT CAST(7 - 2 AS LONG)") == 5


def test_percentile_interpolates() -> None:
    assert _one("SELECT percentile(x, 0.5) FROM VALUES (1), (2), (3), (4) AS t(x)") == 2.5


def test_timestampdiff_counts_whole_units() -> None:
    q = "SELECT timestampdiff(MINUTE, TIMESTAMP'2026-01-01 10:00:59', TIMESTAMP'2026-01-01 10:01:00')"
    assert _one(q) == 0


def test_unix_timestamp_of_a_timestamp_column() -> None:
    q = "SELECT min(unix_timestamp(period_start_time)) FROM system.lakeflow.job_run_timeline"
    assert _one(q) == int(datetime(2026, 3, 1, 23, 0, tzinfo=UTC).timestamp())


def test_timestamp_millis() -> None:
    assert _one("SELECT timestamp_millis(1700000000000)") == datetime(2023, 11, 14, 22, 13, 20)


def test_trunc_month() -> None:
    assert str(_one("SELECT trunc(DATE'2026-03-17', 'MM')"))[:10] == "2026-03-01"


def test_dayofweek_and_weekday_numbering() -> None:
    assert _one("SELECT dayofweek(DATE'2026-03-01')") == 1  # Sunday
    assert _one("SELECT weekday(DATE'2026-03-01')") == 6  # Sunday, 0 = Monday


def test_count_if_over_no_rows_is_zero() -> None:
    q = "SELECT count_if(period_end_time > period_start_time) FROM system.lakeflow.job_run_timeline WHERE false"
    assert _one(q) == 0


def test_timestamp_cast_stays_naive_utc() -> None:
    out = transpile.to_duckdb("SELECT CAST(:now AS TIMESTAMP)")
    assert "TIMESTAMPTZ" not in out


@pytest.mark.parametrize("name", sql.query_names())
def test_every_query_file_parses_as_databricks_sql(name: str) -> None:
    q = sql.load(name)
    tree = sqlglot.parse_one(q.text, read="databricks", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(tree, sqlglot.exp.Query)
    assert q.summary and q.columns
