"""Hand-built system-table rows for the query tests (and every test that fills an embedded
warehouse row by row): tiny helpers that insert one row each into an in-memory embedded
warehouse, so every fixture reads like the story it tells. `Rows` adds a scheduled job row, for
the lateness tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.warehouse.duckdb_backend import DuckDBWarehouse


def t(text: str) -> datetime:
    """'2026-03-02 09:00' -> naive UTC datetime (how the embedded tables store time)."""
    return datetime.fromisoformat(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class World:
    def __init__(self, wh: DuckDBWarehouse) -> None:
        self.wh = wh
        self.con = wh.connection
        self._n = 0

    def _insert(self, table: str, **cols: Any) -> None:
        names = ", ".join(f'"{k}"' for k in cols)
        marks = ", ".join("?" for _ in cols)
        self.con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(cols.values()))

    def workspace(self, ws: str, name: str, url: str | None = None) -> None:
        self._insert(
            "access.workspaces_latest",
            workspace_id=ws,
            workspace_name=name,
            workspace_url=url or f"https://{name}.cloud.databricks.com",
            status="RUNNING",
        )

    def job(
        self,
        ws: str,
        job_id: str,
        name: str,
        change: str,
        *,
        deleted: str | None = None,
        tags: dict[str, str] | None = None,
        run_as: str | None = None,
        creator: str | None = None,
    ) -> None:
        self._insert(
            "lakeflow.jobs",
            account_id="acc",
            workspace_id=ws,
            job_id=job_id,
            name=name,
            tags=tags or {},
            change_time=t(change),
            delete_time=t(deleted) if deleted else None,
            run_as_user_name=run_as,
            creator_user_name=creator,
        )

    def slice(
        self,
        ws: str,
        job_id: str,
        run_id: str,
        start: str,
        end: str,
        state: str | None = None,
        code: str | None = None,
        *,
        run_type: str | None = "JOB_RUN",
    ) -> None:
        self._insert(
            "lakeflow.job_run_timeline",
            account_id="acc",
            workspace_id=ws,
            job_id=job_id,
            run_id=run_id,
            period_start_time=t(start),
            period_end_time=t(end),
            result_state=state,
            termination_code=code,
            run_type=run_type,
            trigger_type="CRON",
        )

    def task_slice(
        self, ws: str, job_id: str, job_run_id: str, start: str, end: str, compute: list[str]
    ) -> None:
        self._n += 1
        self._insert(
            "lakeflow.job_task_run_timeline",
            workspace_id=ws,
            job_id=job_id,
            run_id=f"task-{self._n}",
            job_run_id=job_run_id,
            period_start_time=t(start),
            period_end_time=t(end),
            task_key="main",
            compute_ids=compute,
        )

    def task_run(
        self,
        ws: str,
        job_id: str,
        job_run_id: str,
        task_key: str,
        task_run_id: str,
        start: str,
        end: str,
        state: str | None = None,
    ) -> None:
        """One slice of a task run (an attempt: a retry or a repair is another task run id);
        result_state only on a task run's last slice, as in the table."""
        self._insert(
            "lakeflow.job_task_run_timeline",
            workspace_id=ws,
            job_id=job_id,
            run_id=task_run_id,
            job_run_id=job_run_id,
            period_start_time=t(start),
            period_end_time=t(end),
            task_key=task_key,
            result_state=state,
        )

    def price(
        self,
        sku: str,
        price: str,
        start: str,
        end: str | None = None,
        *,
        currency: str = "USD",
        unit: str = "DBU",
    ) -> None:
        self._insert(
            "billing.list_prices",
            price_start_time=t(start),
            price_end_time=t(end) if end else None,
            sku_name=sku,
            cloud="AWS",
            currency_code=currency,
            usage_unit=unit,
            pricing={
                "default": price,
                "promotional": {"default": price},
                "effective_list": {"default": price},
            },  # fmt: skip
        )

    def usage(
        self,
        ws: str,
        sku: str,
        start: str,
        end: str,
        qty: str,
        *,
        job_id: str | None = None,
        run_id: str | None = None,
        cluster_id: str | None = None,
        node_type: str | None = None,
        record_type: str = "ORIGINAL",
        tags: dict[str, str] | None = None,
        run_as: str | None = None,
        unit: str = "DBU",
    ) -> None:
        self._n += 1
        self._insert(
            "billing.usage",
            record_id=f"rec-{self._n}",
            account_id="acc",
            workspace_id=ws,
            sku_name=sku,
            cloud="AWS",
            usage_start_time=t(start),
            usage_end_time=t(end),
            usage_date=t(start).date(),
            custom_tags=tags or {},
            usage_unit=unit,
            usage_quantity=qty,
            usage_metadata={
                "job_id": job_id,
                "job_run_id": run_id,
                "cluster_id": cluster_id,
                "node_type": node_type,
            },  # fmt: skip
            identity_metadata={"run_as": run_as},
            record_type=record_type,
        )

    def cluster(self, ws: str, cluster_id: str, name: str, source: str, change: str) -> None:
        self._insert(
            "compute.clusters",
            workspace_id=ws,
            cluster_id=cluster_id,
            cluster_name=name,
            cluster_source=source,
            change_time=t(change),
        )

    def node_minute(
        self, ws: str, cluster_id: str, start: str, cpu_user: float, cpu_sys: float
    ) -> None:
        begin = t(start)
        self._insert(
            "compute.node_timeline",
            workspace_id=ws,
            cluster_id=cluster_id,
            instance_id=f"{cluster_id}-driver",
            start_time=begin,
            end_time=begin.replace(second=0) + (t("2026-01-01 00:01") - t("2026-01-01 00:00")),
            driver=True,
            cpu_user_percent=cpu_user,
            cpu_system_percent=cpu_sys,
        )


class Rows(World):
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
