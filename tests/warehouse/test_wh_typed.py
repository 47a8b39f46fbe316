"""The typed read path: rows become bot.models dataclasses, and a row that does not have the
model's shape (a renamed column, a NULL where the model has no None) fails at the boundary."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot import models
from bot.warehouse import queries
from bot.warehouse.queries import RowShapeError, to_model

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
MATCH = {
    "workspace_id": "1",
    "job_id": "100",
    "name": "nightly_sales",
    "match_kind": "exact",
    "score": 1,
    "deleted": 0,
    "owner": None,
    "workspace_name": "prod",
}


class Rows:
    """A warehouse that answers every query with the given rows."""

    def __init__(self, *rows: dict[str, Any]) -> None:
        self.rows = list(rows)

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]

    def close(self) -> None:
        pass


def test_a_row_becomes_its_model_with_python_types() -> None:
    (match,) = queries.job_lookup(Rows(MATCH), "nightly")
    assert match == models.JobMatch(
        "1", "100", "nightly_sales", models.MatchKind.EXACT, 1.0, False, None, "prod"
    )
    assert isinstance(match.score, float) and match.match_kind is models.MatchKind.EXACT


def test_a_renamed_column_fails_loudly_naming_the_query_and_column() -> None:
    renamed = {k if k != "match_kind" else "kind": v for k, v in MATCH.items()}
    with pytest.raises(RowShapeError, match=r"JobMatch from job_lookup: no column 'match_kind'"):
        queries.job_lookup(Rows(renamed), "nightly")


def test_null_where_the_model_allows_none_is_none_and_elsewhere_an_error() -> None:
    assert to_model(models.JobMatch, {**MATCH, "name": None}).name is None
    with pytest.raises(RowShapeError, match="column 'job_id' is NULL"):
        to_model(models.JobMatch, {**MATCH, "job_id": None})


def test_a_one_row_query_insists_on_one_row() -> None:
    with pytest.raises(RowShapeError, match="job_cost returned 0 rows"):
        queries.job_cost(Rows(), models.JobKey("1", "100"), now=NOW)


def test_money_stays_decimal_and_lists_become_tuples() -> None:
    row = {f: 0 for f in ("runs", "repaired_runs", "failed_runs", "baseline_days_with_cost")}
    row |= {f: 1.5 for f in ("baseline_median", "baseline_mad", "weekday_median")}
    row |= {"expected_cost": 2.0, "robust_z": None, "baseline_runs": 1.0}
    row |= {"baseline_repaired_runs": 0.0}
    row |= {"avg_duration_seconds": None, "baseline_avg_duration_seconds": None}
    row |= {"workspace_id": "1", "job_id": "2", "name": None, "owner": None, "cost": "12.30"}
    row |= {"new_skus": "A, B", "new_node_types": ""}
    (c,) = queries.cost_anomaly_candidates(Rows(row), day=NOW.date())
    assert c.cost == Decimal("12.30") and c.new_skus == ("A", "B") and c.new_node_types == ()
