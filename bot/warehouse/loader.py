"""Getting rows into the embedded warehouse: opening a database file, the batch writer the demo
generator hands its rows to, and `jobs-bot load` (a folder with one file per system table).

Loading is validate-then-write: every file is read and converted to the table's exact Arrow
types first, so a bad file is reported (file, row, column) before anything changes; then all
tables are replaced inside one transaction, so an error never leaves a half-loaded database.

Unknown extra columns (and extra fields inside structs) are ignored with a warning on stderr,
not rejected: Databricks adds columns to system tables over time (``usage_metadata`` already
has about 50 fields), and an export of a newer workspace should still load.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bot.errors import UserError
from bot.warehouse import schema
from bot.warehouse.duckdb_backend import open_db
from bot.warehouse.load_values import BadValue, converter

FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}

log = logging.getLogger(__name__)


class LoadError(UserError):
    """A file in the folder cannot be loaded; the message names file, row and column."""


def arrow_schemas() -> dict[str, pa.Schema]:
    """The exact Arrow schema of every system table, as DuckDB maps our DDL."""
    con = open_db(None)
    try:
        return {
            t.full_name: con.sql(f"SELECT * FROM {t.local_name} LIMIT 0").to_arrow_table().schema
            for t in schema.TABLES
        }
    finally:
        con.close()


# --- the writer the demo generator uses ------------------------------------------------------


def _column_array(values: list[Any], typ: pa.DataType) -> pa.Array:
    """Build one column. Timestamps may be given as int epoch seconds and dates as int days since
    1970-01-01: the generator works in integers because creating millions of datetime objects
    dominates its run time. Decimals may be strings, so quantities stay exact."""
    first = next((v for v in values if v is not None), None)
    if pa.types.is_timestamp(typ) and isinstance(first, int):
        secs = pa.array(values, pa.int64())
        return pc.multiply(secs, 1_000_000).cast(typ)
    if pa.types.is_date32(typ) and isinstance(first, int):
        return pa.array(values, pa.int32()).cast(typ)
    if pa.types.is_decimal(typ) and isinstance(first, str):
        return pa.array(values, pa.string()).cast(typ)
    return pa.array(values, typ)


class TableWriter:
    """Appends column batches to the system tables of one open connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._schemas = arrow_schemas()
        self.rows: dict[str, int] = {t.full_name: 0 for t in schema.TABLES}

    def append(self, full_name: str, columns: Mapping[str, list[Any]]) -> int:
        """Insert one batch; columns not given are NULL. Returns the number of rows written."""
        target = self._schemas[full_name]
        arrays = {
            name: _column_array(vals, target.field(name).type) for name, vals in columns.items()
        }
        return self.append_arrow(full_name, pa.table(arrays))

    def append_arrow(self, full_name: str, table: pa.Table) -> int:
        """Insert an Arrow table whose columns are a subset of the table's, in its types."""
        n = table.num_rows
        if n == 0:
            return 0
        target = self._schemas[full_name]
        given = set(table.column_names)
        full = pa.Table.from_arrays(
            [table.column(f.name) if f.name in given else pa.nulls(n, f.type) for f in target],
            schema=target,
        )
        self._con.from_arrow(full).insert_into(schema.BY_NAME[full_name].local_name)
        self.rows[full_name] += n
        return int(n)


@contextmanager
def replacing_writer(db_path: str | None) -> Iterator[TableWriter]:
    """A writer whose batches replace every system table of ``db_path`` atomically: the old
    contents disappear only when the whole write commits."""
    con = open_db(db_path)
    try:
        con.execute("BEGIN TRANSACTION")
        for t in schema.TABLES:
            con.execute(f"DELETE FROM {t.local_name}")
        writer = TableWriter(con)
        yield writer
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


# --- loading a folder ------------------------------------------------------------------------


def _table_for(path: Path) -> tuple[str, str]:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LoadError(
            f"{path.name}: not a table file (expected <table>.parquet or <table>.jsonl, "
            "e.g. system.lakeflow.jobs.parquet)"
        )
    name = path.name[: -len(path.suffix)]
    if name not in schema.BY_NAME:
        known = ", ".join(t.full_name for t in schema.TABLES)
        raise LoadError(f"{path.name}: unknown table {name!r} (known tables: {known})")
    return name, fmt


def _warn(message: str) -> None:
    # A skipped stray file or a duplicate is worth telling the operator, not worth failing for.
    log.warning("%s", message)


def _read_jsonl(path: Path) -> tuple[list[str], dict[str, list[Any]], list[int]]:
    """Rows of a JSON Lines file as raw columns, plus each row's 1-based line number."""
    columns: dict[str, list[Any]] = {}
    lines: list[int] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_float=_decimal)
            except json.JSONDecodeError as e:
                raise LoadError(f"{path.name}: line {lineno}: not valid JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise LoadError(f"{path.name}: line {lineno}: expected a JSON object per line")
            n = len(lines)
            for key, value in obj.items():
                col = columns.get(key)
                if col is None:
                    col = columns[key] = [None] * n
                col.append(value)
            lines.append(lineno)
            for col in columns.values():
                if len(col) == n:  # key absent on this line
                    col.append(None)
    return list(columns), columns, lines


def _decimal(text: str) -> Decimal:
    # JSON numbers are parsed exactly: usage_quantity is DECIMAL(38,18) and retractions must
    # negate their original to the last digit.
    return Decimal(text)


def _convert_python(
    file: str, col: str, values: Sequence[Any], typ: pa.DataType, where: str, rows: list[int] | None
) -> pa.Array:
    conv = converter(typ)
    out: list[Any] = []
    for i, v in enumerate(values):
        try:
            out.append(None if v is None else conv(v))
        except BadValue as e:
            n = rows[i] if rows is not None else i + 1
            inner = f"{col}{e.path}"
            raise LoadError(f"{file}: {where} {n}, column {inner}: {e.message}") from None
    return pa.array(out, typ)


def _check_required(
    file: str,
    table: schema.Table,
    arrays: dict[str, pa.Array],
    n: int,
    rows: list[int] | None,
    where: str,
) -> None:
    for c in table.columns:
        if not c.required:
            continue
        arr = arrays.get(c.name)
        if arr is None:
            if n == 0:
                continue
            raise LoadError(f"{file}: missing required column {c.name!r}")
        if arr.null_count:
            i = pc.index(pc.is_null(arr), True).as_py()
            row = rows[i] if rows is not None else i + 1
            raise LoadError(f"{file}: {where} {row}, column {c.name}: NULL in a required column")


def _read_file(path: Path, full_name: str, fmt: str, target: pa.Schema) -> pa.Table:
    table = schema.BY_NAME[full_name]
    wanted = {f.name for f in target}
    arrays: dict[str, pa.Array] = {}
    if fmt == "jsonl":
        names, raw, rows = _read_jsonl(path)
        where, n = "line", len(rows)
        for name in names:
            if name in wanted:
                arrays[name] = _convert_python(
                    path.name, name, raw[name], target.field(name).type, where, rows
                )
    else:
        try:
            src = pq.read_table(path)
        except Exception as e:  # noqa: BLE001 - pyarrow raises several types for a broken file
            raise LoadError(f"{path.name}: cannot read Parquet ({e})") from None
        names, rows, where, n = src.column_names, None, "row", src.num_rows
        for name in names:
            if name not in wanted:
                continue
            typ = target.field(name).type
            col = src.column(name).combine_chunks()
            if col.type == typ:
                arrays[name] = col
                continue
            try:
                arrays[name] = col.cast(typ)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                # The Python path is slower but finds the row and says what is wrong with it.
                arrays[name] = _convert_python(path.name, name, col.to_pylist(), typ, where, None)
    extra = [c for c in names if c not in wanted]
    if extra:
        _warn(f"{path.name}: ignoring unknown column(s) {', '.join(extra)}")
    _check_required(path.name, table, arrays, n, rows, where)
    return pa.table(arrays) if arrays else pa.table({})


def load_dir(directory: str | Path, db_path: str | None) -> dict[str, int]:
    """Replace every system table in ``db_path`` with the files in ``directory``.

    Returns rows loaded per table (tables without a file are emptied and count 0)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise LoadError(f"{folder}: not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise LoadError(f"{folder}: no table files (expected e.g. system.lakeflow.jobs.parquet)")
    seen: dict[str, Path] = {}
    planned: list[tuple[Path, str, str]] = []
    for path in files:
        full_name, fmt = _table_for(path)
        if full_name in seen:
            raise LoadError(f"{path.name}: {full_name} is also given by {seen[full_name].name}")
        seen[full_name] = path
        planned.append((path, full_name, fmt))
    schemas = arrow_schemas()
    loaded = {full: _read_file(path, full, fmt, schemas[full]) for path, full, fmt in planned}
    with replacing_writer(db_path) as writer:
        for full_name, table in loaded.items():
            writer.append_arrow(full_name, table)
        return dict(writer.rows)


def export_dir(db_path: str, directory: str | Path, fmt: str) -> list[Path]:
    from bot.warehouse.export import export_dir as _export

    return _export(db_path, directory, fmt)
