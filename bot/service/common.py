"""Small shared pieces of the answer builders: Databricks links, owners, numbers and ids as the
templates want them (plain values; formatting stays in the template filters)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from bot.config import Config

# System tables are 5–15 minutes behind the workspace (PRODUCT.md, reference/databricks.md).
SYSTEM_TABLES_LAG = "system tables lag 5–15 min"
BILLING_LAG = "billing lags a few hours"
FAILED_STATES = frozenset({"ERROR", "FAILED", "TIMED_OUT", "INTERNAL_ERROR"})


def workspace_host(
    config: Config, workspace_id: Any, fallback_url: str | None = None
) -> str | None:
    """The workspace's https URL: the config's host wins, else what system tables know."""
    if workspace_id is not None:
        ws = config.workspace(str(workspace_id))
        if ws is not None:
            return ws.host
    if fallback_url and str(fallback_url).startswith("https://"):
        return str(fallback_url).rstrip("/")
    return None


def workspace_label(config: Config, workspace_id: Any, name: str | None = None) -> str:
    if workspace_id is not None:
        ws = config.workspace(str(workspace_id))
        if ws is not None:
            return ws.name
    return name or (str(workspace_id) if workspace_id is not None else "—")


def run_url(host: str | None, job_id: Any, run_id: Any) -> str | None:
    # The format is inferred (reference/databricks.md §workspaces); a third-party write-up
    # builds run links the same way, no Databricks page states it. The Jobs API's run_page_url
    # is preferred when we have it, which the real-time Jobs API path will supply. A legacy
    # regional host would also need `?o=<workspace_id>`; per-workspace hosts do not.
    if not host or job_id is None or run_id is None:
        return None
    return f"{host}/jobs/{job_id}/runs/{run_id}"


def job_url(host: str | None, job_id: Any) -> str | None:
    if not host or job_id is None:
        return None
    return f"{host}/jobs/{job_id}"


def owner_fields(config: Config, owner: str | None) -> dict[str, str | None]:
    """`owner` (the Databricks name/email, shown escaped) and `owner_id` (a Slack user to
    mention) when the config maps it."""
    return {"owner": owner, "owner_id": config.owner_slack_id(owner)}


def num(value: Any) -> float | None:
    """Decimal/int/float from the warehouse as float; None and NaN stay None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def as_int(value: Any) -> int | None:
    """An id as an int for button values (ids are strings in system tables)."""
    if value is None:
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def ratio_change(current: float | None, previous: float | None) -> float | None:
    """(current − previous) / previous as a fraction for the `pct` filter; None = no baseline."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / previous
