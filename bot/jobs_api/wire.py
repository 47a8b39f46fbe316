"""Raw JSON calls through the SDK's ApiClient (same auth, retries and error mapping as its typed
API, without the typed objects that drop enum values they do not know)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from databricks.sdk.core import ApiClient


def getter(path: str, query: dict[str, Any]) -> Callable[[ApiClient], dict[str, Any]]:
    return lambda api: get(api, path, query)


def get(api: ApiClient, path: str, query: dict[str, Any]) -> dict[str, Any]:
    answer = api.do("GET", path, query=query)
    return answer if isinstance(answer, dict) else {}


def post(api: ApiClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.do("POST", path, body=body)
    return answer if isinstance(answer, dict) else {}
