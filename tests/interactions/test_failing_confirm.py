"""The Rerun button on a `/jobs failing` row: its confirm dialog names the job, the run and,
when the answer knows them, the tasks that will run again — within Slack's 300 characters
for a confirm's text, however many or long the task names. End to end, the task names come
from the failing_jobs query (the latest run's failed tasks in job_task_run_timeline)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from bot.actions import JOBS_RERUN, decode
from bot.clock import FixedClock
from bot.config import load_config
from bot.render import Renderer
from bot.service import CommandService
from bot.warehouse.duckdb_backend import DuckDBWarehouse
from sandbox import DEMO_CONFIG
from tests.support.golden.cases import cases
from tests.support.wh_world import World
from tests.support.worlds import NOW, failed_tasks


def _confirms(tasks: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """The confirm dialogs of the golden `/jobs failing` answer, its rows given `tasks`
    (None: as the golden case has them)."""
    template, data = cases()["failing"]
    if tasks is not None:
        data = {**data, "jobs": tuple(replace(j, failed_tasks=tasks) for j in data["jobs"])}
    message = Renderer().render(template, **data)
    return [b["accessory"]["confirm"] for b in message["blocks"] if "accessory" in b]


def test_the_confirm_names_the_failed_tasks() -> None:
    first = _confirms(("load_orders", "publish"))[0]
    text = first["text"]["text"]
    assert (
        text == "Repair run 9000 of *nightly_sales*: failed tasks load_orders, publish run again."
    )


def test_one_task_is_named_in_the_singular_and_markup_in_it_is_escaped() -> None:
    text = _confirms(("<!channel>",))[0]["text"]["text"]
    assert "failed task &lt;!channel&gt; run again" in text and "<!channel>" not in text


def test_many_long_task_names_keep_the_confirm_within_slacks_limit() -> None:
    tasks = tuple(f"task_{i:02d}_" + "x" * 60 for i in range(40))
    for confirm in _confirms(tasks):
        text = confirm["text"]["text"]
        assert len(text) <= 300 and "task_00_" in text and text.endswith("run again.")


def test_without_task_names_the_confirm_says_its_failed_tasks() -> None:
    text = _confirms(())[0]["text"]["text"]
    assert text == "Repair run 9000 of *nightly_sales*: its failed tasks run again."


@pytest.fixture
def tasks_service() -> Iterator[CommandService]:
    """The real CommandService over an embedded warehouse holding the `failed_tasks` world."""
    wh = DuckDBWarehouse.open(None)
    failed_tasks(World(wh))
    try:
        yield CommandService(wh, load_config(DEMO_CONFIG), FixedClock(NOW))
    finally:
        wh.close()


def test_the_jobs_failing_answer_names_each_runs_failed_tasks_in_its_rerun_confirm(
    tasks_service: CommandService,
) -> None:
    answer = tasks_service.answer_text("failing 24h", user_id="U1")
    buttons = [b["accessory"] for b in answer.blocks if "accessory" in b]
    assert all(b["action_id"] == JOBS_RERUN for b in buttons)
    confirms = {
        (str(v.workspace_id), str(v.job_id), str(v.run_id)): b["confirm"]["text"]["text"]
        for b in buttons
        for v in [decode(b["value"], JOBS_RERUN)]
    }
    # The button's run is the run the confirm names; job 740's run has no task rows.
    assert confirms == {
        ("1", "700", "7001"): (
            "Repair run 7001 of *orders_pipeline*: failed tasks load, publish run again."
        ),
        ("1", "730", "7301"): "Repair run 7301 of *late_repair*: failed task x run again.",
        ("1", "720", "7201"): "Repair run 7201 of *finance_close*: failed task post run again.",
        ("2", "700", "7001"): (
            "Repair run 7001 of *orders_pipeline_eu*: failed task eu_load run again."
        ),
        ("1", "740", "7401"): "Repair run 7401 of *no_task_rows*: its failed tasks run again.",
        ("1", "710", "7101"): "Repair run 7101 of *events_ingest*: failed task report run again.",
    }
