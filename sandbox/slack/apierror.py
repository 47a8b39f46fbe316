"""The Web API call context and Slack's error envelope, shared by the method modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sandbox.slack.state import State


class ApiError(Exception):
    """Answered as HTTP 200 ``{"ok": false, "error": code, **extra}``, like Slack."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, **self.extra}


def invalid_arguments(message: str) -> ApiError:
    return ApiError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})


class TriggerIds(Protocol):
    """The trigger_ids a method may exchange (sandbox.slack.views.Triggers)."""

    def exchange(self, tid: str, now: float) -> None: ...


@dataclass
class Ctx:
    """One Web API call and what a method may use to answer it."""

    state: State
    triggers: TriggerIds
    base_url: str  # where the sandbox answers, for the URLs a method hands out
    params: dict[str, Any]
    token: str | None
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers

    def get(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value in (None, "") else value

    def require(self, name: str, error: str | None = None) -> Any:
        value = self.get(name)
        if value is None:
            if error:
                raise ApiError(error)
            raise invalid_arguments(f"missing required field: {name}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true", "yes")

    def int(self, name: str, default: int) -> int:
        value = self.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise invalid_arguments(f"{name} must be an integer") from None
