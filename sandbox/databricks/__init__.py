"""A local Databricks, faithful to the wire, for `jobs-bot demo` and the tests.

`World` (world.py) holds one account's state — workspaces, users, groups, jobs with ACLs,
runs with task attempts and repairs — with an injected clock. `LocalDatabricks` (server.py)
serves each workspace on its own loopback port to the real `databricks-sdk`: Jobs API 2.2
(and the 2.1 alias), job permissions, SCIM, PAT and OAuth M2M auth, plus faults and a call
counter for tests.

Usage::

    from datetime import UTC, datetime
    from bot.clock import FixedClock
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config
    from sandbox.databricks import LocalDatabricks, World

    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    world = World(clock)
    ws = world.add_workspace("analytics")
    job = world.add_job(ws.workspace_id, "nightly", ["extract", ("load", ["extract"])])
    run = world.start_run(ws.workspace_id, job.job_id, "PERIODIC")
    world.set_task_outcome(ws.workspace_id, run.run_id, "extract", "FAILED", "boom")
    with LocalDatabricks(world) as server:
        cfg = Config(**server.sdk_kwargs(ws.workspace_id), retry_timeout_seconds=5)
        w = WorkspaceClient(config=cfg)
        print([r.state.result_state for r in w.jobs.list_runs(job_id=job.job_id)])
        server.faults(ws.workspace_id).throttle(2, retry_after=1)
        server.calls(ws.workspace_id)  # {"jobs/runs/list": 1, ...}
"""

from sandbox.databricks.server import LocalDatabricks
from sandbox.databricks.world import World

__all__ = ["LocalDatabricks", "World"]
