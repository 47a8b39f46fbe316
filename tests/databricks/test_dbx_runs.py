"""Reading runs and jobs through the real SDK: runs/list paging, filters and limits, runs/get
task pages, get-output, jobs/list and jobs/get, and the not-found errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    InvalidParameterValue,
    NotFound,
    ResourceDoesNotExist,
)
from databricks.sdk.service.jobs import RunLifeCycleState, RunLifecycleStateV2State, RunResultState

from bot.clock import FixedClock
from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.workspace import DatabricksWorkspace
from tests.databricks.conftest import T0, Client


def _runs(world: World, ws: DatabricksWorkspace, job_id: int, n: int, step: timedelta) -> list[int]:
    ids = []
    for i in range(n):
        run = world.start_run(ws.workspace_id, job_id, at=T0 + i * step)
        world.finish_run(ws.workspace_id, run.run_id, at=T0 + i * step + timedelta(seconds=30))
        ids.append(run.run_id)
    return ids


def _ms(minutes: float) -> int:
    return int((T0 + timedelta(minutes=minutes)).timestamp() * 1000)


def test_runs_list_pages_newest_start_first(
    world: World, ws: DatabricksWorkspace, server: LocalDatabricks, w: WorkspaceClient
) -> None:
    job = world.add_job(ws.workspace_id, "hourly")
    ids = _runs(world, ws, job.job_id, 60, timedelta(minutes=1))
    server.reset_calls(ws.workspace_id)
    got = [r.run_id for r in w.jobs.list_runs(job_id=job.job_id, limit=25)]
    assert got == list(reversed(ids))
    assert server.calls(ws.workspace_id)["jobs/runs/list"] == 3  # 25 + 25 + 10


def test_runs_list_raw_page_tokens_go_both_ways(
    world: World, ws: DatabricksWorkspace, server: LocalDatabricks
) -> None:
    job = world.add_job(ws.workspace_id, "hourly")
    ids = _runs(world, ws, job.job_id, 7, timedelta(minutes=1))
    url = server.url(ws.workspace_id) + "/api/2.2/jobs/runs/list"
    auth = {"Authorization": f"Bearer {server.token(ws.workspace_id)}"}
    first = requests.get(url, params={"limit": 3}, headers=auth, timeout=5).json()
    assert first["has_more"] is True and "prev_page_token" not in first
    assert [r["run_id"] for r in first["runs"]] == ids[:-4:-1]
    second = requests.get(
        url, params={"limit": 3, "page_token": first["next_page_token"]}, headers=auth, timeout=5
    ).json()
    assert [r["run_id"] for r in second["runs"]] == ids[-4:-7:-1]
    back = requests.get(
        url, params={"limit": 3, "page_token": second["prev_page_token"]}, headers=auth, timeout=5
    ).json()
    assert back["runs"] == first["runs"]
    assert "tasks" not in first["runs"][0]  # only with expand_tasks


def test_runs_list_filters(world: World, ws: DatabricksWorkspace, w: WorkspaceClient) -> None:
    a = world.add_job(ws.workspace_id, "a", max_concurrent_runs=5)
    b = world.add_job(ws.workspace_id, "b")
    done = _runs(world, ws, a.job_id, 3, timedelta(minutes=10))
    going = world.start_run(ws.workspace_id, a.job_id, at=T0 + timedelta(minutes=35))
    other = world.start_run(ws.workspace_id, b.job_id, "ONE_TIME", at=T0 + timedelta(minutes=5))

    assert {r.run_id for r in w.jobs.list_runs()} == {*done, going.run_id, other.run_id}
    active = [r.run_id for r in w.jobs.list_runs(active_only=True)]
    assert active == [going.run_id, other.run_id]
    assert [r.run_id for r in w.jobs.list_runs(job_id=a.job_id, active_only=True)] == [going.run_id]
    assert [r.run_id for r in w.jobs.list_runs(job_id=a.job_id, completed_only=True)] == done[::-1]
    window = w.jobs.list_runs(start_time_from=_ms(5), start_time_to=_ms(20))  # inclusive
    assert [r.run_id for r in window] == [done[2], done[1], other.run_id]
    (run,) = w.jobs.list_runs(job_id=b.job_id, expand_tasks=True)
    assert run.trigger.value == "ONE_TIME"
    assert run.status.state == RunLifecycleStateV2State.RUNNING
    assert run.state.life_cycle_state == RunLifeCycleState.RUNNING and run.end_time == 0
    assert [t.task_key for t in run.tasks] == ["main"]


def test_runs_list_validation_errors(
    world: World, ws: DatabricksWorkspace, w: WorkspaceClient
) -> None:
    with pytest.raises(InvalidParameterValue):
        list(w.jobs.list_runs(active_only=True, completed_only=True))
    with pytest.raises(InvalidParameterValue):
        list(w.jobs.list_runs(limit=26))
    with pytest.raises(InvalidParameterValue):
        list(w.jobs.list_runs(job_id=424242))
    with pytest.raises(InvalidParameterValue):
        w.api_client.do("GET", "/api/2.2/jobs/runs/list", query={"page_token": "%%%"})
    assert list(w.jobs.list_runs(limit=0)) == []  # 0 means "the maximum"


def test_runs_list_page_cost_does_not_grow_with_history(
    world: World, ws: DatabricksWorkspace, w: WorkspaceClient
) -> None:
    job = world.add_job(ws.workspace_id, "busy", max_concurrent_runs=10_000)
    for i in range(5000):
        world.start_run(ws.workspace_id, job.job_id, at=T0 + timedelta(seconds=i))
    book = ws.runs
    looked: list[int] = []

    class Counting(dict):  # type: ignore[type-arg]
        def __getitem__(self, key: int) -> object:
            looked.append(key)
            return super().__getitem__(key)

    book.runs = Counting(book.runs)
    recent = list(w.jobs.list_runs(start_time_from=_ms(5000 / 60 - 1), limit=25))
    assert len(recent) == 60
    assert len(looked) < 100  # the page, not the 5,000 runs


def test_runs_get_merges_task_pages(
    world: World, ws: DatabricksWorkspace, server: LocalDatabricks, w: WorkspaceClient
) -> None:
    keys = [f"t{i:03}" for i in range(150)]
    job = world.add_job(ws.workspace_id, "wide", keys)
    run = world.start_run(ws.workspace_id, job.job_id)
    server.reset_calls(ws.workspace_id)
    got = w.jobs.get_run(run.run_id)
    assert [t.task_key for t in got.tasks] == keys
    assert server.calls(ws.workspace_id)["jobs/runs/get"] == 2  # 100 + 50, merged by JobsExt
    raw = w.api_client.do("GET", "/api/2.2/jobs/runs/get", query={"run_id": run.run_id})
    assert len(raw["tasks"]) == 100 and raw["has_more"] is True and raw["next_page_token"]
    assert len(w.jobs.get(job.job_id).settings.tasks) == 150  # jobs/get pages the same way


def test_runs_get_fields_and_not_found(
    world: World, ws: DatabricksWorkspace, clock: FixedClock, w: WorkspaceClient
) -> None:
    job = world.add_job(
        ws.workspace_id,
        "nightly",
        ["extract", ("load", ["extract"])],
        schedule={"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "Europe/Paris"},
    )
    run = world.start_run(ws.workspace_id, job.job_id, "PERIODIC")
    clock.set(T0 + timedelta(minutes=3))
    world.set_task_outcome(ws.workspace_id, run.run_id, "extract", "FAILED", "boom")
    got = w.jobs.get_run(run.run_id)
    assert got.state.result_state == RunResultState.FAILED
    assert got.status.termination_details.code.value == "RUN_EXECUTION_ERROR"
    assert got.status.termination_details.type.value == "CLIENT_ERROR"
    assert got.run_duration == 180_000 and got.end_time - got.start_time == 180_000
    assert got.schedule.timezone_id == "Europe/Paris"
    assert got.run_page_url.endswith(f"#job/{job.job_id}/run/{run.run_id}")
    assert [(t.task_key, t.state.result_state.value) for t in got.tasks] == [
        ("extract", "FAILED"),
        ("load", "UPSTREAM_FAILED"),
    ]
    assert got.repair_history == []  # only with include_history
    with pytest.raises(ResourceDoesNotExist):
        w.jobs.get_run(999)
    with pytest.raises(NotFound):
        w.jobs.get(999)


def test_get_output(world: World, ws: DatabricksWorkspace, w: WorkspaceClient) -> None:
    world.output_limit = 1000
    job = world.add_job(ws.workspace_id, "nb", ["a", "b"])
    run = world.start_run(ws.workspace_id, job.job_id)
    world.set_task_outcome(
        ws.workspace_id,
        run.run_id,
        "a",
        "FAILED",
        "bad",
        error="ValueError: bad",
        error_trace="Traceback ...",
    )
    world.set_task_outcome(ws.workspace_id, run.run_id, "b", notebook_result="x" * 1500)
    a, b = w.jobs.get_run(run.run_id).tasks
    out = w.jobs.get_run_output(a.run_id)
    assert (out.error, out.error_trace) == ("ValueError: bad", "Traceback ...")
    assert out.metadata.run_id == a.run_id and out.metadata.job_id == job.job_id
    big = w.jobs.get_run_output(b.run_id).notebook_output
    assert big.truncated is True and len(big.result) == 1000
    with pytest.raises(InvalidParameterValue):
        w.jobs.get_run_output(run.run_id)  # a multitask job run has no single output
    with pytest.raises(NotFound):
        w.jobs.get_run_output(12345)


def test_jobs_list_and_get(world: World, ws: DatabricksWorkspace, w: WorkspaceClient) -> None:
    made = [world.add_job(ws.workspace_id, f"job-{i}", tags={"team": "x"}) for i in range(45)]
    listed = list(w.jobs.list(limit=20))
    assert [j.job_id for j in listed] == [j.job_id for j in made]
    assert listed[0].settings.tags == {"team": "x"} and not listed[0].settings.tasks
    assert [j.settings.name for j in w.jobs.list(name="JOB-3")] == ["job-3"]
    expanded = next(iter(w.jobs.list(expand_tasks=True)))
    assert [t.task_key for t in expanded.settings.tasks] == ["main"]
    with pytest.raises(InvalidParameterValue):
        list(w.jobs.list(limit=101))
    world.delete_job(ws.workspace_id, made[0].job_id)
    with pytest.raises(ResourceDoesNotExist):
        w.jobs.get(made[0].job_id)
    assert len(list(w.jobs.list())) == 44


def test_v21_alias_and_unknown_endpoint(
    client: Client, world: World, ws: DatabricksWorkspace
) -> None:
    world.add_job(ws.workspace_id, "j")
    w = client()
    assert len(w.api_client.do("GET", "/api/2.1/jobs/list")["jobs"]) == 1
    with pytest.raises(NotFound):
        w.api_client.do("GET", "/api/2.0/clusters/list-nothing")


def test_list_limits_as_documented(
    world: World, ws: DatabricksWorkspace, w: WorkspaceClient
) -> None:
    job = world.add_job(ws.workspace_id, "hourly")
    _runs(world, ws, job.job_id, 30, timedelta(minutes=1))
    path = "/api/2.2/jobs/runs/list"
    # runs/list: 0 is the maximum (25), more than 25 is refused in Databricks' own words.
    assert len(w.api_client.do("GET", path, query={"limit": 0})["runs"]) == 25
    assert len(w.api_client.do("GET", path, query={"limit": 25})["runs"]) == 25
    with pytest.raises(InvalidParameterValue, match="Invalid limit 26 - it has to be no more"):
        w.api_client.do("GET", path, query={"limit": 26})
    # jobs/list: "greater than 0 and less or equal to 100"; 0 is no shorthand here.
    for _ in range(3):
        world.add_job(ws.workspace_id, "more")
    assert len(w.api_client.do("GET", "/api/2.2/jobs/list", query={"limit": 100})["jobs"]) == 4
    with pytest.raises(InvalidParameterValue, match="Invalid limit 0 - it has to be at least 1"):
        w.api_client.do("GET", "/api/2.2/jobs/list", query={"limit": 0})
    with pytest.raises(InvalidParameterValue, match="Invalid limit 101 - it has to be no more"):
        w.api_client.do("GET", "/api/2.2/jobs/list", query={"limit": 101})
    assert len(list(w.jobs.list())) == 4  # the SDK sends no limit: the default 20


def test_runs_delete(world: World, ws: DatabricksWorkspace, w: WorkspaceClient) -> None:
    job = world.add_job(ws.workspace_id, "hourly", max_concurrent_runs=2)
    (done,) = _runs(world, ws, job.job_id, 1, timedelta(minutes=1))
    going = world.start_run(ws.workspace_id, job.job_id).run_id
    with pytest.raises(BadRequest, match="only inactive runs can be deleted"):
        w.jobs.delete_run(going)
    w.jobs.delete_run(done)
    with pytest.raises(ResourceDoesNotExist):
        w.jobs.get_run(done)
    assert [r.run_id for r in w.jobs.list_runs(job_id=job.job_id)] == [going]
