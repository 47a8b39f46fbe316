"""State normalisation at the API boundary: API spellings → system-table spellings, raw
values kept, 2.2 status first, unknown enum values never lost."""

from __future__ import annotations

from typing import Any

import pytest

from bot.jobs_api import parse_run, parse_state


def _obj(
    status: str | None = "TERMINATED",
    result: str | None = None,
    code: str | None = None,
    kind: str | None = None,
    life: str | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {"state": {}, "status": {}}
    if status:
        obj["status"]["state"] = status
    if code or kind:
        obj["status"]["termination_details"] = {"code": code, "type": kind, "message": "m"}
    if result:
        obj["state"]["result_state"] = result
    if life:
        obj["state"]["life_cycle_state"] = life
    return obj


@pytest.mark.parametrize(
    ("obj", "state"),
    [
        (_obj(result="SUCCESS", code="SUCCESS", kind="SUCCESS"), "SUCCEEDED"),
        (_obj(result="FAILED", code="RUN_EXECUTION_ERROR", kind="CLIENT_ERROR"), "FAILED"),
        # 2.2 has no timeout code: CANCELED + the legacy TIMEDOUT.
        (_obj(result="TIMEDOUT", code="CANCELED", kind="SUCCESS"), "TIMED_OUT"),
        (_obj(result="CANCELED", code="USER_CANCELED", kind="SUCCESS"), "CANCELLED"),
        (_obj(result="FAILED", code="CLUSTER_ERROR", kind="INTERNAL_ERROR"), "ERROR"),
        (_obj(status=None, life="INTERNAL_ERROR"), "ERROR"),
        (_obj(code="DRIVER_ERROR", kind="CLIENT_ERROR"), "FAILED"),  # no legacy state
        (_obj(code="SKIPPED", kind="SUCCESS"), "SKIPPED"),
        (_obj(result="UPSTREAM_FAILED"), "SKIPPED"),
        (_obj(code="SOME_NEW_CODE", kind="CLIENT_ERROR"), "FAILED"),
        (_obj(kind="NEW_TYPE"), "UNKNOWN"),
        (_obj(status="RUNNING"), "RUNNING"),
        (_obj(status="BLOCKED"), "BLOCKED"),
        (_obj(status=None, life="WAITING_FOR_RETRY"), "WAITING"),
    ],
)
def test_normalised_state(obj: dict[str, Any], state: str) -> None:
    assert parse_state(obj).state == state


def test_raw_values_are_kept_even_when_unknown() -> None:
    s = parse_state(_obj(result="BRAND_NEW", code="SOME_NEW_CODE", kind="CLIENT_ERROR"))
    assert (s.result_state, s.termination_code, s.termination_type) == (
        "BRAND_NEW",
        "SOME_NEW_CODE",
        "CLIENT_ERROR",
    )
    assert s.failed and s.ended and s.message == "m"
    run = parse_run("1", {"run_id": 5, "trigger": "MODEL", "end_time": 0}, tasks_complete=True)
    assert run.trigger == "MODEL" and run.end_time is None and run.in_progress
