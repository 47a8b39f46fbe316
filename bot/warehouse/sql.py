"""The query files: find `queries/*.sql` by name, parse their header comment (params and
columns), and check the values bound to a query's params. Their Databricks SQL is the source of
truth; `bot.warehouse.transpile` turns it into DuckDB SQL for the embedded warehouse.

Header format (every query file opens with it)::

    -- name_of_query: one line saying what it answers.
    -- More lines of explanation (optional).
    -- Params:
    --   :now TIMESTAMP  the injected clock (UTC)
    --   :workspace_id STRING?  a trailing ? means NULL is allowed
    -- Columns:
    --   workspace_id STRING  ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bot.clock import as_utc

PARAM_TYPES = frozenset({"TIMESTAMP", "DATE", "STRING", "INT", "DOUBLE", "BOOLEAN"})
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PARAM_RE = re.compile(
    r"^:(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>[A-Z]+)(?P<null>\?)?\s*(?P<doc>.*)$"
)
_COL_RE = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)\s+(?P<type>[A-Z]+)\s*(?P<doc>.*)$")


class QueryFileError(ValueError):
    """A query file is missing or its header is malformed (a bug in the repo, not user input)."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # one of PARAM_TYPES
    nullable: bool
    doc: str


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str


@dataclass(frozen=True)
class Query:
    name: str
    summary: str
    params: tuple[Param, ...]
    columns: tuple[Column, ...]
    text: str  # Databricks SQL, exactly as in the file

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def queries_dir() -> Path:
    """`queries/` at the repo root when running from source; `bot/_queries` in a wheel."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "queries", here.parents[1] / "_queries"):
        if candidate.is_dir():
            return candidate
    raise QueryFileError("cannot find the queries/ folder")


def query_names() -> list[str]:
    return sorted(p.stem for p in queries_dir().glob("*.sql"))


@cache
def load(name: str) -> Query:
    """Load and parse one query file by name (cached: the files ship with the code)."""
    if not _NAME_RE.match(name):
        raise QueryFileError(f"{name!r} is not a query name")
    path = queries_dir() / f"{name}.sql"
    if not path.is_file():
        raise QueryFileError(f"no query named {name!r}")
    return parse_header(name, path.read_text(encoding="utf-8"))


def parse_header(name: str, text: str) -> Query:
    comment: list[str] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        comment.append(line[2:].strip())
    if not comment or not comment[0].startswith(f"{name}:"):
        raise QueryFileError(f"{name}.sql must open with '-- {name}: <what it answers>'")
    summary = comment[0].split(":", 1)[1].strip()
    params: list[Param] = []
    columns: list[Column] = []
    section = None
    for line in comment[1:]:
        if line in ("Params:", "Columns:"):
            section = line
            continue
        if section == "Params:" and line.startswith(":"):
            m = _PARAM_RE.match(line)
            if not m or m["type"] not in PARAM_TYPES:
                raise QueryFileError(f"{name}.sql: bad param line {line!r}")
            params.append(Param(m["name"], m["type"], bool(m["null"]), m["doc"].strip()))
        elif section == "Columns:" and line:
            m = _COL_RE.match(line)
            if not m:
                raise QueryFileError(f"{name}.sql: bad column line {line!r}")
            columns.append(Column(m["name"], m["type"], m["doc"].strip()))
    used = set(re.findall(r"(?<![:\w]):([a-z_][a-z0-9_]*)", _strip_comments(text)))
    declared = {p.name for p in params}
    if used != declared:
        raise QueryFileError(
            f"{name}.sql: params used {sorted(used)} but declared {sorted(declared)}"
        )
    if not columns:
        raise QueryFileError(f"{name}.sql: the header lists no Columns")
    return Query(name, summary, tuple(params), tuple(columns), text)


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


# --- Databricks SQL -> DuckDB -------------------------------------------------------------


# --- parameter checking (shared by both backends) -----------------------------------------

_PY_TYPES: dict[str, tuple[type, ...]] = {
    "TIMESTAMP": (datetime,),
    "DATE": (date,),
    "STRING": (str,),
    "INT": (int,),
    "DOUBLE": (int, float),
    "BOOLEAN": (bool,),
}


def check_params(query: Query, params: Mapping[str, Any]) -> dict[str, Any]:
    """Exactly the declared params, of the declared types; TIMESTAMPs as aware UTC datetimes.
    Raises ValueError naming the param (callers turn it into a UserError where useful)."""
    extra = set(params) - {p.name for p in query.params}
    if extra:
        raise ValueError(f"{query.name}: unknown param(s) {', '.join(sorted(extra))}")
    out: dict[str, Any] = {}
    for p in query.params:
        if p.name not in params:
            raise ValueError(f"{query.name}: missing param :{p.name} ({p.type})")
        value = params[p.name]
        if value is None:
            if not p.nullable:
                raise ValueError(f"{query.name}: param :{p.name} must not be NULL")
        elif p.type == "DATE" and isinstance(value, datetime):
            raise ValueError(f"{query.name}: param :{p.name} wants a date, not a datetime")
        elif (p.type in ("INT", "DOUBLE") and isinstance(value, bool)) or not isinstance(
            value, _PY_TYPES[p.type]
        ):
            raise ValueError(
                f"{query.name}: param :{p.name} wants {p.type}, got {type(value).__name__}"
            )
        elif p.type == "TIMESTAMP" and isinstance(value, datetime):
            value = as_utc(value)
        out[p.name] = value
    return out
