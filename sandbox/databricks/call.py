"""Call: one authenticated API request as the route handlers see it — workspace, caller,
query and body — with the parameter parsing Databricks applies (bad values → 400).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.databricks.errors import invalid
from sandbox.databricks.workspace import DatabricksWorkspace


@dataclass
class Call:
    ws: DatabricksWorkspace
    principal: str
    now: int  # epoch ms, from the world's clock
    query: Mapping[str, str]
    body: dict[str, Any]
    path: dict[str, str] = field(default_factory=dict)
    output_limit: int = 5 * 1024 * 1024

    def _raw(self, name: str) -> object:
        return self.body[name] if name in self.body else self.query.get(name)

    def get_int(
        self, name: str, default: int | None = None, *, required: bool = False
    ) -> int | None:
        raw = self._raw(name)
        if raw is None or raw == "":
            if required:
                raise invalid(f"Missing required field: {name}")
            return default
        if isinstance(raw, bool):
            raise invalid(f"Invalid value for {name}: {raw!r}")
        try:
            return int(str(raw))
        except (TypeError, ValueError):
            raise invalid(f"Invalid value for {name}: {raw!r} is not an integer.") from None

    def need_int(self, name: str) -> int:
        value = self.get_int(name, required=True)
        assert value is not None
        return value

    def get_bool(self, name: str) -> bool:
        raw = self._raw(name)
        if raw is None or isinstance(raw, bool):
            return bool(raw)
        if str(raw).lower() in ("true", "false"):
            return str(raw).lower() == "true"
        raise invalid(f"Invalid value for {name}: {raw!r} is not a boolean.")

    def get_str(self, name: str) -> str | None:
        raw = self._raw(name)
        return None if raw is None else str(raw)


def encode_token(payload: Mapping[str, Any]) -> str:
    """Page tokens are opaque to clients, as Databricks', but readable here."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid(f"Invalid page_token: {token!r}") from None
    if not isinstance(value, dict):
        raise invalid(f"Invalid page_token: {token!r}")
    return value
