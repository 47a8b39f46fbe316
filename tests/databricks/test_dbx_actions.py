"""Acting on runs through the real SDK: run-now (idempotent), cancel, repair and its
validation, job permissions, SCIM lookups, and ACLs enforced for non-admin callers."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    InvalidParameterValue,
    InvalidState,
    NotFound,
    PermissionDenied,
)
from databricks.sdk.service.jobs import RepairHistoryItemType

from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.workspace import DatabricksWorkspace
from tests.databricks.conftest import Client


def test_run_now_is_idempotent_per_token(
    world: World, ws: DatabricksWorkspace, w: WorkspaceClient
) -> None:
    job = world.add_job(ws.workspace_id, "adhoc", max_concurrent_runs=5)
    first = w.jobs.run_now(job.job_id, idempotency_token="slack-click-1", job_parameters={"d": "1"})
    again = w.jobs.run_now(job.job_id, idempotency_token="slack-click-1")
    other = w.jobs.run_now(job.job_id, idempotency_token="slack-click-2")
    assert first.run_id == again.run_id != other.run_id
    assert len(list(w.jobs.list_runs(job_id=job.job_id))) == 2
    run = w.jobs.get_run(first.run_id)
    assert run.trigger.value == "ONE_TIME" and run.creator_user_name == ws.sp.application_id
    assert [(p.name, p.value) for p in run.job_parameters] == [("d", "1")]
    with pytest.raises(InvalidParameterValue):  # 400 "Job .. does not exist", as Databricks
        w.jobs.run_now(99999)


def test_run_now_queues_past_max_concurrent_runs(
    world: World, ws: DatabricksWorkspace, w: WorkspaceClient
) -> None:
    job = world.add_job(ws.workspace_id, "single")
    one = w.jobs.run_now(job.job_id).run_id
    two = w.jobs.run_now(job.job_id).run_id
    queued = w.jobs.get_run(two)
    assert queued.status.state.value == "QUEUED"
    assert queued.status.queue_details.code.value == "MAX_CONCURRENT_RUNS_REACHED"
    world.finish_run(ws.workspace_id, one)
    assert w.jobs.get_run(two).status.state.value == "RUNNING"


def test_cancel(world: World, ws: DatabricksWorkspace, w: WorkspaceClient) -> None:
    job = world.add_job(ws.workspace_id, "long")
    run = world.start_run(ws.workspace_id, job.job_id)
    w.jobs.cancel_run(run.run_id)
    got = w.jobs.get_run(run.run_id)
    assert got.state.result_state.value == "CANCELED" and got.state.user_cancelled_or_timedout
    assert got.status.termination_details.code.value == "USER_CANCELED"
    w.jobs.cancel_run(run.run_id)  # cancelling an ended run is a no-op, as on Databricks
    with pytest.raises(InvalidParameterValue):
        w.jobs.cancel_run(4242)


def _failed_run(world: World, ws: DatabricksWorkspace) -> tuple[int, int]:
    job = world.add_job(ws.workspace_id, "etl", ["extract", ("load", ["extract"]), "side"])
    run = world.start_run(ws.workspace_id, job.job_id)
    world.set_task_outcome(ws.workspace_id, run.run_id, "side")
    world.set_task_outcome(ws.workspace_id, run.run_id, "extract", "FAILED", "disk full")
    return job.job_id, run.run_id


def test_repair_validation(world: World, ws: DatabricksWorkspace, w: WorkspaceClient) -> None:
    job = world.add_job(ws.workspace_id, "etl")
    going = world.start_run(ws.workspace_id, job.job_id)
    with pytest.raises(InvalidState):  # a run still in progress cannot be repaired
        w.jobs.repair_run(going.run_id, rerun_all_failed_tasks=True)
    _, run_id = _failed_run(world, ws)
    with pytest.raises(InvalidParameterValue):
        w.jobs.repair_run(run_id, rerun_all_failed_tasks=True, rerun_tasks=["extract"])
    with pytest.raises(InvalidParameterValue):
        w.jobs.repair_run(run_id)
    with pytest.raises(InvalidParameterValue):
        w.jobs.repair_run(run_id, rerun_tasks=["nope"])
    with pytest.raises(InvalidParameterValue):
        w.jobs.repair_run(123456, rerun_all_failed_tasks=True)
    first = w.jobs.repair_run(run_id, rerun_all_failed_tasks=True).response.repair_id
    world.finish_run(ws.workspace_id, run_id, "FAILED", "again")
    with pytest.raises(InvalidParameterValue):  # every repair after the first names the latest
        w.jobs.repair_run(run_id, rerun_all_failed_tasks=True)
    with pytest.raises(BadRequest):
        w.jobs.repair_run(run_id, rerun_all_failed_tasks=True, latest_repair_id=first + 999)
    second = w.jobs.repair_run(run_id, rerun_all_failed_tasks=True, latest_repair_id=first)
    assert second.response.repair_id != first


def test_repair_reruns_failed_tasks_and_records_history(
    world: World, ws: DatabricksWorkspace, w: WorkspaceClient
) -> None:
    _, run_id = _failed_run(world, ws)
    before = {t.task_key: t.run_id for t in w.jobs.get_run(run_id).tasks}
    repair_id = w.jobs.repair_run(run_id, rerun_all_failed_tasks=True).response.repair_id
    run = w.jobs.get_run(run_id, include_history=True)
    assert run.status.state.value == "RUNNING" and run.end_time == 0
    tasks = {t.task_key: t for t in run.tasks}
    assert tasks["side"].run_id == before["side"]  # succeeded: kept
    assert tasks["extract"].run_id != before["extract"] and tasks["extract"].attempt_number == 1
    assert tasks["extract"].status.state.value == "RUNNING"
    assert tasks["load"].run_id != before["load"]  # was UPSTREAM_FAILED: rerun, waits for extract
    assert tasks["load"].status.state.value == "BLOCKED"
    kinds = [(h.type, h.id) for h in run.repair_history]
    assert kinds[0][0] == RepairHistoryItemType.ORIGINAL
    assert kinds[1] == (RepairHistoryItemType.REPAIR, repair_id)
    assert set(run.repair_history[1].task_run_ids) == {
        tasks["extract"].run_id,
        tasks["load"].run_id,
    }
    world.set_task_outcome(ws.workspace_id, run_id, "extract")
    world.set_task_outcome(ws.workspace_id, run_id, "load")
    done = w.jobs.get_run(run_id, include_history=True)
    assert done.state.result_state.value == "SUCCESS"
    assert done.repair_history[1].state.result_state.value == "SUCCESS"
    old = w.jobs.get_run_output(before["extract"])  # earlier attempts stay readable
    assert old.metadata.state.result_state.value == "FAILED"


def test_permissions_endpoint(world: World, ws: DatabricksWorkspace, w: WorkspaceClient) -> None:
    world.add_user(ws.workspace_id, "ana@example.com", "Ana", groups=["data-eng"])
    job = world.add_job(ws.workspace_id, "etl", creator_user_name="ana@example.com")
    world.set_permissions(ws.workspace_id, job.job_id, groups={"data-eng": "CAN_MANAGE_RUN"})
    acl = w.jobs.get_permissions(str(job.job_id))
    assert acl.object_id == f"/jobs/{job.job_id}"
    entries = {(e.user_name or e.group_name): e.all_permissions for e in acl.access_control_list}
    assert [(p.permission_level.value, p.inherited) for p in entries["ana@example.com"]] == [
        ("IS_OWNER", False)
    ]
    assert [(p.permission_level.value, p.inherited) for p in entries["data-eng"]] == [
        ("CAN_MANAGE_RUN", False)
    ]
    (admin,) = entries["admins"]
    assert admin.inherited and admin.inherited_from_object == ["/jobs/"]
    with pytest.raises(NotFound):
        w.jobs.get_permissions("777")


def test_scim_lookup_with_groups(world: World, ws: DatabricksWorkspace, w: WorkspaceClient) -> None:
    world.add_group(ws.workspace_id, "analysts", subgroups=["juniors"])
    world.add_user(ws.workspace_id, "Bo@Example.com", "Bo", groups=["juniors"])
    world.add_user(ws.workspace_id, "cy@example.com", "Cy")
    (bo,) = w.users.list(filter='userName eq "bo@example.com"')
    assert bo.user_name == "Bo@Example.com" and bo.display_name == "Bo"
    # Direct groups only by default: no source says workspace SCIM lists nested ones.
    assert {(g.display, g.type) for g in bo.groups} == {("juniors", "direct")}
    with world.lock:
        ws.scim_lists_indirect_groups = True  # RFC 7643's other shape
    (bo,) = w.users.list(filter='userName eq "bo@example.com"')
    assert {(g.display, g.type) for g in bo.groups} == {
        ("juniors", "direct"),
        ("analysts", "indirect"),
    }
    assert len(list(w.users.list())) == 2
    (group,) = w.groups.list(filter='displayName eq "analysts"')
    assert [m.display for m in group.members] == ["juniors"]
    assert w.users.get(bo.id).user_name == "Bo@Example.com"
    with pytest.raises(InvalidParameterValue):
        list(w.users.list(filter="userName ne 1"))


def test_non_admin_callers_get_what_their_acl_allows(
    world: World, ws: DatabricksWorkspace, server: LocalDatabricks, client: Client
) -> None:
    world.add_user(ws.workspace_id, "viewer@example.com", groups=["readers"])
    world.add_user(ws.workspace_id, "runner@example.com")
    seen = world.add_job(ws.workspace_id, "seen")
    hidden = world.add_job(ws.workspace_id, "hidden")
    world.set_permissions(
        ws.workspace_id,
        seen.job_id,
        users={"runner@example.com": "CAN_MANAGE_RUN"},
        groups={"readers": "CAN_VIEW"},
    )
    world.start_run(ws.workspace_id, hidden.job_id)
    viewer = client(token=world.issue_token(ws.workspace_id, "viewer@example.com"))
    runner = client(token=world.issue_token(ws.workspace_id, "runner@example.com"))
    assert [j.job_id for j in viewer.jobs.list()] == [seen.job_id]
    assert list(viewer.jobs.list_runs()) == []
    with pytest.raises(PermissionDenied):
        viewer.jobs.run_now(seen.job_id)
    with pytest.raises(PermissionDenied):
        viewer.jobs.get(hidden.job_id)
    run_id = runner.jobs.run_now(seen.job_id).run_id
    assert viewer.jobs.get_run(run_id).creator_user_name == "runner@example.com"
    assert viewer.current_user.me().user_name == "viewer@example.com"
