"""Databricks SQL → DuckDB SQL for the embedded warehouse. sqlglot does most of the dialect
work; the AST rewrites here fix what it gets wrong or what DuckDB cannot run (each is tested on
its own in tests/warehouse/test_wh_transpile.py). The query text itself never changes: on a
SQL warehouse (and in the Spark conformance suite) it runs as written."""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from bot.warehouse import schema
from bot.warehouse.sql import Query

# Names whose values are timestamps: every TIMESTAMP column of the system tables, plus
# our own convention for derived columns (they end in _time). Used to spot interval
# arithmetic, since sqlglot does not know the column types of a CTE.
_TS_SUFFIXES = ("_time",)


@cache
def _timestamp_columns() -> frozenset[str]:
    return frozenset(c.name for t in schema.TABLES for c in t.columns if c.type == "TIMESTAMP")


_TRUNC_UNITS = {
    "YEAR": "year", "YYYY": "year", "YY": "year",
    "QUARTER": "quarter",
    "MONTH": "month", "MM": "month", "MON": "month",
    "WEEK": "week",
    "DAY": "day", "DD": "day",
    "HOUR": "hour", "MINUTE": "minute", "SECOND": "second",
}  # fmt: skip


def _is_timestamp(node: exp.Expression, ts_params: frozenset[str]) -> bool:
    if isinstance(node, exp.Paren):
        return _is_timestamp(node.this, ts_params)
    if isinstance(node, exp.Column):
        return node.name in _timestamp_columns() or node.name.endswith(_TS_SUFFIXES)
    if isinstance(node, exp.Placeholder):
        return node.name in ts_params
    if isinstance(node, exp.Cast):
        return node.to.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ)
    if isinstance(node, exp.Max | exp.Min | exp.Coalesce | exp.Greatest | exp.Least):
        return _is_timestamp(node.this, ts_params)
    return isinstance(node, exp.CurrentTimestamp)


def _interval_casts(node: exp.Expression, ts_params: frozenset[str]) -> exp.Expression:
    """CAST(ts - ts AS LONG) is seconds in Databricks; DuckDB can neither cast an INTERVAL to
    BIGINT nor SUM intervals, so every timestamp difference inside the cast becomes
    EPOCH(difference) (seconds), truncated like Databricks' cast."""
    if not (isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.INTEGER_TYPES)):
        return node
    changed = False

    def fix(sub: exp.Expression) -> exp.Expression:
        nonlocal changed
        if (
            isinstance(sub, exp.Sub)
            and _is_timestamp(sub.this, ts_params)
            and _is_timestamp(sub.expression, ts_params)
        ):
            changed = True
            return exp.Anonymous(this="EPOCH", expressions=[sub.copy()])
        return sub

    inner = node.this.transform(fix, copy=True)
    if not changed:
        return node
    return exp.Cast(this=exp.Anonymous(this="TRUNC", expressions=[inner]), to=node.to)


def _rewrite(node: exp.Expression, ts_params: frozenset[str]) -> exp.Expression:
    # Three-part names: DuckDB reserves the catalog `system`; the tables live as lakeflow.jobs.
    if isinstance(node, exp.Table) and node.catalog.lower() == "system":
        node = node.copy()
        node.set("catalog", None)
        return node
    # Databricks percentile() interpolates; DuckDB QUANTILE is discrete.
    if isinstance(node, exp.Quantile):
        return exp.Anonymous(this="QUANTILE_CONT", expressions=[node.this, node.args["quantile"]])
    # timestampdiff counts whole elapsed units; DuckDB DATE_DIFF counts boundaries crossed.
    if isinstance(node, exp.TimestampDiff):
        unit = node.unit.name if node.unit else "SECOND"
        return exp.Anonymous(
            this="DATE_SUB",
            expressions=[exp.Literal.string(unit.lower()), node.expression, node.this],
        )
    # unix_timestamp(ts) on a TIMESTAMP: seconds since epoch, no string parsing.
    if (
        isinstance(node, exp.StrToUnix)
        and node.this is not None
        and _is_timestamp(node.this, ts_params)
    ):
        return exp.Cast(
            this=exp.Anonymous(this="EPOCH", expressions=[node.this]),
            to=exp.DataType.build("BIGINT"),
        )
    # count_if over no rows is 0 in Databricks but NULL in DuckDB (it is a SUM there).
    if isinstance(node, exp.CountIf):
        return exp.Count(this=exp.Case(ifs=[exp.If(this=node.this, true=exp.Literal.number(1))]))
    if isinstance(node, exp.Anonymous) and node.name.upper() == "TIMESTAMP_MILLIS":
        return exp.Anonymous(this="EPOCH_MS", expressions=node.expressions)
    # Databricks weekday(): 0 = Monday; DuckDB's WEEKDAY is 0 = Sunday.
    if isinstance(node, exp.Anonymous) and node.name.upper() == "WEEKDAY":
        return exp.Paren(
            this=exp.Sub(
                this=exp.Anonymous(this="ISODOW", expressions=node.expressions),
                expression=exp.Literal.number(1),
            )
        )
    # Databricks dayofweek(): 1 = Sunday .. 7; DuckDB's is 0 = Sunday .. 6.
    if isinstance(node, exp.DayOfWeek):
        return exp.Paren(this=exp.Add(this=node.copy(), expression=exp.Literal.number(1)))
    # trunc(d, 'MM') / date_trunc('MM', ts): DuckDB only knows spelled-out units.
    if isinstance(node, exp.DateTrunc | exp.TimestampTrunc):
        trunc = node.args.get("unit")
        if trunc is not None and trunc.name.upper() in _TRUNC_UNITS:
            return exp.Anonymous(
                this="DATE_TRUNC",
                expressions=[exp.Literal.string(_TRUNC_UNITS[trunc.name.upper()]), node.this],
            )
    # Databricks TIMESTAMP is an instant; sqlglot maps it to TIMESTAMPTZ, but the embedded
    # tables hold naive UTC TIMESTAMPs, and mixing the two would depend on the session zone.
    if isinstance(node, exp.DataType) and node.is_type(exp.DataType.Type.TIMESTAMPTZ):
        return exp.DataType.build("TIMESTAMP")
    if isinstance(node, exp.Cast):
        return _interval_casts(node, ts_params)
    return node


@cache
def to_duckdb(text: str, ts_params: frozenset[str] = frozenset()) -> str:
    """Transpile one Databricks SQL statement to DuckDB. ``ts_params`` names the TIMESTAMP
    parameters (so `:now - start_time` is recognised as interval arithmetic)."""
    parsed = sqlglot.parse_one(text, read="databricks", error_level=ErrorLevel.RAISE)
    assert isinstance(parsed, exp.Expression)
    tree = _bottom_up(parsed, ts_params)
    return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE, comments=False)


def _bottom_up(node: exp.Expression, ts_params: frozenset[str]) -> exp.Expression:
    # Children first, so a rewritten node is never visited again (no double rewrites) and
    # the nodes a rewrite moves into its replacement are already fixed.
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _bottom_up(value, ts_params))
        elif isinstance(value, list):
            node.set(
                key,
                [_bottom_up(v, ts_params) if isinstance(v, exp.Expression) else v for v in value],
            )
    return _rewrite(node, ts_params)


def duckdb_sql(query: Query) -> str:
    ts = frozenset(p.name for p in query.params if p.type == "TIMESTAMP")
    return to_duckdb(query.text, ts)
