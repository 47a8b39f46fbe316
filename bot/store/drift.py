"""Schema drift: how the live database differs from `schema.py` — tables, columns, their
nullability, primary keys and indexes. The tests use it to prove the migrations build exactly
what the queries expect; `doctor` can use it to spot a hand-edited database."""

from __future__ import annotations

from sqlalchemy import Connection, Inspector, Table, inspect

from bot.store import schema
from bot.store.database import Database


def differences(db: Database) -> list[str]:
    """One line per difference; empty when the database matches."""
    with db.transaction() as conn:
        return _compare(conn)


def _compare(conn: Connection) -> list[str]:
    inspector = inspect(conn)
    found: list[str] = []
    live_tables = set(inspector.get_table_names())
    expected = schema.metadata.tables
    found += [f"table {name} is not in schema.py" for name in sorted(live_tables - set(expected))]
    for name, table in sorted(expected.items()):
        if name not in live_tables:
            found.append(f"table {name} is missing")
            continue
        found += _compare_table(inspector, table)
    return found


def _compare_table(inspector: Inspector, table: Table) -> list[str]:
    found: list[str] = []
    live = {column["name"]: column for column in inspector.get_columns(table.name)}
    for column in table.columns:
        if column.name not in live:
            found.append(f"{table.name}.{column.name} is missing")
        elif not column.primary_key and bool(live[column.name]["nullable"]) != column.nullable:
            found.append(f"{table.name}.{column.name}: nullable differs")
    found += [
        f"{table.name}.{name} is not in schema.py"
        for name in sorted(set(live) - set(table.c.keys()))
    ]
    live_pk = inspector.get_pk_constraint(table.name)["constrained_columns"]
    if sorted(live_pk) != sorted(table.primary_key.columns.keys()):
        found.append(f"{table.name}: primary key {live_pk} differs")
    live_indexes = {
        index["name"]: (tuple(index["column_names"]), bool(index["unique"]))
        for index in inspector.get_indexes(table.name)
    }
    for index in table.indexes:
        shape = (tuple(c.name for c in index.columns), bool(index.unique))
        if live_indexes.get(index.name) != shape:
            found.append(f"{table.name}: index {index.name} is {live_indexes.get(index.name)}")
    return found
