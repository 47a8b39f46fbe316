"""`jobs-bot query NAME`: run any named query from the terminal against a warehouse file, with
friendly params (`window=24h`) and `now` from `--at`, printed as a table or JSON."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from bot.cli.ask import DEFAULT_DB
from bot.clock import SystemClock, parse_instant
from bot.errors import UserError
from bot.grammar import parse_span
from bot.warehouse import open_warehouse, sql
from bot.warehouse.queries import IDLE_CPU_PERCENT

# Used when the user does not give the param; everything else is required.
_DEFAULTS: dict[str, Any] = {
    "limit": 10,
    "days": 14,
    "include_deleted": False,
    "group_by": "job",
    "idle_cpu_percent": IDLE_CPU_PERCENT,  # the config's default (cost.idle_cpu_percent)
}
_CELL = 48  # table cells longer than this are cut, so one long error message stays readable


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("query", help="run a named query (see --list)")
    s.add_argument("name", nargs="?")
    s.add_argument("--list", action="store_true", help="list the queries and their params")
    s.add_argument("--param", action="append", default=[], metavar="K=V")
    s.add_argument("--at", default=None, help="ISO time to treat as now")
    s.add_argument("--db", default=DEFAULT_DB)
    s.add_argument("--format", choices=["table", "json"], default="table")
    s.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return query_command(
        name=args.name,
        list_only=args.list,
        params=args.param,
        at=args.at,
        db=args.db,
        fmt=args.format,
    )


def parse_window(text: str) -> timedelta:
    span = parse_span(text)
    if span is None:
        raise UserError(f"window {text!r} is not like 30m, 6h, 24h, 7d or 30d")
    return span


def _convert(query: sql.Query, name: str, text: str) -> Any:
    p = query.param(name)
    assert p is not None
    if p.nullable and text.lower() in ("", "null", "none"):
        return None
    try:
        if p.type == "TIMESTAMP":
            return parse_instant(text)
        if p.type == "DATE":
            return date.fromisoformat(text.strip())
        if p.type == "INT":
            return int(text)
        if p.type == "DOUBLE":
            return float(text)
        if p.type == "BOOLEAN":
            low = text.strip().lower()
            if low in ("true", "yes", "1"):
                return True
            if low in ("false", "no", "0"):
                return False
            raise ValueError(text)
    except ValueError:
        example = {"TIMESTAMP": "2026-03-02T09:00Z", "DATE": "2026-03-02", "INT": "10",
                   "DOUBLE": "1.5", "BOOLEAN": "true"}[p.type]  # fmt: skip
        raise UserError(f"--param {name}={text!r}: expected a {p.type} like {example}") from None
    return text


def build_params(query: sql.Query, raw: list[str], now: datetime) -> dict[str, Any]:
    """Turn `k=v` strings into the query's typed params, filling now/until/prev_since/day."""
    given: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--param {item!r}: expected KEY=VALUE")
        given[key] = value
    names = {p.name for p in query.params}
    params: dict[str, Any] = {}
    if "window" in given:
        if "since" not in names:
            raise UserError(f"{query.name} has no time window (its params: {_plist(query)})")
        params["since"] = now - parse_window(given.pop("window"))
    for key, value in given.items():
        if key not in names:
            hint = difflib.get_close_matches(key, sorted(names) + ["window"], n=1)
            more = f" (did you mean {hint[0]}?)" if hint else ""
            raise UserError(f"{query.name} has no param {key!r}{more}; params: {_plist(query)}")
        params[key] = _convert(query, key, value)
    if "now" in names:
        params.setdefault("now", now)
    if "until" in names:
        params.setdefault("until", now)
    if "day" in names:
        params.setdefault("day", now.date())
    if "since" in names and "since" not in params:
        params["since"] = now - timedelta(hours=24)
    if "prev_since" in names and "prev_since" not in params:
        params["prev_since"] = params["since"] - (params["until"] - params["since"])
    for p in query.params:
        if p.name in params:
            continue
        if p.name in _DEFAULTS:
            params[p.name] = _DEFAULTS[p.name]
        elif p.nullable:
            params[p.name] = None
        else:
            raise UserError(
                f"{query.name} needs --param {p.name}=<{p.type}> ({p.doc or 'required'})"
            )
    return params


def _plist(query: sql.Query) -> str:
    return ", ".join(p.name for p in query.params) or "none"


def list_queries(out: TextIO) -> None:
    for name in sql.query_names():
        q = sql.load(name)
        print(f"{name}: {q.summary}", file=out)
        for p in q.params:
            null = " (optional)" if p.nullable else ""
            print(f"    {p.name} {p.type}{null}  {p.doc}".rstrip(), file=out)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value).replace("\n", " ")
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def format_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[_cell(r[c]) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def query_command(
    *,
    name: str | None,
    list_only: bool,
    params: list[str],
    at: str | None,
    db: str,
    fmt: str,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    if list_only:
        list_queries(out)
        return 0
    names = sql.query_names()
    if not name:
        raise UserError("which query? give a NAME, or --list to see them: " + ", ".join(names))
    if name not in names:
        hint = difflib.get_close_matches(name, names, n=1)
        more = f" Did you mean {hint[0]}?" if hint else ""
        raise UserError(f"no query named {name!r}.{more} (jobs-bot query --list)")
    try:
        now = parse_instant(at) if at else SystemClock().now()
    except ValueError as e:
        raise UserError(f"--at: {e}") from None
    query = sql.load(name)
    values = build_params(query, params, now)
    if not Path(db).is_file():
        raise UserError(f"no warehouse file at {db}; run `jobs-bot seed --db {db}` first")
    wh = open_warehouse(db)
    try:
        rows = wh.run(name, values)
    except ValueError as e:
        raise UserError(str(e)) from None
    finally:
        wh.close()
    columns = [c.name for c in query.columns]
    if fmt == "json":
        print(json.dumps(rows, default=_json_default, indent=2), file=out)
    else:
        print(format_table(rows, columns), file=out)
    return 0
