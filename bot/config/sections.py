"""The sections of the config file as frozen pydantic models: warehouse, workspaces, Slack,
routing, SLA rules, schedules, cost, monitoring, permissions and state.

`extra="forbid"` everywhere so a misspelt key is reported instead of silently ignored.
Cross-section checks (does a routing rule name a known channel?) live in `checks.py`.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from datetime import time, timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.config import parsing

Duration = Annotated[timedelta, BeforeValidator(parsing.parse_duration)]
ClockTime = Annotated[time, BeforeValidator(parsing.parse_clock_time)]
Days = Annotated[frozenset[int], BeforeValidator(parsing.parse_days)]
Cron = Annotated[str, AfterValidator(parsing.check_cron)]
Channel = Annotated[str, BeforeValidator(parsing.parse_channel)]
UserId = Annotated[str, AfterValidator(parsing.check_user_id)]
GroupId = Annotated[str, AfterValidator(parsing.check_group_id)]
Email = Annotated[str, AfterValidator(parsing.check_email)]
TimeZoneName = Annotated[str, AfterValidator(parsing.check_timezone)]
WorkspaceId = Annotated[str, BeforeValidator(lambda v: _digits(v, "workspace id"))]
JobId = Annotated[str, BeforeValidator(lambda v: _digits(v, "job id"))]


def _digits(value: object, what: str) -> object:
    # Ids are strings in the system tables; YAML reads 123 as an int, so accept both.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.isdigit():
        raise ValueError(f"{parsing._show(value)} is not a {what} (digits only)")
    return value


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- warehouse -----------------------------------------------------------------------------


def _memory_size(value: str) -> str:
    # The same spelling DuckDB's `SET memory_limit` takes (bot.warehouse.duckdb_backend).
    if not re.match(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", value, re.IGNORECASE):
        raise ValueError(f"{parsing._show(value)} is not a memory size like 1GB or 512MiB")
    return value


class EmbeddedWarehouseConfig(Section):
    path: str = "jobs-bot.duckdb"  # ":memory:" keeps it in memory
    # DuckDB's defaults (80% of memory, a thread per core) would let one query take the
    # machine from the Slack listeners; these bound it.
    memory_limit: Annotated[str, AfterValidator(_memory_size)] = "1GB"
    threads: int = Field(default=2, ge=1, le=64)


_HTTP_PATH = re.compile(
    r"^/sql/1\.0/(warehouses|endpoints)/[A-Za-z0-9]+$|^/sql/protocolv1/o/\d+/[\w-]+$"
)


def _server_hostname(value: object) -> object:
    # The connector wants the bare host name (the warehouse's "Server hostname"); people paste
    # the workspace URL, which `workspaces[].host` does want. Say so rather than guess.
    if isinstance(value, str):
        text = value.strip()
        scheme = re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", text)
        if scheme:
            parts = urlsplit(text)
            host = parts.netloc or text[scheme.end() :].split("/")[0]
            path = " and the path" if parts.path.strip("/") else ""
            raise ValueError(
                f"{parsing._show(value)} is a URL, not a host name: "
                f'drop "{scheme.group(0)}"{path} and write {host}'
            )
        text = text.rstrip("/")
        if not re.match(r"^[A-Za-z0-9.\-]+(:\d+)?$", text):
            raise ValueError(
                f"{parsing._show(value)} is not a host name (e.g. adb-123.4.azuredatabricks.net)"
            )
        return text
    return value


def _http_path(value: str) -> str:
    if not value.startswith("/") and _HTTP_PATH.match("/" + value):
        raise ValueError(f'{parsing._show(value)} needs a leading "/": write "/{value}"')
    if not _HTTP_PATH.match(value):
        raise ValueError(f"{parsing._show(value)} is not like /sql/1.0/warehouses/<id>")
    return value


class DatabricksWarehouseConfig(Section):
    server_hostname: Annotated[str, BeforeValidator(_server_hostname)]
    http_path: Annotated[str, AfterValidator(_http_path)]


class WarehouseConfig(Section):
    embedded: EmbeddedWarehouseConfig | None = None
    databricks: DatabricksWarehouseConfig | None = None
    cache_ttl_seconds: int = Field(60, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> WarehouseConfig:
        if (self.embedded is None) == (self.databricks is None):
            raise ValueError("give either embedded or databricks")
        return self


# --- workspaces ----------------------------------------------------------------------------


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _https_url(value: str) -> str:
    # Plain http only on this machine's loopback: the local Databricks of `jobs-bot demo`.
    parts = urlsplit(value)
    local = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if (parts.scheme != "https" and not local) or not parts.netloc:
        raise ValueError(f"{parsing._show(value)} is not an https:// URL")
    return value.rstrip("/")


def _env_name(value: str) -> str:
    # A name, never the token itself: a pasted dapi… token fails this (lower case).
    if not re.match(r"^[A-Z_][A-Z0-9_]*$", value):
        # Not echoed: it may be the token itself.
        raise ValueError("is not an environment variable name (give the name, not the token)")
    return value


class WorkspaceConfig(Section):
    id: WorkspaceId
    name: str = Field(min_length=1)
    host: Annotated[str, AfterValidator(_https_url)]
    jobs_api: bool = True  # False: watch this workspace through system tables only
    # The environment variable that holds this workspace's personal access token. A PAT works
    # in its own workspace only, so with several workspaces one DATABRICKS_TOKEN cannot serve
    # them all (an OAuth service principal can). Unset: OAuth M2M, else DATABRICKS_TOKEN.
    pat_env: Annotated[str, AfterValidator(_env_name)] | None = None


# --- Slack ---------------------------------------------------------------------------------


def _command(value: str) -> str:
    if not re.match(r"^/[a-z0-9_\-]{1,31}$", value):
        raise ValueError(f"{parsing._show(value)} is not a slash command like /jobs")
    return value


def _api_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"{parsing._show(value)} is not a URL like https://slack.com/api/")
    return value if value.endswith("/") else value + "/"


class Slack(Section):
    mode: Literal["socket", "http"] = "socket"
    http_port: int = Field(3000, ge=1, le=65535)
    # GovSlack (https://slack-gov.com/api/) or a local sandbox; slack_sdk appends the method.
    api_url: Annotated[str, AfterValidator(_api_url)] = "https://slack.com/api/"
    command: Annotated[str, AfterValidator(_command)] = "/jobs"
    default_channel: Channel
    channels: dict[str, Channel] = {}


# --- jobs, routing, SLAs -------------------------------------------------------------------


class JobSelector(Section):
    """One job, by name (any workspace unless workspace_id is given) or by workspace_id + job_id."""

    name: str | None = None
    workspace_id: WorkspaceId | None = None
    job_id: JobId | None = None

    @model_validator(mode="after")
    def _check(self) -> JobSelector:
        if self.job_id is not None and self.workspace_id is None:
            raise ValueError("job_id needs workspace_id too (job ids repeat across workspaces)")
        if self.name is None and self.job_id is None:
            raise ValueError("give name, or workspace_id and job_id")
        return self

    def matches(self, job_name: str | None, workspace_id: str | None, job_id: str | None) -> bool:
        if self.workspace_id is not None and str(workspace_id) != self.workspace_id:
            return False
        if self.job_id is not None and str(job_id) != self.job_id:
            return False
        return self.name is None or self.name == job_name

    def describe(self) -> str:
        if self.name is not None:
            return self.name
        return f"job {self.job_id} in workspace {self.workspace_id}"


@functools.lru_cache(maxsize=256)
def compile_name_pattern(pattern: str) -> re.Pattern[str]:
    """A glob ("nightly_*", case-insensitive) or, prefixed with "re:", a regular expression
    searched anywhere in the name (anchor it with ^ and $)."""
    if pattern.startswith("re:"):
        return re.compile(pattern[3:])
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


def _check_pattern(value: str) -> str:
    try:
        compile_name_pattern(value)
    except re.error as e:
        raise ValueError(f"{parsing._show(value)} is not a valid regular expression: {e}") from None
    return value


def _channel_ref(value: object) -> object:
    if isinstance(value, str) and re.match(r"^[a-z0-9][a-z0-9_\-]*$", value.strip()):
        return value.strip()  # a key of slack.channels
    return parsing.parse_channel(value)


class RoutingRule(Section):
    """Send matching jobs' alerts to `channel`. All matchers given must match."""

    tag: dict[str, str] | None = None
    name_pattern: Annotated[str, AfterValidator(_check_pattern)] | None = None
    workspace: str | None = None  # a workspace id or a name from `workspaces`
    job: JobSelector | None = None
    # A key of slack.channels, "#channel-name" or a channel id (checked against slack.channels
    # in checks.py, which sees the whole file).
    channel: Annotated[str, BeforeValidator(_channel_ref)]

    @model_validator(mode="before")
    @classmethod
    def _tag_values_as_text(cls, data: object) -> object:
        # `team: 42` or `critical: true` in YAML are not strings, but tags are.
        if isinstance(data, dict) and isinstance(data.get("tag"), dict):
            tag = {k: _tag_text(v) for k, v in data["tag"].items()}
            data = {**data, "tag": tag}
        if isinstance(data, dict) and isinstance(data.get("workspace"), int):
            data = {**data, "workspace": str(data["workspace"])}
        return data

    @model_validator(mode="after")
    def _check(self) -> RoutingRule:
        if not (self.tag or self.name_pattern or self.workspace or self.job):
            raise ValueError("give at least one of tag, name_pattern, workspace or job")
        return self


def _tag_text(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


SlaKind = Literal["deadline", "max_duration", "freshness"]


class SlaRule(Section):
    """One of: succeeded by `deadline` on `days`; finish within `max_duration`; run at least
    every `freshness`."""

    job: JobSelector
    deadline: ClockTime | None = None
    days: Days | None = None
    max_duration: Duration | None = None
    freshness: Duration | None = None
    timezone: TimeZoneName | None = None  # default: the top-level timezone

    @model_validator(mode="after")
    def _one_kind(self) -> SlaRule:
        kinds = [k for k in ("deadline", "max_duration", "freshness") if getattr(self, k)]
        if len(kinds) != 1:
            given = " and ".join(kinds) if kinds else "none"
            raise ValueError(f"give exactly one of deadline, max_duration, freshness ({given})")
        if self.days is not None and self.deadline is None:
            raise ValueError("days only applies to a deadline")
        return self

    @property
    def kind(self) -> SlaKind:
        if self.deadline is not None:
            return "deadline"
        return "max_duration" if self.max_duration is not None else "freshness"

    @property
    def weekdays(self) -> frozenset[int]:
        """Days the deadline applies, Monday = 0; every day when not given."""
        return self.days if self.days is not None else frozenset(range(7))

    @property
    def max_minutes(self) -> float | None:
        return None if self.max_duration is None else self.max_duration.total_seconds() / 60

    @property
    def every_hours(self) -> float | None:
        return None if self.freshness is None else self.freshness.total_seconds() / 3600

    def tz_name(self, default: str) -> str:
        return self.timezone or default

    def tz(self, default: str) -> ZoneInfo:
        return ZoneInfo(self.tz_name(default))


# --- schedules, cost, monitoring -----------------------------------------------------------


class Schedules(Section):
    digest: Cron = "0 9 * * *"
    weekly_report: Cron = "0 9 * * mon"
    failure_poll_seconds: int = Field(30, ge=5)
    system_tables_poll_seconds: int = Field(300, ge=60)
    sla_check_seconds: int = Field(60, ge=10)
    cost_scan: Cron = "30 * * * *"
    # A scheduled job with no run this long after its schedule's time is a missed run.
    missed_run_grace: Duration = timedelta(minutes=15)
    # Workspaces read through system tables only: a run shows once its first hourly slice is
    # written (end of the clock hour, or its end) plus the table's own write lag, which
    # Databricks does not document (about an hour is reported); wait this long for it.
    missed_run_table_lag: Duration = timedelta(hours=1)
    # Of replicas sharing a store, the leader does the scheduled work; a dead leader's lease
    # runs out after this long and a standby takes over (it renews every third of it).
    leader_lease_seconds: int = Field(30, ge=3)


def _currency(value: str) -> str:
    if not re.match(r"^[A-Z]{3}$", value):
        raise ValueError(f"{parsing._show(value)} is not a currency code like USD or EUR")
    return value


COST_ANOMALY_SCOPES = ("job", "workspace", "sku")


def _anomaly_scopes(value: object) -> object:
    # What the cost scan alerts on: each job's daily cost, and optionally each workspace's
    # and each SKU's (bot/service/cost_alerts.py). A clear word for a typo, not pydantic's.
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError(
            f"{parsing._show(value)} is not a list of scopes; use e.g. [job, workspace, sku]"
        )
    seen: list[str] = []
    for item in value:
        if item not in COST_ANOMALY_SCOPES:
            raise ValueError(
                f"{parsing._show(item)} is not a cost anomaly scope; the scopes are "
                f"{', '.join(COST_ANOMALY_SCOPES)}"
            )
        if item in seen:
            raise ValueError(f"{item} is listed twice")
        seen.append(item)
    return tuple(seen)


def _baseline_days(value: int) -> int:
    if value != 14:
        raise ValueError(
            f"{value} is not supported yet: the anomaly queries read a fixed 14-day baseline "
            "(and the same weekday 3 and 4 weeks back); leave it at 14 or remove it"
        )
    return value


class Cost(Section):
    currency: Annotated[str, AfterValidator(_currency)] = "USD"
    anomaly_sensitivity: float = Field(3.5, gt=0)  # robust z-score: MADs above the median
    min_daily_amount: float = Field(50, ge=0)
    # Which daily costs the cost scan alerts on: each job's (the default), each workspace's
    # whole spend, each SKU's across the account. [] turns cost-anomaly alerts off.
    anomaly_scopes: Annotated[tuple[str, ...], BeforeValidator(_anomaly_scopes)] = ("job",)
    # The anomaly queries read a fixed 14-day baseline (and the same weekday 3 and 4 weeks
    # back): any other value would be silently ignored, so it is refused instead.
    baseline_days: Annotated[int, AfterValidator(_baseline_days)] = 14
    digest_top_n: int = Field(10, ge=1, le=50)
    # The tag (billing custom tag and job tag) that names a job's team: the weekly report
    # groups cost by it and charts it.
    team_tag: str = Field("team", min_length=1)
    idle_cpu_percent: float = Field(5, ge=0, le=100)


_ALERTABLE_STATES = {"CANCELLED": "CANCELLED", "CANCELED": "CANCELLED", "SKIPPED": "SKIPPED"}


def _alert_states(value: object) -> object:
    # A list of run end states that alert besides the failures: cancelled, skipped.
    if not isinstance(value, list | tuple):
        raise ValueError(f"{parsing._show(value)} is not a list like [cancelled, skipped]")
    states: list[str] = []
    for item in value:
        state = _ALERTABLE_STATES.get(str(item).strip().upper()) if isinstance(item, str) else None
        if state is None:
            raise ValueError(
                f"{parsing._show(item)} is not a run state that can alert: use cancelled "
                "or skipped (failed, timed out and platform errors always alert)"
            )
        if state not in states:
            states.append(state)
    return tuple(states)


class Monitoring(Section):
    # Runs that end CANCELLED or SKIPPED alert (and count in the streak) like failures only
    # when listed here, e.g. [cancelled, skipped]; by default they neither alert nor resolve.
    alert_on_states: Annotated[tuple[str, ...], BeforeValidator(_alert_states)] = ()
    degraded_after_failures: int = Field(3, ge=1)
    rollup_after_alerts: int = Field(5, ge=2)  # per channel within the window: one summary
    rollup_window_seconds: int = Field(300, ge=10)
    # /healthz, /readyz and /metrics (bot/health.py). Off by default: a laptop run, the demo
    # and the test suite start several bots on one host, and a fixed port would collide; an
    # open port is also something an operator should choose. Containers and Databricks Apps
    # turn it on (a Databricks App must listen on DATABRICKS_APP_PORT, 8000 today).
    health_port: int | None = Field(None, ge=1, le=65535)
    # 0.0.0.0 so a container's probes and a Prometheus scraper outside the process reach it.
    health_host: str = Field("0.0.0.0", min_length=1)
    # /readyz fails when a workspace's last good poll is older than this many poll intervals.
    ready_after_missed_polls: int = Field(3, ge=1)


# --- permissions, owners, state ------------------------------------------------------------


class Grant(Section):
    """Who may do something: everyone, the people listed here, or (rerun only) whoever has
    CAN_MANAGE_RUN on the job in Databricks."""

    mode: Literal["everyone", "config", "databricks"] = "config"
    users: tuple[UserId, ...] = ()
    user_groups: tuple[GroupId, ...] = ()
    emails: tuple[Email, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Grant:
        if self.mode != "config" and (self.users or self.user_groups or self.emails):
            raise ValueError("users, user_groups and emails only apply to mode: config")
        return self

    def allows(
        self,
        user_id: str,
        user_group_ids: set[str] | list[str] | tuple[str, ...] = (),
        email: str | None = None,
    ) -> bool:
        """The config's own answer; in databricks mode the caller asks the permissions API."""
        if self.mode == "everyone":
            return True
        if self.mode == "databricks":
            return False
        return (
            user_id in self.users
            or any(g in self.user_groups for g in user_group_ids)
            or (email is not None and email.lower() in self.emails)
        )


def _everyone() -> Grant:
    return Grant(mode="everyone")


def _not_databricks(grant: Grant) -> Grant:
    if grant.mode == "databricks":
        raise ValueError("mode databricks only applies to rerun (use everyone or config)")
    return grant


class Permissions(Section):
    rerun: Grant = Grant()
    acknowledge: Annotated[Grant, AfterValidator(_not_databricks)] = Field(
        default_factory=_everyone
    )
    mute: Annotated[Grant, AfterValidator(_not_databricks)] = Field(default_factory=_everyone)


def _state_url(value: str) -> str:
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme.split("+")[0] not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(f"{parsing._show(value)} is not sqlite:///FILE or postgresql://HOST/DB")
    if urlsplit(value).password:
        raise ValueError(
            "holds a password; put the whole URL in the environment as JOBS_BOT_STATE_URL"
        )
    return value


class State(Section):
    url: Annotated[str, AfterValidator(_state_url)] = "sqlite:///jobs-bot-state.db"
