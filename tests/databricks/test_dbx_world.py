"""The world's mutators as the simulator uses them: task retries, finishing a run, repairs
by the world, pausing, and the clock injected as a plain callable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient

from sandbox.databricks import World
from sandbox.databricks.errors import ApiError
from sandbox.databricks.workspace import DatabricksWorkspace
from tests.databricks.conftest import T0


def test_task_retry_makes_a_new_attempt(
    world: World, ws: DatabricksWorkspace, w: WorkspaceClient
) -> None:
    job = world.add_job(ws.workspace_id, "flaky", ["a", ("b", ["a"])])
    run = world.start_run(ws.workspace_id, job.job_id, at=T0)
    first = run.tasks["a"][0]
    second = world.set_task_outcome(
        ws.workspace_id, run.run_id, "a", "FAILED", "blip", retry=True, at=T0 + timedelta(minutes=1)
    )
    assert (second.attempt_number, second.original_attempt_run_id) == (1, first.run_id)
    assert second.run_id != first.run_id and run.active
    world.set_task_outcome(ws.workspace_id, run.run_id, "a", at=T0 + timedelta(minutes=2))
    world.set_task_outcome(ws.workspace_id, run.run_id, "b", at=T0 + timedelta(minutes=3))
    got = w.jobs.get_run(run.run_id)
    assert got.state.result_state.value == "SUCCESS"
    a = next(t for t in got.tasks if t.task_key == "a")
    assert a.attempt_number == 1 and a.run_id == second.run_id  # the latest attempt is listed
    assert w.jobs.get_run_output(first.run_id).metadata.state.result_state.value == "FAILED"
    b = next(t for t in got.tasks if t.task_key == "b")
    assert b.start_time == int((T0 + timedelta(minutes=2)).timestamp() * 1000)  # waited for a


def test_finish_run_results(world: World, ws: DatabricksWorkspace) -> None:
    job = world.add_job(ws.workspace_id, "dag", ["a", ("b", ["a"]), "c"], max_concurrent_runs=3)
    failed = world.finish_run(
        ws.workspace_id, world.start_run(ws.workspace_id, job.job_id).run_id, "FAILED", "x"
    )
    assert {k: v[-1].outcome.result_state for k, v in failed.tasks.items()} == {  # type: ignore[union-attr]
        "a": "FAILED",
        "b": "UPSTREAM_FAILED",
        "c": "FAILED",
    }
    ok = world.finish_run(ws.workspace_id, world.start_run(ws.workspace_id, job.job_id).run_id)
    assert ok.outcome is not None and ok.outcome.result_state == "SUCCESS"
    err = world.finish_run(
        ws.workspace_id, world.start_run(ws.workspace_id, job.job_id).run_id, "INTERNAL_ERROR"
    )
    assert err.outcome is not None and err.outcome.type == "INTERNAL_ERROR"
    with pytest.raises(ValueError):
        world.finish_run(ws.workspace_id, ok.run_id)


def test_world_repair_validates_like_the_api(world: World, ws: DatabricksWorkspace) -> None:
    job = world.add_job(ws.workspace_id, "j")
    run = world.start_run(ws.workspace_id, job.job_id)
    with pytest.raises(ApiError) as refused:
        world.repair(ws.workspace_id, run.run_id, rerun_all_failed_tasks=True)
    assert (refused.value.status, refused.value.error_code) == (400, "INVALID_STATE")
    world.finish_run(ws.workspace_id, run.run_id, "FAILED")
    repair_id = world.repair(ws.workspace_id, run.run_id, ["main"])
    assert run.history[-1].id == repair_id and run.active


def test_pause_and_callable_clock(ws: DatabricksWorkspace) -> None:
    world = World(lambda: T0)
    space = world.add_workspace("x")
    job = world.add_job(space.workspace_id, "s", schedule={"quartz_cron_expression": "0 0 * * * ?"})
    world.pause(space.workspace_id, job.job_id)
    assert job.schedule == {
        "quartz_cron_expression": "0 0 * * * ?",
        "timezone_id": "UTC",
        "pause_status": "PAUSED",
    }
    assert world.start_run(space.workspace_id, job.job_id).start_time == int(T0.timestamp() * 1000)
