"""The demo account's fixed vocabulary: the well-known jobs the story is told with, name parts for
generated jobs, teams and people, node types, SKUs with their list prices, and failure modes.
Plain data; no randomness here."""

from __future__ import annotations

from dataclasses import dataclass

CLOUD = "AZURE"
EMAIL_DOMAIN = "example.com"

TEAMS = ("data-eng", "analytics", "ml-platform", "finance-data", "growth", "platform")
PEOPLE = (
    "ana.silva", "ben.carter", "chloe.martin", "dev.patel", "emma.schmidt", "felix.nguyen",
    "grace.okafor", "hiro.tanaka", "ines.garcia", "jonas.berg", "kira.ivanova", "liam.walsh",
    "maya.cohen", "noah.kim", "olivia.rossi", "pablo.mendes",
)  # fmt: skip
WORKSPACE_NAMES = ("prod-data-eng", "prod-analytics", "ml-prod", "finance-prod", "dev-sandbox")

ENTITIES = (
    "orders", "customers", "payments", "shipments", "invoices", "sessions", "products",
    "inventory", "returns", "subscriptions", "leads", "campaigns", "tickets", "devices",
    "ledger", "pricing", "reviews", "claims", "vendors", "clicks", "carts", "refunds",
)  # fmt: skip
ACTIONS = (
    "ingest", "daily_load", "dedup", "snapshot", "enrich", "aggregate", "export", "compact",
    "validate", "scd2_merge", "refresh", "rollup",
)  # fmt: skip
STREAM_ACTIONS = ("stream", "cdc_stream", "autoloader", "sessionize")  # continuous jobs
REGIONS = ("us", "emea", "apac", "latam")


@dataclass(frozen=True)
class NodeType:
    name: str
    cores: float
    memory_mb: int
    gpus: int
    dbu_per_hour: float  # Azure classic jobs compute rate for one node (inferred, plausible)


NODE_TYPES = (
    NodeType("Standard_DS3_v2", 4, 14336, 0, 0.75),
    NodeType("Standard_DS4_v2", 8, 28672, 0, 1.5),
    NodeType("Standard_DS5_v2", 16, 57344, 0, 3.0),
    NodeType("Standard_E8s_v3", 8, 65536, 0, 2.0),
    NodeType("Standard_E16s_v3", 16, 131072, 0, 4.0),
    NodeType("Standard_F8s_v2", 8, 16384, 0, 1.0),
    NodeType("Standard_L8s_v2", 8, 65536, 0, 2.0),
    NodeType("Standard_NC6s_v3", 6, 114688, 1, 3.0),
)
NODE = {n.name: n for n in NODE_TYPES}
CPU_NODES = tuple(n.name for n in NODE_TYPES if not n.gpus)

# SKU names follow the documented pattern <tier>_<product>[_<region>] (inferred spelling for the
# serverless region suffix).
SKU_JOBS = "PREMIUM_JOBS_COMPUTE"
SKU_SERVERLESS = "PREMIUM_JOBS_SERVERLESS_COMPUTE_US_EAST"
SKU_ALL_PURPOSE = "PREMIUM_ALL_PURPOSE_COMPUTE"


@dataclass(frozen=True)
class Price:
    sku: str
    before: str  # effective list price per DBU before the change (USD)
    after: str
    promo_before: str | None = None  # promotional price in force before the change, if any


PRICES = (
    Price(SKU_JOBS, "0.30", "0.33"),
    # Serverless had a promotional price that ended with the change: effective 0.35 -> 0.45.
    Price(SKU_SERVERLESS, "0.45", "0.45", promo_before="0.35"),
    Price(SKU_ALL_PURPOSE, "0.55", "0.60"),
)


@dataclass(frozen=True)
class FailureMode:
    result_state: str
    termination_code: str
    termination_type: str
    message: str
    weight: int


# System-table result_state spellings (SUCCEEDED, FAILED, ERROR, TIMED_OUT, CANCELLED) differ from
# the API's (SUCCESS, TIMEDOUT, CANCELED); reference/databricks.md 1.10 marks them (inferred).
# Which termination_code accompanies TIMED_OUT is not documented; RUN_EXECUTION_ERROR is a guess.
FAILURE_MODES = (
    FailureMode("FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
                "Task failed: AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]", 50),
    FailureMode("FAILED", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
                "Task failed: Py4JJavaError: NullPointerException in UDF", 12),
    FailureMode("ERROR", "CLUSTER_ERROR", "CLOUD_FAILURE",
                "Cluster failed to start: cloud provider capacity (AllocationFailed)", 10),
    FailureMode("ERROR", "DRIVER_ERROR", "INTERNAL_ERROR",
                "The Spark driver has stopped unexpectedly and is restarting", 8),
    FailureMode("ERROR", "LIBRARY_INSTALLATION_ERROR", "CLIENT_ERROR",
                "Library installation failed: pip could not resolve 'pandas==3.9.1'", 6),
    FailureMode("ERROR", "INTERNAL_ERROR", "INTERNAL_ERROR",
                "Run failed due to an internal error", 3),
    FailureMode("FAILED", "STORAGE_ACCESS_ERROR", "CLIENT_ERROR",
                "Failed to access storage: 403 This request is not authorized", 4),
    FailureMode("TIMED_OUT", "RUN_EXECUTION_ERROR", "CLIENT_ERROR",
                "Run timed out after the job's timeout_seconds", 4),
    FailureMode("CANCELLED", "USER_CANCELED", "SUCCESS", "Run was cancelled by a user", 4),
)  # fmt: skip
FAILURE_STATES = ("FAILED", "ERROR", "TIMED_OUT")
MODE_BY_CODE = {(m.result_state, m.termination_code): m for m in FAILURE_MODES}


@dataclass(frozen=True)
class WellKnown:
    """A named job with a role in the story. ``ws`` is its workspace index (mod the count)."""

    name: str
    team: str
    kind: str  # daily | hourly | weekly | continuous
    hour: int
    minute: int
    median_min: float
    compute: str  # job_cluster | serverless | all_purpose
    tasks: int
    ws: int = 0
    role: str = ""  # streak | late | spike | rename | delete | pause | inflight | ""
    streak: tuple[str, str, int] = ("", "", 0)  # result_state, termination_code, length
    old_name: str = ""


WELL_KNOWN = (
    WellKnown("nightly_sales", "analytics", "daily", 3, 0, 120, "job_cluster", 4, role="late"),
    WellKnown("customer_360_build", "growth", "daily", 4, 0, 50, "job_cluster", 6,
              role="streak", streak=("FAILED", "RUN_EXECUTION_ERROR", 3)),
    WellKnown("hourly_events_ingest", "data-eng", "hourly", 0, 5, 9, "serverless", 1,
              role="streak", streak=("FAILED", "RUN_EXECUTION_ERROR", 5)),
    WellKnown("ml_feature_refresh", "ml-platform", "daily", 1, 0, 40, "job_cluster", 3,
              role="spike"),
    WellKnown("nightly_etl", "data-eng", "daily", 1, 30, 75, "job_cluster", 5, ws=1),
    WellKnown("weekly_finance_rollup", "finance-data", "weekly", 6, 0, 95, "job_cluster", 3,
              ws=1, role="inflight"),
    WellKnown("finance_gl_export", "finance-data", "daily", 2, 0, 20, "job_cluster", 2, ws=1,
              role="streak", streak=("ERROR", "DRIVER_ERROR", 2)),
    # Continuous jobs: the stream stops itself every few hours (median_min) and the continuous
    # trigger starts the next run a minute later, so a run lasts hours, not days.
    WellKnown("clickstream_sessionize", "data-eng", "continuous", 0, 0, 240, "job_cluster", 1),
    WellKnown("dq_checks_daily", "platform", "daily", 6, 15, 12, "all_purpose", 2, ws=2),
    WellKnown("marketing_attribution", "growth", "daily", 5, 0, 35, "serverless", 2, ws=2,
              role="rename", old_name="mkt_attribution_v2"),
    WellKnown("inventory_snapshot", "data-eng", "hourly", 0, 30, 4, "serverless", 1, ws=1),
    WellKnown("orders_cdc_stream", "data-eng", "continuous", 0, 0, 360, "job_cluster", 1, ws=1),
    # A name with Slack mrkdwn control characters: it must render as text, never as a mention.
    WellKnown("partner_feed_export <acme & co>", "analytics", "daily", 7, 0, 15, "all_purpose",
              1),
    WellKnown("legacy_reporting_v1", "analytics", "daily", 2, 30, 25, "job_cluster", 2, ws=2,
              role="delete"),
    WellKnown("adhoc_backfill_2025", "data-eng", "daily", 9, 0, 30, "serverless", 1,
              role="pause"),
)  # fmt: skip
