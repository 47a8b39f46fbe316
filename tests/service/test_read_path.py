"""The service's one read path: typed queries through a guard. A warehouse failure is one clear
message with an error id logged once; a query whose columns drifted is a bug with its own id,
never a None in a message nor blamed on the warehouse."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.service.answer import Reader, WarehouseUnavailable
from bot.warehouse import queries
from bot.warehouse.queries import RowShapeError

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Broken:
    def __init__(self, error: Exception | None = None, rows: list[dict] | None = None) -> None:
        self.error, self.rows = error, rows or []

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self.error is not None:
            raise self.error
        return self.rows

    def close(self) -> None:
        pass


def test_a_warehouse_failure_is_unavailable_with_an_error_id_logged_once(caplog) -> None:
    reader = Reader(Broken(TimeoutError("statement timed out")))
    with caplog.at_level(logging.ERROR), pytest.raises(WarehouseUnavailable) as raised:
        reader.read(queries.failing_jobs, now=NOW, since=NOW)
    assert raised.value.query == "failing_jobs"
    logged = [r for r in caplog.records if raised.value.error_id in r.getMessage()]
    assert len(logged) == 1
    assert (
        "failing_jobs" in logged[0].getMessage() and "statement timed out" in logged[0].getMessage()
    )


def test_a_drifted_column_is_not_blamed_on_the_warehouse() -> None:
    reader = Reader(Broken(rows=[{"workspace_id": "1"}]))
    with pytest.raises(RowShapeError, match="failing_jobs"):
        reader.read(queries.failing_jobs, now=NOW, since=NOW)


def test_the_service_answers_a_drifted_column_with_an_error_id(demo_service, caplog) -> None:
    service = demo_service()
    real = service.reader.warehouse.inner

    class Renamed:
        def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
            rows = real.run(name, params)
            return [{("streak_len" if k == "streak" else k): v for k, v in r.items()} for r in rows]

        def close(self) -> None:
            pass

    service.reader.warehouse.inner = Renamed()
    answer = service.answer_text("failing 7d", user_id="U1")
    assert "Something went wrong on my side (error id `" in answer.text
    assert "couldn't read the Databricks system tables" not in answer.text
    error_id = answer.text.split("`")[1]
    (logged,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged.exc_info is not None and "no column 'streak'" in str(logged.exc_info[1])
