"""Row helpers for the lateness tests: the query tests' helpers plus a scheduled job."""

from __future__ import annotations

from datetime import datetime

from tests.warehouse.wh_world import World as Tables


class Rows(Tables):
    """The query tests' helpers plus a scheduled job row (trigger.schedule, paused)."""

    def scheduled_job(
        self,
        ws: str,
        job_id: str,
        name: str,
        change: str,
        cron: str,
        tz: str = "UTC",
        *,
        paused: bool = False,
        deleted: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.con.execute(
            "INSERT INTO lakeflow.jobs (account_id, workspace_id, job_id, name, tags, "
            "change_time, delete_time, paused, \"trigger\") VALUES ('acc', ?, ?, ?, ?, ?, ?, ?, "
            "{'file_arrival': NULL, 'periodic': NULL, 'continuous': NULL, 'table_update': NULL, "
            "'schedule': {'quartz_cron_expression': ?, 'timezone_id': ?}})",
            [ws, job_id, name, tags or {}, datetime.fromisoformat(change),
             datetime.fromisoformat(deleted) if deleted else None, paused, cron, tz],
        )  # fmt: skip
