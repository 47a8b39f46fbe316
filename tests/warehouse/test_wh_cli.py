"""`jobs-bot query` run in-process through bot.cli.main, stdout captured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import UserError
from bot.warehouse import sql
from bot.warehouse.databricks_backend import DatabricksWarehouse
from tests.support.wh_world import World


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    from bot.warehouse.duckdb_backend import DuckDBWarehouse

    path = str(tmp_path / "wh.duckdb")
    wh = DuckDBWarehouse.open(path)
    w = World(wh)
    w.workspace("1", "prod")
    w.job("1", "100", "nightly_sales", "2026-01-01 00:00", tags={"owner": "ana@x.com"})
    w.job("1", "200", "fine_job", "2026-01-01 00:00")
    w.slice("1", "100", "r1", "2026-03-01 20:00", "2026-03-01 21:00", "FAILED", "DRIVER_ERROR")
    w.slice("1", "100", "r2", "2026-03-02 05:00", "2026-03-02 06:00", "FAILED", "DRIVER_ERROR")
    w.slice("1", "200", "r3", "2026-03-02 05:00", "2026-03-02 06:00", "SUCCEEDED")
    wh.close()
    return path


def test_list_shows_every_query_with_params(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    for name in sql.query_names():
        assert f"{name}: " in out
    assert "    since TIMESTAMP" in out


@pytest.mark.covers("failing_jobs")
def test_window_and_at(db_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["query", "failing_jobs", "--param", "window=24h", "--at", "2026-03-02T09:00Z",
            "--db", db_file]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "nightly_sales" in out and "fine_job" not in out
    assert "(1 row)" in out
    # Six hours: only r2 is in the window, so one failure in it (the streak is still 2).
    assert main([*args[:3], "window=6h", *args[4:], "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["streak"], row["failures_in_window"]) == (2, 1)
    assert row["last_failure_time"] == "2026-03-02T06:00:00+00:00"
    # Before anything failed there was nothing to show.
    assert main([*args[:5], "2026-03-01T19:00Z", "--db", db_file]) == 0
    assert "(0 rows)" in capsys.readouterr().out


def test_typed_params_from_the_command_line(
    db_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", "job_lookup", "--param", "needle=NIGHTLY_SALES", "--db", db_file]) == 0
    assert "exact" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "failng_jobs"], "did you mean failing_jobs"),
        (["query"], "--list"),
        (["query", "failing_jobs", "--param", "window=2x"], "30m, 6h"),
        (["query", "failing_jobs", "--param", "windw=2h"], "did you mean window"),
        (["query", "failing_jobs", "--param", "since"], "KEY=VALUE"),
        (["query", "failing_jobs", "--at", "yesterday"], "ISO 8601"),
        (["query", "job_recent_runs", "--param", "limit=ten"], "INT like 10"),
        (["query", "job_cost"], "needs --param workspace_id"),
        (["query", "digest_summary", "--param", "window=1d"], "no time window"),
    ],
)
def test_bad_input_is_one_clear_line(
    argv: list[str], message: str, db_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--db", db_file]) == 2
    err = capsys.readouterr().err
    assert message.lower() in err.lower()
    assert "Traceback" not in err


def test_missing_db_file_says_seed_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope.duckdb")
    assert main(["query", "failing_jobs", "--db", missing]) == 2
    assert f"jobs-bot seed --db {missing}" in capsys.readouterr().err
    assert not Path(missing).exists()


def test_databricks_auth_choice_from_env() -> None:
    base = {
        "DATABRICKS_HOST": "https://adb-1.azuredatabricks.net/",
        "DATABRICKS_WAREHOUSE_ID": "abc",
    }
    pat = DatabricksWarehouse.from_env(env={**base, "DATABRICKS_TOKEN": "dapi-x"})
    assert (pat.auth, pat.server_hostname, pat.http_path) == (
        "pat", "adb-1.azuredatabricks.net", "/sql/1.0/warehouses/abc",
    )  # fmt: skip
    sp = DatabricksWarehouse.from_env(
        env={
            **base,
            "DATABRICKS_TOKEN": "dapi-x",
            "DATABRICKS_CLIENT_ID": "id",
            "DATABRICKS_CLIENT_SECRET": "s",
        }  # fmt: skip
    )
    assert sp.auth == "oauth-m2m"  # a service principal wins over a token
    with pytest.raises(UserError, match="no Databricks credentials"):
        DatabricksWarehouse.from_env(env=base)
    with pytest.raises(UserError, match="http_path"):
        DatabricksWarehouse.from_env(env={"DATABRICKS_HOST": "h", "DATABRICKS_TOKEN": "t"})


def test_waste_runs_without_naming_the_idle_threshold(
    db_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # It asked for --param idle_cpu_percent once the threshold became a parameter.
    assert main(["query", "waste", "--at", "2026-03-02T09:00Z", "--db", db_file]) == 0
    assert "needs --param" not in capsys.readouterr().err
