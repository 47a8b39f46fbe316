"""Comparing two warehouse files table by table, for generator and loader tests."""

from __future__ import annotations

from bot.warehouse import schema
from bot.warehouse.loader import open_db


def differing_tables(db_a: str, db_b: str) -> list[str]:
    """Tables whose contents differ (as multisets of rows), compared inside DuckDB."""
    con = open_db(None)
    try:
        con.execute(f"ATTACH '{db_a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{db_b}' AS b (READ_ONLY)")
        out = []
        for t in schema.TABLES:
            x, y = f"a.{t.local_name}", f"b.{t.local_name}"
            diff = con.execute(
                f"SELECT (SELECT count(*) FROM (FROM {x} EXCEPT ALL FROM {y})) + "
                f"(SELECT count(*) FROM (FROM {y} EXCEPT ALL FROM {x}))"
            ).fetchone()[0]
            if diff:
                out.append(t.full_name)
        return out
    finally:
        con.close()


def row_counts(db: str) -> dict[str, int]:
    c = open_db(db, read_only=True)
    try:
        return {
            t.full_name: c.execute(f"SELECT count(*) FROM {t.local_name}").fetchone()[0]
            for t in schema.TABLES
        }
    finally:
        c.close()
