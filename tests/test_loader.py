"""`jobs-bot load` / `export`: a seeded account survives export -> load unchanged in both formats,
hand-written JSON Lines files load with nested values and UTC conversion, and every bad input
gives one clear error naming the file, row and column while leaving the database untouched."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bot.cli import main
from bot.warehouse import schema
from bot.warehouse.loader import (
    LoadError,
    export_dir,
    load_dir,
    open_db,
)
from sandbox.demo_account import generate
from tests.support.dbcompare import differing_tables, row_counts

GOOD = Path(__file__).parent / "data" / "load" / "good"
END = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> str:
    db = str(tmp_path_factory.mktemp("seed") / "seed.duckdb")
    generate(db, jobs=18, days=4, workspaces=2, seed=11, end=END)
    return db


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_export_then_load_gives_identical_tables(seeded, tmp_path, fmt):
    paths = export_dir(seeded, tmp_path / "export", fmt)
    assert sorted(p.name for p in paths) == sorted(f"{t.full_name}.{fmt}" for t in schema.TABLES)
    fresh = str(tmp_path / "fresh.duckdb")
    rows = load_dir(tmp_path / "export", fresh)
    assert rows == row_counts(seeded)
    assert differing_tables(seeded, fresh) == []


def test_jsonl_writes_iso_utc_timestamps_and_json_maps(seeded, tmp_path):
    export_dir(seeded, tmp_path, "jsonl")
    first = json.loads((tmp_path / "system.lakeflow.jobs.jsonl").read_text().splitlines()[0])
    assert first["change_time"].endswith("Z") and "T" in first["change_time"]
    assert isinstance(first["tags"], dict) and "team" in first["tags"]


def test_hand_written_jsonl_loads_nested_values_and_converts_offsets_to_utc(tmp_path, caplog):
    db = str(tmp_path / "x.duckdb")
    rows = load_dir(GOOD, db)
    assert rows["system.lakeflow.jobs"] == 3 and rows["system.billing.usage"] == 2
    assert rows["system.compute.clusters"] == 0  # absent tables stay empty
    assert "some_future_column" in caplog.text  # extra columns: warned, ignored
    con = open_db(db, read_only=True)
    jobs = con.execute("""
        SELECT workspace_id, job_id, name, change_time, tags['team'],
               trigger.schedule.quartz_cron_expression, health_rules[1].value
        FROM lakeflow.jobs ORDER BY change_time, workspace_id""").fetchall()  # fmt: skip
    usage = con.execute("SELECT sum(usage_quantity), max(usage_quantity), "
                        "max(usage_metadata.cluster_id) FROM billing.usage").fetchall()  # fmt: skip
    con.close()
    assert jobs[0][:3] == ("2222", "42", "other job, same id")  # numeric ids become strings
    assert jobs[1] == ("1111", "42", "nightly_sales", datetime(2026, 3, 1, 2, 0), "analytics",
                       "0 0 3 * * ?", 9000)  # fmt: skip
    assert jobs[2][3] == datetime(2026, 3, 2, 2, 30)  # 04:30+02:00 is 02:30 UTC
    assert usage == [(Decimal(0), Decimal("12.345678901234567891"), "0301-030000-abcdefgh")]


def _copy_good(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(GOOD, folder)
    return folder


def _edit_line(path: Path, line: int, **changes) -> None:
    lines = path.read_text().splitlines()
    obj = json.loads(lines[line - 1])
    for k, v in changes.items():
        if v is ...:
            obj.pop(k, None)
        else:
            obj[k] = v
    lines[line - 1] = json.dumps(obj)
    path.write_text("\n".join(lines) + "\n")


def test_unknown_table_file_is_named(tmp_path):
    folder = _copy_good(tmp_path)
    (folder / "system.lakeflow.jobz.jsonl").write_text("{}\n")
    with pytest.raises(LoadError, match=r"system\.lakeflow\.jobz\.jsonl: unknown table"):
        load_dir(folder, str(tmp_path / "x.duckdb"))


def test_missing_required_column_names_file_and_column(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(pa.table({"workspace_id": ["1"], "name": ["x"], "change_time": ["2026-01-01"]}),
                   folder / "system.lakeflow.jobs.parquet")  # fmt: skip
    with pytest.raises(LoadError) as e:
        load_dir(folder, str(tmp_path / "x.duckdb"))
    assert str(e.value) == "system.lakeflow.jobs.parquet: missing required column 'job_id'"


def test_bad_timestamp_names_file_line_and_column(tmp_path):
    folder = _copy_good(tmp_path)
    usage = folder / "system.billing.usage.jsonl"
    _edit_line(usage, 2, usage_end_time="yesterday at noon")
    with pytest.raises(LoadError) as e:
        load_dir(folder, str(tmp_path / "x.duckdb"))
    msg = str(e.value)
    assert msg.startswith("system.billing.usage.jsonl: line 2, column usage_end_time:")
    assert "'yesterday at noon' is not an ISO 8601 timestamp" in msg


def test_line_numbers_count_blank_lines(tmp_path):
    folder = _copy_good(tmp_path)
    # Line 4 of the jobs file follows a blank line 3.
    _edit_line(folder / "system.lakeflow.jobs.jsonl", 4, change_time="2026-13-01T00:00:00Z")
    with pytest.raises(
        LoadError, match=r"system\.lakeflow\.jobs\.jsonl: line 4, column change_time"
    ):
        load_dir(folder, str(tmp_path / "x.duckdb"))


def test_null_in_required_column_names_file_line_and_column(tmp_path):
    folder = _copy_good(tmp_path)
    _edit_line(folder / "system.lakeflow.jobs.jsonl", 2, job_id=None)
    with pytest.raises(LoadError) as e:
        load_dir(folder, str(tmp_path / "x.duckdb"))
    assert str(e.value) == (
        "system.lakeflow.jobs.jsonl: line 2, column job_id: NULL in a required column"
    )


def test_null_in_required_parquet_column_names_the_row(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(
        pa.table({"node_type": ["a", "b", None], "core_count": [4.0, 8.0, 16.0]}),
        folder / "system.compute.node_types.parquet",
    )
    with pytest.raises(LoadError, match=r"node_types\.parquet: row 3, column node_type: NULL"):
        load_dir(folder, str(tmp_path / "x.duckdb"))


def test_wrong_type_inside_a_nested_value_names_the_field(tmp_path):
    folder = _copy_good(tmp_path)
    _edit_line(folder / "system.lakeflow.jobs.jsonl", 1, trigger={"continuous": {"enabled": "yes"}})
    with pytest.raises(LoadError) as e:
        load_dir(folder, str(tmp_path / "x.duckdb"))
    assert str(e.value).startswith(
        "system.lakeflow.jobs.jsonl: line 1, column trigger.continuous.enabled: expected true or false"
    )


def test_parquet_with_string_timestamps_is_converted_or_rejected_by_row(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good = {"workspace_id": ["1", "1"], "job_id": ["5", "6"],
            "change_time": ["2026-01-01T00:00:00Z", "2026-01-02T05:00:00+05:00"]}  # fmt: skip
    pq.write_table(pa.table(good), folder / "system.lakeflow.jobs.parquet")
    db = str(tmp_path / "x.duckdb")
    assert load_dir(folder, db)["system.lakeflow.jobs"] == 2
    con = open_db(db, read_only=True)
    assert con.execute("SELECT max(change_time) FROM lakeflow.jobs").fetchone()[0] == datetime(
        2026, 1, 2, 0, 0
    )
    con.close()
    bad = dict(good, change_time=["2026-01-01T00:00:00Z", "not a time"])
    pq.write_table(pa.table(bad), folder / "system.lakeflow.jobs.parquet")
    with pytest.raises(LoadError, match=r"jobs\.parquet: row 2, column change_time"):
        load_dir(folder, db)


def test_nothing_is_half_loaded_after_an_error(seeded, tmp_path):
    db = str(tmp_path / "keep.duckdb")
    shutil.copy(seeded, db)
    before = row_counts(db)
    folder = _copy_good(tmp_path)  # jobs file is fine; the usage file is broken
    _edit_line(folder / "system.billing.usage.jsonl", 2, usage_quantity="lots")
    with pytest.raises(LoadError, match=r"line 2, column usage_quantity: expected a decimal"):
        load_dir(folder, db)
    assert row_counts(db) == before
    assert differing_tables(db, seeded) == []


def test_load_and_export_commands_print_counts(seeded, tmp_path, capsys):
    assert main(["export", str(tmp_path / "e"), "--db", seeded, "--format", "jsonl"]) == 0
    assert main(["load", str(tmp_path / "e"), "--db", str(tmp_path / "n.duckdb")]) == 0
    out = capsys.readouterr().out
    assert f"wrote {len(schema.TABLES)} files" in out
    assert "system.billing.usage" in out and "loaded" in out


def test_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(LoadError, match="not a folder"):
        load_dir(tmp_path / "nope", str(tmp_path / "x.duckdb"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(LoadError, match="no table files"):
        load_dir(tmp_path / "empty", str(tmp_path / "x.duckdb"))


def test_two_files_for_one_table_or_a_stray_file_are_errors(tmp_path):
    folder = _copy_good(tmp_path)
    pq.write_table(pa.table({"workspace_id": ["1"]}), folder / "system.billing.usage.parquet")
    with pytest.raises(LoadError, match=r"system\.billing\.usage is also given by"):
        load_dir(folder, str(tmp_path / "x.duckdb"))
    (folder / "system.billing.usage.parquet").unlink()
    (folder / "notes.txt").write_text("hello")
    with pytest.raises(LoadError, match=r"notes\.txt: not a table file"):
        load_dir(folder, str(tmp_path / "x.duckdb"))
