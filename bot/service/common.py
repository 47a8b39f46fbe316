"""Small shared pieces of the answer builders: Databricks links, owners, numbers and ids as the
templates want them (plain values; formatting stays in the template filters)."""

from __future__ import annotations

import math
from decimal import Decimal

from bot.config import Config

# System tables are 5–15 minutes behind the workspace (PRODUCT.md, reference/databricks.md).
SYSTEM_TABLES_LAG = "system tables lag 5–15 min"
BILLING_LAG = "billing lags a few hours"
LIVE = "live from the Jobs API"


def workspace_host(
    config: Config, workspace_id: str | None, fallback_url: str | None = None
) -> str | None:
    """The workspace's https URL: the config's host wins, else what system tables know."""
    if workspace_id is not None:
        ws = config.workspace(str(workspace_id))
        if ws is not None:
            return ws.host
    if fallback_url and str(fallback_url).startswith("https://"):
        return str(fallback_url).rstrip("/")
    return None


def workspace_label(config: Config, workspace_id: str | None, name: str | None = None) -> str:
    if workspace_id is not None:
        ws = config.workspace(str(workspace_id))
        if ws is not None:
            return ws.name
    return name or (str(workspace_id) if workspace_id is not None else "—")


def run_url(host: str | None, job_id: str | None, run_id: str | None) -> str | None:
    # The format is inferred (reference/databricks.md §workspaces); a third-party write-up
    # builds run links the same way, no Databricks page states it. The Jobs API's run_page_url
    # is preferred when we have it, which the real-time Jobs API path will supply. A legacy
    # regional host would also need `?o=<workspace_id>`; per-workspace hosts do not.
    if not host or job_id is None or run_id is None:
        return None
    return f"{host}/jobs/{job_id}/runs/{run_id}"


def job_url(host: str | None, job_id: str | None) -> str | None:
    if not host or job_id is None:
        return None
    return f"{host}/jobs/{job_id}"


def job_name(name: str | None, job_id: str | None) -> str:
    """A job's name for people; a job without one (system tables may lack it) by its id."""
    return name or f"job {job_id}"


def num(value: Decimal | float | None) -> float | None:
    """Decimal/int/float from the warehouse as float; None and NaN stay None."""
    if value is None:
        return None
    out = float(value)
    return None if math.isnan(out) else out


def amount(value: Decimal | float | None) -> float:
    """Money or a count as float, a missing (or NaN) one as 0."""
    return num(value) or 0.0


def as_int(value: str | None) -> int | None:
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
