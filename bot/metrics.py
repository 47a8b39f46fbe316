"""The bot's own measurements, in the Prometheus text format: polls and their latency, alerts by
kind, Slack calls and errors by code, outbox depth, warehouse queries and their time, Jobs API
calls by workspace.

One `Metrics` object per bot, holding its own CollectorRegistry rather than prometheus_client's
global one: two bots in one process (the test suite, the demo) would otherwise share counters,
and registering the same name twice raises. The rest of the code calls the small methods below
(`metrics.poll_done(...)`, `metrics.alert("failure")`); only this module names metrics, so
their names and labels stay one consistent set.

Labels hold only bounded, non-secret values: workspace ids, query names, Slack method names and
error codes, alert kinds. Never job names or channel names: those are unbounded and may be
private.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.warehouse import Warehouse

# Poll and Jobs API latency: a healthy poll takes well under a second; the Jobs API bound is
# tens of seconds, so the buckets reach that far.
_POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Warehouse queries: a warm SQL warehouse answers in about a second, a cold one can take
# minutes to start.
_QUERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

# The text format every Prometheus version scrapes; generate_latest writes it (the metric names
# here are plain ASCII, so no escaping is involved).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Every metric jobs-bot exports, on a registry of its own."""

    def __init__(self, *, wall_clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._wall = wall_clock
        self._lock = threading.Lock()
        self._last_poll: dict[str, float] = {}
        r = self.registry
        self.polls = Counter(
            "jobs_bot_polls",
            "Jobs API polls for finished runs, by workspace and outcome (ok or error).",
            ["workspace", "outcome"],
            registry=r,
        )
        self.poll_seconds = Histogram(
            "jobs_bot_poll_duration_seconds",
            "How long one poll of a workspace took.",
            ["workspace"],
            buckets=_POLL_BUCKETS,
            registry=r,
        )
        self.last_poll = Gauge(
            "jobs_bot_last_successful_poll_timestamp_seconds",
            "Unix time of the last poll of a workspace that succeeded.",
            ["workspace"],
            registry=r,
        )
        self.alerts = Counter(
            "jobs_bot_alerts",
            "Alerts the bot raised, by kind (failure, sla, cost, missed, degraded, ...).",
            ["kind"],
            registry=r,
        )
        self.slack_calls = Counter(
            "jobs_bot_slack_calls",
            "Slack Web API calls, by method.",
            ["method"],
            registry=r,
        )
        self.slack_errors = Counter(
            "jobs_bot_slack_errors",
            "Slack Web API calls that failed, by method and Slack error code.",
            ["method", "code"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "jobs_bot_outbox_depth",
            "Messages written to the outbox and not yet sent.",
            registry=r,
        )
        self.warehouse_queries = Counter(
            "jobs_bot_warehouse_queries",
            "Warehouse queries run, by query file and outcome (ok or error).",
            ["query", "outcome"],
            registry=r,
        )
        self.warehouse_seconds = Histogram(
            "jobs_bot_warehouse_query_duration_seconds",
            "How long one warehouse query took, by query file.",
            ["query"],
            buckets=_QUERY_BUCKETS,
            registry=r,
        )
        self.jobs_api_calls = Counter(
            "jobs_bot_jobs_api_calls",
            "Jobs API calls, by workspace and outcome (ok, unavailable, refused, not_found).",
            ["workspace", "outcome"],
            registry=r,
        )

    # -- what the rest of the bot calls ----------------------------------------------------

    def poll_done(self, workspace_id: str, seconds: float, *, ok: bool = True) -> None:
        """One poll of a workspace ended (`ok` False when it failed)."""
        self.polls.labels(workspace_id, "ok" if ok else "error").inc()
        self.poll_seconds.labels(workspace_id).observe(max(0.0, seconds))
        if ok:
            now = self._wall()
            self.last_poll.labels(workspace_id).set(now)
            with self._lock:
                self._last_poll[workspace_id] = now

    def alert(self, kind: str) -> None:
        """An alert of `kind` was raised (written to the outbox)."""
        self.alerts.labels(kind).inc()

    def slack_call(self, method: str, error_code: str | None = None) -> None:
        """One Slack Web API call; `error_code` is Slack's `error` when it failed."""
        self.slack_calls.labels(method).inc()
        if error_code is not None:
            self.slack_errors.labels(method, error_code).inc()

    def watch_outbox(self, depth: Callable[[], int]) -> None:
        """Read the outbox depth at each scrape (a store query), not on every change."""
        self.outbox_depth.set_function(lambda: float(depth()))

    def warehouse_query(self, name: str, seconds: float, *, ok: bool = True) -> None:
        """One warehouse query by name ended."""
        self.warehouse_queries.labels(name, "ok" if ok else "error").inc()
        self.warehouse_seconds.labels(name).observe(max(0.0, seconds))

    def jobs_api_call(self, workspace_id: str, outcome: str = "ok") -> None:
        """One Jobs API call ended: ok, unavailable, refused or not_found."""
        self.jobs_api_calls.labels(workspace_id, outcome).inc()

    # -- what the health server reads ------------------------------------------------------

    def last_poll_at(self, workspace_id: str) -> float | None:
        """Unix time of the workspace's last good poll, or None before the first one."""
        with self._lock:
            return self._last_poll.get(workspace_id)

    def render(self) -> bytes:
        """Every metric in the Prometheus text exposition format."""
        return generate_latest(self.registry)

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float | None:
        """One sample's current value (for tests and `jobs-bot doctor`), or None if unset."""
        return self.registry.get_sample_value(name, dict(labels or {}))


class MeteredWarehouse:
    """A Warehouse that times and counts every query it runs, then hands it on unchanged.

    Wraps the real backend in the composition root, so no query caller has to remember to
    measure itself."""

    def __init__(
        self, inner: Warehouse, metrics: Metrics, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.inner = inner
        self._metrics = metrics
        self._monotonic = monotonic

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        start = self._monotonic()
        ok = False
        try:
            rows = self.inner.run(name, params)
            ok = True
            return rows
        finally:
            self._metrics.warehouse_query(name, self._monotonic() - start, ok=ok)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, attr: str) -> Any:
        # Backend extras (DuckDB's `cursor()` for fixtures) stay reachable through the wrapper.
        return getattr(self.inner, attr)
