"""The Jobs REST API of each configured workspace, through databricks-sdk (this package is the
only part of bot/ that imports it): runs, task errors, repair, run-now and job permissions, as
the typed results of bot.models; SDK errors become JobsApiUnavailable / JobsApiRefused /
RunNotFound / JobNotFound, so callers never see the SDK.

`client` (JobsApi: bounded calls per workspace), `parse` (raw JSON → models), `access` (who
may rerun a job), `wire` (raw JSON calls), `oauth` (the SQL connector's OAuth provider).
"""

from bot.jobs_api.client import JobsApi, JobsApiSettings, Timer
from bot.jobs_api.parse import parse_run, parse_state, parse_task

__all__ = ["JobsApi", "JobsApiSettings", "Timer", "parse_run", "parse_state", "parse_task"]
