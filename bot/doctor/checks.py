"""The doctor's checks of secrets, the warehouse and every system table, each workspace's Jobs
API, and the state store, each on a small port and each returning `Line`s with the fix.

Read only: no file or table is created, no migration applied. Secrets are named, never shown.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from bot.config import Config
from bot.doctor.lines import Line, first_line
from bot.models import JobsApiError, JobsApiRefused
from bot.warehouse import Warehouse

log = logging.getLogger(__name__)

# Every system table the query files read (tests/deploy checks this against queries/*.sql),
# each with its probe query file `queries/probe_<schema>_<table>.sql`: a `SELECT 1 … LIMIT 1`,
# because a table name cannot be a bound parameter and all SQL lives in queries/.
SYSTEM_TABLES = (
    "system.lakeflow.jobs",
    "system.lakeflow.job_run_timeline",
    "system.lakeflow.job_task_run_timeline",
    "system.billing.usage",
    "system.billing.list_prices",
    "system.compute.clusters",
    "system.compute.node_timeline",
    "system.access.workspaces_latest",
)


def probe_query(table: str) -> str:
    """The probe query file's name for a system table."""
    _, schema, name = table.split(".")
    return f"probe_{schema}_{name}"


class RunsReader(Protocol):
    """What the Jobs API check needs of JobsApi."""

    def list_runs(
        self, workspace_id: str, *, max_runs: int | None = ..., interactive: bool = ...
    ) -> Sequence[object]: ...


def check_secrets(config: Config, env: Mapping[str, str]) -> list[Line]:
    lines = [
        Line("fail", "secret", f"{name} is not set", _secret_fix(name))
        for name in config.missing_secrets()
    ]
    s = config.secrets
    if s.slack_bot_token is not None and not s.slack_bot_token.get_secret_value().startswith(
        "xoxb-"
    ):
        lines.append(
            Line(
                "fail",
                "secret",
                "SLACK_BOT_TOKEN is not a bot token (xoxb-…)",
                "use the Bot User OAuth Token from OAuth & Permissions",
            )
        )
    app_token = s.slack_app_token
    if (
        config.slack.mode == "socket"
        and app_token
        and not app_token.get_secret_value().startswith("xapp-")
    ):
        lines.append(
            Line(
                "fail",
                "secret",
                "SLACK_APP_TOKEN is not an app-level token (xapp-…)",
                "Basic Information → App-Level Tokens, scope connections:write",
            )
        )
    for ws in config.workspaces:
        if ws.jobs_api and ws.pat_env and not env.get(ws.pat_env, "").strip():
            lines.append(
                Line(
                    "fail",
                    "secret",
                    f"{ws.pat_env} (workspace {ws.name}) is not set",
                    f"set {ws.pat_env} to a token of workspace {ws.name}",
                )
            )
    app_port = env.get("DATABRICKS_APP_PORT", "").strip()
    in_app = bool(env.get("DATABRICKS_APP_NAME")) and app_port.isdigit()
    if in_app and config.monitoring.health_port != int(app_port):
        # The Apps runtime expects the app on DATABRICKS_APP_PORT (0.0.0.0).
        lines.append(
            Line(
                "warn",
                "databricks app",
                f"nothing will listen on DATABRICKS_APP_PORT {app_port}",
                f"set monitoring.health_port: {app_port} in the config",
            )
        )
    if not any(line.status == "fail" for line in lines):
        auth = "OAuth service principal" if s.databricks_client_id else "token or profile"
        own = [w.pat_env for w in config.workspaces if w.jobs_api and w.pat_env]
        if config.uses_databricks:
            named = "Databricks " + auth
        elif own:
            named = "each Jobs API workspace has its own PAT (" + ", ".join(own) + ")"
        else:
            named = "no Databricks needed"
        lines.append(Line("ok", "secrets", f"Slack tokens present; {named}"))
    return lines


def _secret_fix(name: str) -> str:
    if name.startswith("SLACK"):
        return (
            f"set {name} in the environment (Databricks App: a secret resource + "
            f"`valueFrom` in app.yaml; containers: the env file)"
        )
    return f"set {name} in the environment (a Databricks App gets its own principal's)"


_PERMISSION = re.compile(r"permission|privilege|not authori[sz]ed|access denied|forbidden", re.I)
_NOT_FOUND = re.compile(r"not[ _]found|does not exist|TABLE_OR_VIEW|SCHEMA_NOT_FOUND", re.I)


def check_warehouse(wh: Warehouse, *, principal: str) -> list[Line]:
    """`SELECT 1 … LIMIT 1` from every system table; a failure names the grant that fixes it."""
    results: list[tuple[str, BaseException | None]] = []
    for table in SYSTEM_TABLES:
        try:
            wh.run(probe_query(table), {})
            results.append((table, None))
        except Exception as e:
            log.info("doctor: %s not readable", table, exc_info=True)
            results.append((table, e))
    table_level = [
        e
        for _, e in results
        if e is None or _PERMISSION.search(str(e)) or _NOT_FOUND.search(str(e))
    ]
    if not table_level:
        first = next(e for _, e in results if e is not None)
        return [
            Line(
                "fail",
                "warehouse",
                f"cannot run queries: {first_line(first)}",
                "check warehouse.http_path and that the warehouse exists and the bot's "
                f"principal has CAN_USE on it ({principal})",
            )
        ]
    lines = [Line("ok", "warehouse", "reachable, queries run")]
    for table, err in results:
        schema = ".".join(table.split(".")[:2])
        if err is None:
            lines.append(Line("ok", f"table {table}", "readable"))
            continue
        grant = (
            f"GRANT USE CATALOG ON CATALOG system TO `{principal}`; GRANT USE SCHEMA, "
            f"SELECT ON SCHEMA {schema} TO `{principal}`"
        )
        if _PERMISSION.search(str(err)):
            lines.append(Line("fail", f"table {table}", "permission denied", grant))
        else:
            lines.append(
                Line(
                    "fail",
                    f"table {table}",
                    f"not found: {first_line(err)}",
                    f"an account admin enables the {schema} schema; then {grant}",
                )
            )
    return lines


def check_jobs_api(api: RunsReader, workspaces: Sequence[tuple[str, str]]) -> list[Line]:
    """`workspaces`: (id, name) pairs with `jobs_api: true`."""
    lines = []
    for ws_id, name in workspaces:
        check = f"jobs api {name}"
        try:
            runs = api.list_runs(ws_id, max_runs=1, interactive=True)
        except JobsApiRefused as e:
            unsigned = re.search(r"not set in the environment|no Databricks credentials", str(e))
            fix = (
                "see the secret lines above"
                if unsigned
                else "add the bot's principal to the workspace; reruns need CAN_MANAGE_RUN "
                "on the jobs"
            )
            lines.append(Line("fail", check, str(e), fix))
            continue
        except JobsApiError as e:
            lines.append(
                Line(
                    "fail",
                    check,
                    str(e),
                    "check the workspace host in the config and the network path",
                )
            )
            continue
        seen = "a recent run" if runs else "no runs yet"
        lines.append(Line("ok", check, f"reachable, {seen} visible"))
    return lines


def check_store(url: str) -> Line:
    """Reachable and migrated to this code's schema version (read only)."""
    from bot.store.database import Database
    from bot.store.migrations import LATEST, current_version

    shown = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
    if url.startswith("sqlite") and ":memory:" not in url:
        path = url.split(":///", 1)[-1]
        if not Path(path).exists():
            return Line(
                "warn",
                "store",
                f"{path} does not exist yet",
                "none needed: `jobs-bot run` creates and migrates it on start",
            )
    db = Database(url)
    try:
        try:
            with db.transaction():
                pass
        except Exception as e:  # noqa: BLE001  the driver's error is the answer
            return Line(
                "fail",
                "store",
                f"cannot connect to {shown}: {first_line(e)}",
                "check JOBS_BOT_STATE_URL (host, database, user) and the network",
            )
        try:
            version = current_version(db)
        except Exception:  # noqa: BLE001  no schema_version table: never migrated
            version = 0
    finally:
        db.dispose()
    if version > LATEST:
        return Line(
            "fail",
            "store",
            f"schema version {version} is newer than this jobs-bot ({LATEST})",
            "deploy the newer jobs-bot, or restore a backup",
        )
    if version < LATEST:
        return Line(
            "warn",
            "store",
            f"schema at version {version} of {LATEST}",
            "none needed: `jobs-bot run` migrates it on start",
        )
    return Line("ok", "store", f"reachable, schema at version {version} (latest)")
