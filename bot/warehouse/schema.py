"""The embedded warehouse's tables: every Databricks system table jobs-bot reads, column for
column and type for type (reference/databricks.md section 1), as DuckDB DDL.

DuckDB reserves the catalog name ``system``, so ``system.lakeflow.jobs`` lives here as
``lakeflow.jobs`` (schema ``lakeflow`` in the default catalog); the transpile step drops the
``system`` catalog from every table reference. Timestamps are stored as naive ``TIMESTAMP``
values holding UTC (all system-table timestamps are UTC), so results never depend on the
machine's time zone.

Struct fields marked (inferred) in the reference are modelled as listed there; where the
reference only says "struct" (cloud attributes, init scripts) we keep a small, plausible
subset and say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

from dataclasses import dataclass

_MAP_SS = "MAP(VARCHAR, VARCHAR)"

# usage_metadata: the 25 fields the reference names (the live table has ~50).
_USAGE_METADATA = (
    "STRUCT("
    "cluster_id VARCHAR, job_id VARCHAR, warehouse_id VARCHAR, instance_pool_id VARCHAR, "
    "node_type VARCHAR, job_run_id VARCHAR, notebook_id VARCHAR, dlt_pipeline_id VARCHAR, "
    "endpoint_name VARCHAR, endpoint_id VARCHAR, dlt_update_id VARCHAR, "
    "dlt_maintenance_id VARCHAR, run_name VARCHAR, job_name VARCHAR, notebook_path VARCHAR, "
    "central_clean_room_id VARCHAR, source_region VARCHAR, destination_region VARCHAR, "
    "app_id VARCHAR, app_name VARCHAR, metastore_id VARCHAR, private_endpoint_name VARCHAR, "
    "storage_api_type VARCHAR, budget_policy_id VARCHAR, ai_runtime_pool_id VARCHAR)"
)
_IDENTITY_METADATA = "STRUCT(run_as VARCHAR, created_by VARCHAR, owned_by VARCHAR, run_by VARCHAR)"
_PRODUCT_FEATURES = (
    "STRUCT(jobs_tier VARCHAR, sql_tier VARCHAR, dlt_tier VARCHAR, is_serverless BOOLEAN, "
    "is_photon BOOLEAN, serving_type VARCHAR, networking STRUCT(connectivity_type VARCHAR), "
    "performance_target VARCHAR)"
)
_PRICING = (
    'STRUCT("default" DECIMAL(38,18), promotional STRUCT("default" DECIMAL(38,18)), '
    'effective_list STRUCT("default" DECIMAL(38,18)))'
)
_TRIGGER = (
    "STRUCT("
    "file_arrival STRUCT(url VARCHAR, min_time_between_triggers_seconds INTEGER, "
    "wait_after_last_change_seconds INTEGER), "
    'periodic STRUCT("interval" INTEGER, units VARCHAR), '
    "continuous STRUCT(enabled BOOLEAN), "
    "table_update STRUCT(table_names VARCHAR[], min_time_between_triggers_seconds BIGINT, "
    "wait_after_last_change_seconds BIGINT, condition VARCHAR), "
    "schedule STRUCT(quartz_cron_expression VARCHAR, timezone_id VARCHAR))"
)
_HEALTH_RULES = "STRUCT(metric VARCHAR, operator VARCHAR, value BIGINT)[]"
_COMPUTE = "STRUCT(type VARCHAR, cluster_id VARCHAR, warehouse_id VARCHAR)[]"
# (inferred) The reference gives no field list for these; a small plausible subset.
_AWS = "STRUCT(availability VARCHAR, zone_id VARCHAR, first_on_demand INTEGER, spot_bid_price_percent INTEGER)"
_AZURE = "STRUCT(availability VARCHAR, first_on_demand INTEGER, spot_bid_max_price DOUBLE)"
_GCP = "STRUCT(availability VARCHAR, zone_id VARCHAR, use_preemptible_executors BOOLEAN)"
_INIT_SCRIPTS = (
    "STRUCT(workspace STRUCT(destination VARCHAR), volumes STRUCT(destination VARCHAR), "
    "s3 STRUCT(destination VARCHAR), abfss STRUCT(destination VARCHAR), "
    "gcs STRUCT(destination VARCHAR))[]"
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False  # a loaded file must have it and it must not be NULL


@dataclass(frozen=True)
class Table:
    """One system table. ``full_name`` is the Databricks name, ``local_name`` the DuckDB one."""

    full_name: str
    columns: tuple[Column, ...]

    @property
    def local_name(self) -> str:
        return self.full_name.removeprefix("system.")

    @property
    def schema(self) -> str:
        return self.local_name.split(".")[0]

    def ddl(self) -> str:
        cols = ",\n  ".join(f'"{c.name}" {c.type}' for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.local_name} (\n  {cols}\n)"


def _t(full_name: str, *cols: tuple[str, str] | tuple[str, str, bool]) -> Table:
    return Table(full_name, tuple(Column(*c) for c in cols))


R = True  # required marker, for readability below

TABLES: tuple[Table, ...] = (
    _t(
        "system.lakeflow.jobs",
        ("account_id", "VARCHAR"),
        ("workspace_id", "VARCHAR", R),
        ("job_id", "VARCHAR", R),
        ("name", "VARCHAR"),
        ("description", "VARCHAR"),
        ("creator_id", "VARCHAR"),
        ("tags", _MAP_SS),
        ("change_time", "TIMESTAMP", R),
        ("delete_time", "TIMESTAMP"),
        ("run_as", "VARCHAR"),
        ("trigger", _TRIGGER),
        ("trigger_type", "VARCHAR"),
        ("run_as_user_name", "VARCHAR"),
        ("creator_user_name", "VARCHAR"),
        ("paused", "BOOLEAN"),
        ("timeout_seconds", "BIGINT"),
        ("health_rules", _HEALTH_RULES),
        ("deployment", "STRUCT(kind VARCHAR, metadata_file_path VARCHAR)"),
        ("create_time", "TIMESTAMP"),
    ),
    _t(
        "system.lakeflow.job_tasks",
        ("account_id", "VARCHAR"),
        ("workspace_id", "VARCHAR", R),
        ("job_id", "VARCHAR", R),
        ("task_key", "VARCHAR", R),
        ("depends_on_keys", "VARCHAR[]"),
        ("change_time", "TIMESTAMP", R),
        ("delete_time", "TIMESTAMP"),
        ("timeout_seconds", "BIGINT"),
        ("health_rules", _HEALTH_RULES),
    ),
    _t(
        "system.lakeflow.job_run_timeline",
        ("account_id", "VARCHAR"),
        ("workspace_id", "VARCHAR", R),
        ("job_id", "VARCHAR", R),
        ("run_id", "VARCHAR", R),
        ("period_start_time", "TIMESTAMP", R),
        ("period_end_time", "TIMESTAMP", R),
        ("trigger_type", "VARCHAR"),
        ("run_type", "VARCHAR"),
        ("run_name", "VARCHAR"),
        ("compute_ids", "VARCHAR[]"),
        ("result_state", "VARCHAR"),
        ("termination_code", "VARCHAR"),
        # (inferred: odd, but it is what DESCRIBE shows)
        ("job_parameters", f"MAP(VARCHAR, {_MAP_SS})"),
        ("source_task_run_id", "VARCHAR"),
        ("root_task_run_id", "VARCHAR"),
        ("compute", _COMPUTE),
        ("termination_type", "VARCHAR"),
        ("setup_duration_seconds", "BIGINT"),
        ("queue_duration_seconds", "BIGINT"),
        ("run_duration_seconds", "BIGINT"),
        ("cleanup_duration_seconds", "BIGINT"),
        ("execution_duration_seconds", "BIGINT"),
    ),
    _t(
        "system.lakeflow.job_task_run_timeline",
        ("account_id", "VARCHAR"),
        ("workspace_id", "VARCHAR", R),
        ("job_id", "VARCHAR", R),
        ("run_id", "VARCHAR", R),
        ("job_run_id", "VARCHAR"),
        ("parent_run_id", "VARCHAR"),
        ("period_start_time", "TIMESTAMP", R),
        ("period_end_time", "TIMESTAMP", R),
        ("task_key", "VARCHAR"),
        ("compute_ids", "VARCHAR[]"),
        ("result_state", "VARCHAR"),
        ("termination_code", "VARCHAR"),
        ("compute", _COMPUTE),
        ("termination_type", "VARCHAR"),
        ("task_parameters", _MAP_SS),
        ("setup_duration_seconds", "BIGINT"),
        ("cleanup_duration_seconds", "BIGINT"),
        ("execution_duration_seconds", "BIGINT"),
    ),
    _t(
        "system.billing.usage",
        ("record_id", "VARCHAR", R),
        ("account_id", "VARCHAR"),
        ("workspace_id", "VARCHAR", R),
        ("sku_name", "VARCHAR", R),
        ("cloud", "VARCHAR", R),
        ("usage_start_time", "TIMESTAMP", R),
        ("usage_end_time", "TIMESTAMP", R),
        ("usage_date", "DATE", R),
        ("custom_tags", _MAP_SS),
        ("usage_unit", "VARCHAR"),
        ("usage_quantity", "DECIMAL(38,18)", R),
        ("usage_metadata", _USAGE_METADATA),
        ("identity_metadata", _IDENTITY_METADATA),
        ("record_type", "VARCHAR"),
        ("ingestion_date", "DATE"),
        ("billing_origin_product", "VARCHAR"),
        ("product_features", _PRODUCT_FEATURES),
        ("usage_type", "VARCHAR"),
    ),
    _t(
        "system.billing.list_prices",
        ("price_start_time", "TIMESTAMP", R),
        ("price_end_time", "TIMESTAMP"),
        ("account_id", "VARCHAR"),
        ("sku_name", "VARCHAR", R),
        ("cloud", "VARCHAR", R),
        ("currency_code", "VARCHAR"),
        ("usage_unit", "VARCHAR"),
        ("pricing", _PRICING, R),
    ),
    _t(
        "system.compute.clusters",
        ("account_id", "VARCHAR"),
        ("workspace_id", "VARCHAR", R),
        ("cluster_id", "VARCHAR", R),
        ("cluster_name", "VARCHAR"),
        ("owned_by", "VARCHAR"),
        ("create_time", "TIMESTAMP"),
        ("delete_time", "TIMESTAMP"),
        ("driver_node_type", "VARCHAR"),
        ("worker_node_type", "VARCHAR"),
        ("worker_count", "BIGINT"),
        ("min_autoscale_workers", "BIGINT"),
        ("max_autoscale_workers", "BIGINT"),
        ("auto_termination_minutes", "BIGINT"),
        ("enable_elastic_disk", "BOOLEAN"),
        ("tags", _MAP_SS),
        ("cluster_source", "VARCHAR"),
        ("init_scripts", _INIT_SCRIPTS),
        ("aws_attributes", _AWS),
        ("azure_attributes", _AZURE),
        ("gcp_attributes", _GCP),
        ("driver_instance_pool_id", "VARCHAR"),
        ("worker_instance_pool_id", "VARCHAR"),
        ("dbr_version", "VARCHAR"),
        ("change_time", "TIMESTAMP", R),
        ("change_date", "DATE"),
        ("data_security_mode", "VARCHAR"),  # (inferred: newer docs)
        ("policy_id", "VARCHAR"),  # (inferred: newer docs)
    ),
    _t(
        "system.compute.node_timeline",
        ("account_id", "VARCHAR"),
        ("workspace_id", "VARCHAR", R),
        ("cluster_id", "VARCHAR", R),
        ("instance_id", "VARCHAR", R),
        ("start_time", "TIMESTAMP", R),
        ("end_time", "TIMESTAMP", R),
        ("driver", "BOOLEAN"),
        ("cpu_user_percent", "DOUBLE"),
        ("cpu_system_percent", "DOUBLE"),
        ("cpu_wait_percent", "DOUBLE"),
        ("mem_used_percent", "DOUBLE"),
        ("mem_swap_percent", "DOUBLE"),
        ("network_sent_bytes", "BIGINT"),
        ("network_received_bytes", "BIGINT"),
        ("disk_free_bytes_per_mount_point", "MAP(VARCHAR, BIGINT)"),
        ("node_type", "VARCHAR"),
    ),
    _t(
        "system.compute.node_types",
        ("account_id", "VARCHAR"),
        ("node_type", "VARCHAR", R),
        ("core_count", "DOUBLE"),
        ("memory_mb", "BIGINT"),
        ("gpu_count", "BIGINT"),
    ),
    _t(
        "system.access.workspaces_latest",
        ("account_id", "VARCHAR"),
        ("workspace_id", "VARCHAR", R),
        ("workspace_name", "VARCHAR"),
        ("workspace_url", "VARCHAR"),
        ("create_time", "TIMESTAMP"),
        ("status", "VARCHAR"),
    ),
)

BY_NAME: dict[str, Table] = {t.full_name: t for t in TABLES}


def create_all(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table (idempotent) on a DuckDB connection."""
    for schema in sorted({t.schema for t in TABLES}):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for t in TABLES:
        con.execute(t.ddl())
