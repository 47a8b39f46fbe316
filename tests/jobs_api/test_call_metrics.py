"""Every Jobs API call is counted by workspace and outcome for /metrics (the real client
against the local Databricks, the bot's own Prometheus registry)."""

from __future__ import annotations

import pytest

from bot.metrics import Metrics
from bot.models import RunNotFound
from sandbox.databricks import LocalDatabricks, World
from tests.support.jobs_api import make_api


def test_calls_are_counted_by_workspace_and_outcome(server: LocalDatabricks, world: World) -> None:
    ws = world.add_workspace("prod-emea", 4321)
    api = make_api(server, ws.workspace_id)
    metrics = Metrics()
    api.on_call = metrics.jobs_api_call
    api.list_runs(str(ws.workspace_id), active_only=True)
    with pytest.raises(RunNotFound):
        api.get_run(str(ws.workspace_id), "999999")
    labels = {"workspace": str(ws.workspace_id)}
    text = metrics.render().decode()
    assert "jobs_api" in text
    ok = metrics.value("jobs_bot_jobs_api_calls_total", {**labels, "outcome": "ok"})
    missing = metrics.value("jobs_bot_jobs_api_calls_total", {**labels, "outcome": "not_found"})
    assert (ok, missing) == (1.0, 1.0)
