"""Auth and transport through the real SDK: PAT and OAuth M2M (the SDK's own discovery and
token flow), bad credentials, 429/503 retries with Retry-After, slow answers, a workspace
going down, several workspaces, and the call counter."""

from __future__ import annotations

import time

import pytest
import requests
from databricks.sdk.errors import PermissionDenied, TooManyRequests

from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.workspace import DatabricksWorkspace
from tests.databricks.conftest import Client, SleeplessClock


def test_missing_and_bad_credentials(
    server: LocalDatabricks, ws: DatabricksWorkspace, client: Client
) -> None:
    url = server.url(ws.workspace_id) + "/api/2.2/jobs/list"
    missing = requests.get(url, timeout=5)
    assert missing.status_code == 401 and missing.json()["error_code"] == "UNAUTHENTICATED"
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        list(client(token="dapi-not-a-token").jobs.list())


def test_oauth_m2m_through_the_sdk_flow(
    world: World, ws: DatabricksWorkspace, server: LocalDatabricks, client: Client
) -> None:
    world.add_job(ws.workspace_id, "j")
    w = client(oauth=True)
    assert w.config.auth_type == "oauth-m2m"
    assert [j.settings.name for j in w.jobs.list()] == ["j"]
    assert w.current_user.me().user_name == ws.sp.application_id
    calls = server.calls(ws.workspace_id)
    assert calls["oidc-discovery"] >= 1 and calls["oidc/v1/token"] == 1
    with pytest.raises(ValueError, match="invalid_client"):
        list(client(oauth=True, client_secret="wrong").jobs.list())


def test_429_retry_after_is_honoured(
    server: LocalDatabricks, ws: DatabricksWorkspace, client: Client
) -> None:
    sdk_clock = SleeplessClock()
    w = client(clock=sdk_clock, retry_timeout_seconds=60)
    server.faults(ws.workspace_id).throttle(3, retry_after=7)
    server.reset_calls(ws.workspace_id)
    assert list(w.jobs.list_runs()) == []
    assert server.calls(ws.workspace_id)["jobs/runs/list"] == 4  # 3 refused + 1 answered
    assert len(sdk_clock.sleeps) == 3 and all(7 <= s < 8 for s in sdk_clock.sleeps)


def test_429_with_real_sleep(
    server: LocalDatabricks, ws: DatabricksWorkspace, client: Client
) -> None:
    server.faults(ws.workspace_id).throttle(1, retry_after=1)
    began = time.monotonic()
    assert list(client().jobs.list()) == []
    assert time.monotonic() - began >= 1.0  # the SDK really waited Retry-After


def test_throttled_past_the_retry_budget(
    server: LocalDatabricks, ws: DatabricksWorkspace, client: Client
) -> None:
    w = client(clock=SleeplessClock(), retry_timeout_seconds=30)
    server.faults(ws.workspace_id).throttle(1000, retry_after=10)
    with pytest.raises(TimeoutError) as caught:
        list(w.jobs.list())
    assert isinstance(caught.value.__cause__, TooManyRequests)
    assert server.calls(ws.workspace_id)["jobs/list"] == 3  # at t=0, 10 and 20 s


def test_503_is_retried(server: LocalDatabricks, ws: DatabricksWorkspace, client: Client) -> None:
    sdk_clock = SleeplessClock()
    w = client(clock=sdk_clock)
    server.faults(ws.workspace_id).unavailable(2)  # no Retry-After: the SDK waits 1 s
    assert list(w.jobs.list()) == []
    assert server.calls(ws.workspace_id)["jobs/list"] == 3
    assert all(1 <= s < 2 for s in sdk_clock.sleeps)


def test_slow_answers(server: LocalDatabricks, ws: DatabricksWorkspace, client: Client) -> None:
    server.faults(ws.workspace_id).slow(0.3, calls=1)
    w = client()
    began = time.monotonic()
    assert list(w.jobs.list()) == []
    assert time.monotonic() - began >= 0.3
    began = time.monotonic()
    list(w.jobs.list())
    assert time.monotonic() - began < 0.3  # only the next call was slow


def test_slower_than_the_http_timeout(
    server: LocalDatabricks, ws: DatabricksWorkspace, client: Client
) -> None:
    w = client(http_timeout_seconds=0.2, retry_timeout_seconds=30, clock=SleeplessClock())
    server.faults(ws.workspace_id).slow(0.5, calls=1)
    assert list(w.jobs.list()) == []  # timed out once, retried
    assert server.calls(ws.workspace_id)["jobs/list"] == 2


def test_workspace_down_and_back(
    server: LocalDatabricks, ws: DatabricksWorkspace, client: Client
) -> None:
    w = client(clock=SleeplessClock(), retry_timeout_seconds=3)
    url = server.url(ws.workspace_id)
    server.take_down(ws.workspace_id)
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/api/2.2/jobs/list", timeout=2)
    with pytest.raises(TimeoutError):
        list(w.jobs.list())
    server.bring_up(ws.workspace_id)
    assert server.url(ws.workspace_id) == url
    assert list(w.jobs.list()) == []


def test_two_workspaces_are_separate_hosts(
    world: World, ws: DatabricksWorkspace, server: LocalDatabricks, client: Client
) -> None:
    other = world.add_workspace("finance")
    urls = server.start()
    assert set(urls) == {ws.workspace_id, other.workspace_id} and len(set(urls.values())) == 2
    world.add_job(other.workspace_id, "ledger")
    assert [j.settings.name for j in client(other.workspace_id).jobs.list()] == ["ledger"]
    assert list(client().jobs.list()) == []
    with pytest.raises(PermissionDenied):  # one workspace's token is no good on another
        list(client(other.workspace_id, token=ws.token).jobs.list())
    assert client(other.workspace_id).config.workspace_id == str(other.workspace_id)


def test_call_counter(
    world: World, ws: DatabricksWorkspace, server: LocalDatabricks, client: Client
) -> None:
    job = world.add_job(ws.workspace_id, "j")
    run = world.start_run(ws.workspace_id, job.job_id)
    w = client()
    server.reset_calls(ws.workspace_id)
    w.jobs.get_run(run.run_id)
    w.jobs.get_run(run.run_id)
    list(w.jobs.list_runs())
    assert server.calls(ws.workspace_id) == {"jobs/runs/get": 2, "jobs/runs/list": 1}
