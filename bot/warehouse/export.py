"""`jobs-bot export`: write every system table of a warehouse file to a folder, one file per
table named by its full Databricks name (``system.billing.usage.parquet``), in the exact shape
`jobs-bot load` reads back.

JSON Lines files write timestamps as ISO 8601 with a ``Z`` (DuckDB's default JSON rendering has
a space and no zone, which other tools read as local time), decimals as exact JSON numbers, maps
as JSON objects and structs as objects.
"""

from __future__ import annotations

from pathlib import Path

from bot.errors import UserError
from bot.warehouse import schema

FORMATS = ("parquet", "jsonl")


def _select_list(table: schema.Table, fmt: str) -> str:
    cols = []
    for c in table.columns:
        quoted = f'"{c.name}"'
        if fmt == "jsonl" and c.type == "TIMESTAMP":
            cols.append(f"strftime({quoted}, '%Y-%m-%dT%H:%M:%S.%fZ') AS {quoted}")
        else:
            cols.append(quoted)
    return ", ".join(cols)


def export_dir(db_path: str, directory: str | Path, fmt: str) -> list[Path]:
    """Write one file per system table (empty tables give empty files) and return the paths."""
    from bot.warehouse.duckdb_backend import open_db

    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r} (use parquet or jsonl)")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    con = open_db(db_path, read_only=True)
    written: list[Path] = []
    try:
        for t in schema.TABLES:
            path = folder / f"{t.full_name}.{fmt}"
            options = "FORMAT parquet" if fmt == "parquet" else "FORMAT json"
            # Stable row order makes exports diffable and round-trip tests exact.
            sql = (
                f"COPY (SELECT {_select_list(t, fmt)} FROM {t.local_name} ORDER BY ALL) "
                f"TO '{_sql_str(path)}' ({options})"
            )
            con.execute(sql)
            written.append(path)
    finally:
        con.close()
    return written


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")
