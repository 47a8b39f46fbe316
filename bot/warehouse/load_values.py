"""Turning one JSON (or Arrow ``to_pylist``) value into the exact Python value a system-table
column's Arrow type accepts, or a `BadValue` saying what is wrong and where inside a nested
value. Used by the loader for JSON Lines files and for Parquet columns Arrow cannot cast."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa

Converter = Callable[[Any], Any]


class BadValue(Exception):
    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _describe(v: Any) -> str:
    text = json.dumps(v, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _to_str(v: Any) -> str:
    if isinstance(v, str):
        return v
    # IDs exported from the REST API are numbers; the system tables hold them as strings.
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    raise BadValue(f"expected a string, got {_describe(v)}")


def _to_int(v: Any) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, Decimal | float) and v == int(v):
        return int(v)
    raise BadValue(f"expected an integer, got {_describe(v)}")


def _to_float(v: Any) -> float:
    if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
        return float(v)
    raise BadValue(f"expected a number, got {_describe(v)}")


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    raise BadValue(f"expected true or false, got {_describe(v)}")


def _to_decimal(v: Any) -> Decimal:
    if isinstance(v, bool):
        raise BadValue(f"expected a number, got {_describe(v)}")
    try:
        if isinstance(v, Decimal | int | str):
            d = Decimal(v)
        elif isinstance(v, float):
            d = Decimal(repr(v))
        else:
            raise InvalidOperation
    except InvalidOperation:
        raise BadValue(f"expected a decimal number, got {_describe(v)}") from None
    if not d.is_finite():
        raise BadValue(f"expected a finite decimal number, got {_describe(v)}")
    return d


def _to_timestamp(v: Any) -> datetime:
    if isinstance(v, datetime):
        ts = v
    elif isinstance(v, str):
        try:
            ts = datetime.fromisoformat(v.strip())
        except ValueError:
            raise BadValue(
                f"{v!r} is not an ISO 8601 timestamp (e.g. 2026-03-02T09:00:00Z)"
            ) from None
    else:
        raise BadValue(f"expected an ISO 8601 timestamp string, got {_describe(v)}")
    # System tables are UTC; DuckDB would silently drop an offset, so convert here.
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo is not None else ts


def _to_date(v: Any) -> date:
    if isinstance(v, datetime):
        raise BadValue(f"expected a date, got a timestamp {v.isoformat()!r}")
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            raise BadValue(f"{v!r} is not an ISO 8601 date (e.g. 2026-03-02)") from None
    raise BadValue(f"expected an ISO 8601 date string, got {_describe(v)}")


def converter(typ: pa.DataType) -> Converter:  # non-None input
    """A function turning one JSON/Python value into what ``pa.array(..., typ)`` accepts."""
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return _to_str
    if pa.types.is_integer(typ):
        return _to_int
    if pa.types.is_floating(typ):
        return _to_float
    if pa.types.is_boolean(typ):
        return _to_bool
    if pa.types.is_decimal(typ):
        return _to_decimal
    if pa.types.is_timestamp(typ):
        return _to_timestamp
    if pa.types.is_date(typ):
        return _to_date
    if pa.types.is_map(typ):
        return _map_converter(converter(typ.key_type), converter(typ.item_type))
    if pa.types.is_struct(typ):
        return _struct_converter({f.name: converter(f.type) for f in typ})
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return _list_converter(converter(typ.value_type))
    raise NotImplementedError(f"no converter for {typ}")


def _nested(conv: Converter, v: Any, path: str) -> Any:
    try:
        return None if v is None else conv(v)
    except BadValue as e:
        raise BadValue(e.message, path + e.path) from None


def _map_converter(kconv: Converter, vconv: Converter) -> Converter:
    def conv(v: Any) -> list[tuple[Any, Any]]:
        if isinstance(v, dict):
            items = list(v.items())
        elif isinstance(v, list) and all(isinstance(p, list | tuple) and len(p) == 2 for p in v):
            items = [tuple(p) for p in v]  # Arrow's own rendering of a map
        else:
            raise BadValue(f"expected a JSON object (map), got {_describe(v)}")
        out = []
        for k, item in items:
            if k is None:
                raise BadValue("map key is null")
            out.append((kconv(k), _nested(vconv, item, f"[{k!r}]")))
        return out

    return conv


def _struct_converter(fields: dict[str, Converter]) -> Converter:
    def conv(v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise BadValue(f"expected a JSON object (struct), got {_describe(v)}")
        # Extra fields are dropped on purpose: live structs carry more fields than we model.
        return {name: _nested(f, v.get(name), f".{name}") for name, f in fields.items()}

    return conv


def _list_converter(item_conv: Converter) -> Converter:
    def conv(v: Any) -> list[Any]:
        if not isinstance(v, list | tuple):
            raise BadValue(f"expected a JSON array, got {_describe(v)}")
        return [_nested(item_conv, x, f"[{i}]") for i, x in enumerate(v)]

    return conv
