"""JobsApi against the local Databricks through the real WorkspaceClient: every call, every
bot error, retries and their bounds, PAT per workspace and OAuth M2M."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import requests

from bot.clock import FixedClock
from bot.config.secrets import Secrets
from bot.jobs_api import JobsApiSettings
from bot.models import (
    JobNotFound,
    JobsApiRefused,
    JobsApiUnavailable,
    RunNotFound,
)
from sandbox.databricks import LocalDatabricks, World
from tests.support.jobs_api import FakeTimer, make_api


def _failed_run(world: World, clock: FixedClock, ws_id: int, tasks: int = 2) -> tuple[int, int]:
    keys = ["extract"] + [(f"t{i}", ["extract"]) for i in range(1, tasks)]
    job = world.add_job(ws_id, "nightly", keys)
    run = world.start_run(ws_id, job.job_id, "PERIODIC")
    clock.set(clock.now() + timedelta(minutes=5))
    world.set_task_outcome(
        ws_id,
        run.run_id,
        "extract",
        "FAILED",
        "boom",
        error="ValueError: boom",
        error_trace="Traceback (most recent call last):\n"
        + "  frame\n" * 2000
        + "ValueError: boom",
    )
    return job.job_id, run.run_id


def test_runs_list_get_and_task_error(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    ws = world.add_workspace("analytics")
    job_id, run_id = _failed_run(world, clock, ws.workspace_id)
    running = world.start_run(ws.workspace_id, world.add_job(ws.workspace_id, "hourly").job_id)
    api = make_api(server, ws.workspace_id)
    w = str(ws.workspace_id)

    runs = api.list_runs(w)
    assert [r.run_id for r in runs] == [str(running.run_id), str(run_id)]  # newest start first
    assert [r.run_id for r in api.list_active_runs(w)] == [str(running.run_id)]
    assert api.list_runs(w, started_from=clock.now()) == [runs[0]]

    run = api.get_run(w, str(run_id))
    # Raw API strings kept, state normalised to the system-table spelling.
    assert (run.state.state, run.state.result_state, run.state.termination_code) == (
        "FAILED",
        "FAILED",
        "RUN_EXECUTION_ERROR",
    )
    assert run.state.termination_type == "CLIENT_ERROR" and run.state.failed
    assert run.job_id == str(job_id) and run.trigger == "PERIODIC" and run.run_type == "JOB_RUN"
    assert run.duration_seconds == 300 and run.run_page_url and run.tasks_complete
    assert [t.task_key for t in run.failed_tasks] == ["extract"]
    assert run.latest_repair_id is None and run.repair_history[0].kind == "ORIGINAL"

    err = api.get_task_error(w, run.failed_tasks[0].run_id)
    assert err.error == "ValueError: boom"
    assert err.truncated and err.error_trace is not None
    assert err.error_trace.endswith("ValueError: boom") and len(err.error_trace) <= 4001


def test_get_run_pages_tasks_past_100(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    ws = world.add_workspace("big")
    _, run_id = _failed_run(world, clock, ws.workspace_id, tasks=130)
    api = make_api(server, ws.workspace_id)
    server.reset_calls(ws.workspace_id)
    run = api.get_run(str(ws.workspace_id), str(run_id))
    assert len({t.task_key for t in run.tasks}) == 130
    assert server.calls(ws.workspace_id)["jobs/runs/get"] == 2  # 2.2 pages arrays at 100


def test_not_found_errors(world: World, server: LocalDatabricks) -> None:
    ws = world.add_workspace("analytics")
    api = make_api(server, ws.workspace_id)
    w = str(ws.workspace_id)
    with pytest.raises(RunNotFound):
        api.get_run(w, "424242")
    with pytest.raises(RunNotFound):
        api.get_task_error(w, "424242")
    with pytest.raises(RunNotFound):
        api.repair_failed_tasks(w, "424242")
    with pytest.raises(JobNotFound):
        api.run_now(w, "999", idempotency_token="t")
    with pytest.raises(JobNotFound):
        api.job_access(w, "999", "a@example.com")
    with pytest.raises(JobsApiRefused):
        api.list_runs("123")  # not a configured workspace


def test_repair_names_latest_repair_id_after_a_previous_repair(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    ws = world.add_workspace("analytics")
    _, run_id = _failed_run(world, clock, ws.workspace_id)
    api = make_api(server, ws.workspace_id)
    w = str(ws.workspace_id)

    first = api.repair_failed_tasks(w, str(run_id))
    with pytest.raises(JobsApiRefused, match="in progress"):
        api.repair_failed_tasks(w, str(run_id))
    clock.set(clock.now() + timedelta(minutes=5))
    world.set_task_outcome(ws.workspace_id, run_id, "extract", "FAILED", "boom again")
    assert api.get_run(w, str(run_id)).latest_repair_id == first.repair_id

    second = api.repair_failed_tasks(w, str(run_id))  # refused without latest_repair_id
    run = api.get_run(w, str(run_id))
    assert run.latest_repair_id == second.repair_id != first.repair_id
    assert [r.kind for r in run.repair_history] == ["ORIGINAL", "REPAIR", "REPAIR"]
    # runs/get lists the newest attempt of each task; older ones are in the repair history.
    assert run.attempts("extract")[-1].attempt_number == 2 and run.in_progress
    assert all(len(r.task_run_ids) == 2 for r in run.repair_history)


def test_run_now_is_idempotent(world: World, server: LocalDatabricks) -> None:
    ws = world.add_workspace("analytics")
    job = world.add_job(ws.workspace_id, "adhoc", max_concurrent_runs=5)
    api = make_api(server, ws.workspace_id)
    w = str(ws.workspace_id)
    a = api.run_now(w, str(job.job_id), idempotency_token="slack-click-1")
    b = api.run_now(w, str(job.job_id), idempotency_token="slack-click-1")
    c = api.run_now(
        w, str(job.job_id), idempotency_token="slack-click-2", job_parameters={"x": "1"}
    )
    assert a.run_id == b.run_id != c.run_id
    assert len(api.list_runs(w)) == 2


def test_job_access_direct_group_nested_and_none(world: World, server: LocalDatabricks) -> None:
    ws = world.add_workspace("analytics")
    w_id = ws.workspace_id
    for email in ("ana@x.com", "bo@x.com", "cy@x.com", "di@x.com", "ed@x.com"):
        world.add_user(w_id, email)
    world.add_group(w_id, "data-eng", members=["bo@x.com"])
    world.add_group(w_id, "platform", subgroups=["oncall"])
    world.add_group(w_id, "oncall", members=["cy@x.com"])
    world.add_user(w_id, "root@x.com", admin=True)
    job = world.add_job(w_id, "nightly")
    world.set_permissions(
        w_id,
        job.job_id,
        users={"ana@x.com": "CAN_MANAGE_RUN", "di@x.com": "CAN_VIEW"},
        groups={"data-eng": "CAN_MANAGE", "platform": "CAN_MANAGE_RUN"},
    )
    api = make_api(server, w_id)
    w, j = str(w_id), str(job.job_id)

    def check(email: str) -> tuple[bool, str | None, str | None, bool]:
        a = api.job_access(w, j, email)
        return a.allowed, a.level, a.via, a.user_found

    assert check("ana@x.com") == (True, "CAN_MANAGE_RUN", "user", True)
    assert check("ANA@x.com") == (True, "CAN_MANAGE_RUN", "user", True)  # emails ignore case
    assert check("bo@x.com") == (True, "CAN_MANAGE", "group:data-eng", True)
    assert check("cy@x.com") == (True, "CAN_MANAGE_RUN", "group:platform", True)
    assert check("di@x.com") == (False, "CAN_VIEW", "user", True)
    assert check("ed@x.com") == (False, None, None, True)
    assert check("root@x.com") == (True, "CAN_MANAGE", "group:admins", True)
    assert check("ghost@x.com") == (False, None, None, False)


def test_oauth_m2m_through_the_sdk(world: World, server: LocalDatabricks) -> None:
    ws = world.add_workspace("analytics")
    world.add_job(ws.workspace_id, "nightly")
    server.start()
    client_id, secret = server.oauth(ws.workspace_id)
    api = make_api(
        server,
        ws.workspace_id,
        secrets=Secrets(databricks_client_id=client_id, databricks_client_secret=secret),
    )
    assert api.list_runs(str(ws.workspace_id)) == []
    calls = server.calls(ws.workspace_id)
    assert calls["oidc-discovery"] == 1 and calls["oidc/v1/token"] == 1
    bad = make_api(
        server,
        ws.workspace_id,
        secrets=Secrets(databricks_client_id=client_id, databricks_client_secret="wrong"),
    )
    # The SDK's token request raises ValueError("invalid_client: …") (no DatabricksError):
    # the bot names it a sign-in failure of a workspace that is not answering.
    with pytest.raises(JobsApiUnavailable, match="cannot sign in: invalid_client"):
        bad.list_runs(str(ws.workspace_id))


def test_pat_per_workspace_and_bad_token(world: World, server: LocalDatabricks) -> None:
    a, b = world.add_workspace("a"), world.add_workspace("b")
    server.start()
    env = {"PAT_A": server.token(a.workspace_id), "PAT_B": server.token(b.workspace_id)}
    api = make_api(
        server,
        a.workspace_id,
        b.workspace_id,
        env=env,
        pat_env={a.workspace_id: "PAT_A", b.workspace_id: "PAT_B"},
    )
    assert api.list_runs(str(a.workspace_id)) == api.list_runs(str(b.workspace_id)) == []
    # DATABRICKS_TOKEN alone: a's PAT means nothing to b.
    shared = make_api(server, a.workspace_id, b.workspace_id)
    with pytest.raises(JobsApiRefused) as refused:
        shared.list_runs(str(b.workspace_id))
    assert refused.value.workspace == "b"
    missing = make_api(server, a.workspace_id, env={}, pat_env={a.workspace_id: "PAT_NONE"})
    with pytest.raises(JobsApiRefused, match="PAT_NONE"):
        missing.list_runs(str(a.workspace_id))


def test_429_retries_honour_retry_after(world: World, server: LocalDatabricks) -> None:
    ws = world.add_workspace("analytics")
    timer = FakeTimer()
    api = make_api(server, ws.workspace_id, timer=timer)
    w = str(ws.workspace_id)
    api.list_runs(w)  # builds the client
    server.reset_calls(ws.workspace_id)
    server.faults(ws.workspace_id).throttle(2, retry_after=3)
    assert api.list_runs(w) == []
    assert server.calls(ws.workspace_id)["jobs/runs/list"] == 3
    assert len(timer.sleeps) == 2 and all(3 <= s < 4 for s in timer.sleeps)  # + jitter < 1 s

    timer.sleeps.clear()
    server.faults(ws.workspace_id).unavailable(1)  # 503 without Retry-After: the SDK waits 1 s
    assert api.list_runs(w) == [] and len(timer.sleeps) == 1 and 1 <= timer.sleeps[0] < 2


def test_throttling_past_the_bound_fails_within_it(world: World, server: LocalDatabricks) -> None:
    ws = world.add_workspace("analytics")
    timer = FakeTimer()
    api = make_api(server, ws.workspace_id, timer=timer)
    w = str(ws.workspace_id)
    api.list_runs(w)
    server.reset_calls(ws.workspace_id)
    server.faults(ws.workspace_id).throttle(1000, retry_after=1)
    with pytest.raises(JobsApiUnavailable, match="4 s"):
        api.repair_failed_tasks(w, "1")  # interactive: 4 s in these tests
    assert sum(timer.sleeps) <= 4
    interactive_calls = server.calls(ws.workspace_id)["jobs/runs/get"]
    timer.sleeps.clear()
    with pytest.raises(JobsApiUnavailable, match="8 s"):
        api.list_runs(w)  # background: 8 s
    assert 4 < sum(timer.sleeps) <= 8
    assert server.calls(ws.workspace_id)["jobs/runs/list"] > interactive_calls
    # A Retry-After longer than the whole bound is not slept at all.
    timer.sleeps.clear()
    server.reset_calls(ws.workspace_id)
    server.faults(ws.workspace_id).throttle(1000, retry_after=60)
    with pytest.raises(JobsApiUnavailable):
        api.get_run(w, "1", interactive=True)
    assert timer.sleeps == [] and server.calls(ws.workspace_id)["jobs/runs/get"] == 1


def test_down_workspace_fails_within_bound(world: World, server: LocalDatabricks) -> None:
    ws = world.add_workspace("analytics")
    api = make_api(server, ws.workspace_id)
    w = str(ws.workspace_id)
    api.list_runs(w)
    server.take_down(ws.workspace_id)
    started = time.monotonic()
    with pytest.raises(JobsApiUnavailable, match="analytics"):
        api.list_runs(w)
    assert time.monotonic() - started < 3  # connection refused, retried on virtual time
    server.bring_up(ws.workspace_id)
    assert api.list_runs(w) == []


def test_down_at_first_call_fails_within_bound(world: World, server: LocalDatabricks) -> None:
    ws = world.add_workspace("analytics")
    api = make_api(server, ws.workspace_id)
    server.take_down(ws.workspace_id)
    started = time.monotonic()
    with pytest.raises(JobsApiUnavailable):
        api.job_access(str(ws.workspace_id), "1", "a@x.com")
    # Config() probes the host on its own (real-time) retry budget, set to probe_seconds.
    assert time.monotonic() - started < FAST_INTERACTIVE + 1


FAST_INTERACTIVE = 4


def test_stuck_workspace_does_not_delay_another(world: World, server: LocalDatabricks) -> None:
    slow, ok = world.add_workspace("slow"), world.add_workspace("ok")
    server.start()
    settings = JobsApiSettings(
        background_seconds=8, interactive_seconds=1, http_timeout_seconds=5, probe_seconds=1
    )
    env = {"S": server.token(slow.workspace_id), "O": server.token(ok.workspace_id)}
    api = make_api(
        server,
        slow.workspace_id,
        ok.workspace_id,
        env=env,
        pat_env={slow.workspace_id: "S", ok.workspace_id: "O"},
        settings=settings,
    )
    api.list_runs(str(slow.workspace_id))
    api.list_runs(str(ok.workspace_id))
    server.faults(slow.workspace_id).slow(3)
    failed: list[Exception] = []
    stuck_took: list[float] = []

    def stuck() -> None:
        t0 = time.monotonic()
        try:
            api.list_runs(str(slow.workspace_id), interactive=True)
        except JobsApiUnavailable as e:
            failed.append(e)
        stuck_took.append(time.monotonic() - t0)

    thread = threading.Thread(target=stuck)
    thread.start()
    time.sleep(0.2)  # the slow call is now waiting on its server
    t0 = time.monotonic()
    assert api.list_runs(str(ok.workspace_id), interactive=True) == []
    assert time.monotonic() - t0 < 0.5
    thread.join()
    assert failed and "within 1 s" in str(failed[0]) and stuck_took[0] < 2
    server.faults(slow.workspace_id).clear()


def test_repair_past_100_repairs_names_the_latest_repair_id(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    ws = world.add_workspace("analytics")
    w_id = ws.workspace_id
    _, run_id = _failed_run(world, clock, w_id)
    latest = None
    for _ in range(101):  # with the original run: 102 repair-history entries, two pages
        latest = world.repair(w_id, run_id, rerun_all_failed_tasks=True, latest_repair_id=latest)
        clock.set(clock.now() + timedelta(minutes=1))
        world.set_task_outcome(w_id, run_id, "extract", "FAILED", "still broken")
    api = make_api(server, w_id)
    # The local server pages repair_history as 2.2 does: 100 entries, then a next page.
    url = f"{server.url(w_id)}/api/2.2/jobs/runs/get"
    auth = {"Authorization": f"Bearer {server.token(w_id)}"}
    query = {"run_id": run_id, "include_history": "true"}
    page = requests.get(url, params=query, headers=auth, timeout=5).json()
    assert len(page["repair_history"]) == 100 and page["next_page_token"]
    w = str(w_id)
    assert api.get_run(w, str(run_id)).latest_repair_id == str(latest)
    server.reset_calls(w_id)
    repaired = api.repair_failed_tasks(w, str(run_id))  # refused with a stale latest_repair_id
    assert server.calls(w_id) == {"jobs/runs/get": 2, "jobs/runs/repair": 1}
    run = api.get_run(w, str(run_id))
    assert run.latest_repair_id == repaired.repair_id != str(latest)
    assert len(run.repair_history) == 103 and run.in_progress


def test_job_access_through_a_group_in_a_group(world: World, server: LocalDatabricks) -> None:
    """A user in group A, A in group B, B has CAN_MANAGE_RUN: allowed, whichever shape SCIM
    gives the user's `groups` (direct only: the walk finds B; with B as "indirect": no walk)."""
    ws = world.add_workspace("analytics")
    w_id = ws.workspace_id
    world.add_user(w_id, "ann@x.com")
    world.add_user(w_id, "out@x.com")
    world.add_group(w_id, "B", subgroups=["A"])
    world.add_group(w_id, "A", members=["ann@x.com"])
    job = world.add_job(w_id, "nightly")
    world.set_permissions(w_id, job.job_id, groups={"B": "CAN_MANAGE_RUN"})
    api = make_api(server, w_id)
    w, j = str(w_id), str(job.job_id)
    for indirect_listed, walked in ((False, True), (True, False)):
        with world.lock:
            ws.scim_lists_indirect_groups = indirect_listed
        server.reset_calls(w_id)
        a = api.job_access(w, j, "ann@x.com")
        assert (a.allowed, a.level, a.via) == (True, "CAN_MANAGE_RUN", "group:B")
        assert ("scim/Groups" in server.calls(w_id)) is walked
        assert not api.job_access(w, j, "out@x.com").allowed


def test_task_retry_settings_come_through_runs_get_and_jobs_get(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    """The alert's "attempt 3 of 3" needs each task's max_retries: RunTask carries it as run,
    and jobs/get in the job's settings (-1: retry without limit; absent: not known)."""
    ws = world.add_workspace("retries")
    tasks = [
        {"task_key": "load", "max_retries": 2},
        {"task_key": "stream", "max_retries": -1},
        {"task_key": "report"},
    ]
    job = world.add_job(ws.workspace_id, "with_retries", tasks)
    run = world.start_run(ws.workspace_id, job.job_id, "PERIODIC")
    clock.set(clock.now() + timedelta(minutes=5))
    world.set_task_outcome(ws.workspace_id, run.run_id, "load", "FAILED", "boom", error="boom")
    api = make_api(server, ws.workspace_id)
    got = api.get_run(str(ws.workspace_id), str(run.run_id))
    by_key = {t.task_key: t.max_retries for t in got.tasks}
    assert by_key == {"load": 2, "stream": -1, "report": None}
    info = api.get_job(str(ws.workspace_id), str(job.job_id))
    assert (info.max_retries("load"), info.max_retries("stream")) == (2, -1)
    assert info.max_retries("report") is None
