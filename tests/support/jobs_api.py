"""Jobs API clients for tests, built the way the bot builds them (real WorkspaceClient, real
HTTP) against a LocalDatabricks, with a fake timer under the SDK's retry loop so Retry-After
waits cost no wall time; `START` is the fixed instant their worlds start at."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.config.secrets import Secrets
from bot.config.sections import WorkspaceConfig
from bot.jobs_api import JobsApi, JobsApiSettings
from sandbox.databricks import LocalDatabricks

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeTimer:
    """Virtual time for the SDK's retries: sleep() advances it and is recorded."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def workspace_config(
    server: LocalDatabricks, workspace_id: int, **extra: object
) -> WorkspaceConfig:
    # model_construct: the config insists on https://, the sandbox serves http://127.0.0.1.
    with server.world.lock:
        name = server.world.workspace(workspace_id).name
    fields = {"jobs_api": True, "pat_env": None, **extra}
    return WorkspaceConfig.model_construct(
        id=str(workspace_id), name=name, host=server.url(workspace_id), **fields
    )


FAST = JobsApiSettings(
    background_seconds=8, interactive_seconds=4, http_timeout_seconds=2, probe_seconds=1
)


def make_api(
    server: LocalDatabricks,
    *workspace_ids: int,
    timer: FakeTimer | None = None,
    secrets: Secrets | None = None,
    env: Mapping[str, str] | None = None,
    settings: JobsApiSettings = FAST,
    pat_env: Mapping[int, str] | None = None,
) -> JobsApi:
    server.start()
    configs = [workspace_config(server, w, pat_env=(pat_env or {}).get(w)) for w in workspace_ids]
    if secrets is None:
        secrets = Secrets(databricks_token=server.token(workspace_ids[0]))
    return JobsApi(configs, secrets, env=env, settings=settings, timer=timer or FakeTimer())
