"""Row buffers: each table's rows as tuples in a fixed field order, handed to the warehouse writer
column by column in batches (appending tuples is the cheapest way to build millions of rows in
Python; the writer turns columns into Arrow arrays in one go)."""

from __future__ import annotations

from typing import Any, Protocol

JOB_RUNS = "system.lakeflow.job_run_timeline"
TASK_RUNS = "system.lakeflow.job_task_run_timeline"
JOBS = "system.lakeflow.jobs"
JOB_TASKS = "system.lakeflow.job_tasks"
USAGE = "system.billing.usage"
PRICES = "system.billing.list_prices"
CLUSTERS = "system.compute.clusters"
NODE_TIMELINE = "system.compute.node_timeline"
NODE_TYPES = "system.compute.node_types"
WORKSPACES = "system.access.workspaces_latest"

FIELDS: dict[str, tuple[str, ...]] = {
    JOB_RUNS: (
        "workspace_id", "job_id", "run_id", "period_start_time", "period_end_time",
        "trigger_type", "run_type", "run_name", "compute_ids", "result_state",
        "termination_code", "termination_type", "setup_duration_seconds",
        "queue_duration_seconds", "run_duration_seconds", "cleanup_duration_seconds",
        "execution_duration_seconds",
    ),
    TASK_RUNS: (
        "workspace_id", "job_id", "run_id", "job_run_id", "parent_run_id", "period_start_time",
        "period_end_time", "task_key", "compute_ids", "result_state", "termination_code",
        "termination_type", "setup_duration_seconds", "cleanup_duration_seconds",
        "execution_duration_seconds",
    ),
    JOBS: (
        "workspace_id", "job_id", "name", "description", "creator_id", "tags", "change_time",
        "delete_time", "run_as", "trigger", "trigger_type", "run_as_user_name",
        "creator_user_name", "paused", "timeout_seconds", "health_rules", "create_time",
    ),
    JOB_TASKS: (
        "workspace_id", "job_id", "task_key", "depends_on_keys", "change_time", "delete_time",
        "timeout_seconds",
    ),
    USAGE: (
        "record_id", "workspace_id", "sku_name", "cloud", "usage_start_time", "usage_end_time",
        "usage_date", "custom_tags", "usage_unit", "usage_quantity", "usage_metadata",
        "identity_metadata", "record_type", "ingestion_date", "billing_origin_product",
        "product_features", "usage_type",
    ),
    PRICES: (
        "price_start_time", "price_end_time", "sku_name", "cloud", "currency_code", "usage_unit",
        "pricing",
    ),
    CLUSTERS: (
        "workspace_id", "cluster_id", "cluster_name", "owned_by", "create_time", "delete_time",
        "driver_node_type", "worker_node_type", "worker_count", "min_autoscale_workers",
        "max_autoscale_workers", "auto_termination_minutes", "enable_elastic_disk", "tags",
        "cluster_source", "azure_attributes", "dbr_version", "change_time", "change_date",
        "data_security_mode",
    ),
    NODE_TIMELINE: (
        "workspace_id", "cluster_id", "instance_id", "start_time", "end_time", "driver",
        "cpu_user_percent", "cpu_system_percent", "cpu_wait_percent", "mem_used_percent",
        "mem_swap_percent", "network_sent_bytes", "network_received_bytes",
        "disk_free_bytes_per_mount_point", "node_type",
    ),
    NODE_TYPES: ("node_type", "core_count", "memory_mb", "gpu_count"),
    WORKSPACES: ("workspace_id", "workspace_name", "workspace_url", "create_time", "status"),
}  # fmt: skip


class Writer(Protocol):
    def append(self, full_name: str, columns: dict[str, list[Any]]) -> int: ...


class Batch:
    """Rows waiting to be written; ``size`` tells the generator when to flush."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.corrections = 0  # RETRACTION/RESTATEMENT pairs emitted so far
        self.rows: dict[str, list[tuple]] = {name: [] for name in FIELDS}

    @property
    def size(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def flush(self, writer: Writer) -> None:
        for name, rows in self.rows.items():
            if not rows:
                continue
            fields = FIELDS[name]
            columns = {f: list(col) for f, col in zip(fields, zip(*rows, strict=True), strict=True)}
            columns["account_id"] = [self.account_id] * len(rows)
            writer.append(name, columns)
            rows.clear()
