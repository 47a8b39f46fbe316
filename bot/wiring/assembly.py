"""`build`: config + clock in, the assembled bot out. The answering half is built here — the
warehouse (metered, its workspace names cached), the Renderer, the Jobs API clients, the /jobs
use case, the state store and, without watching, the Slack side; `watch=True` hands the rest to
`bot.wiring.watch`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.config import Config
from bot.metrics import MeteredWarehouse, Metrics
from bot.render import Renderer
from bot.service import CommandService
from bot.warehouse import Warehouse, make_warehouse
from bot.warehouse.cache import CachedQueries
from bot.wiring.bot import Bot
from bot.wiring.slack_side import SlackLink, SlackSide
from bot.wiring.watch import build_watching

if TYPE_CHECKING:
    from bot.jobs_api import JobsApi
    from bot.store import Store

WORKSPACE_NAMES_TTL_SECONDS = 3600


def build(
    config: Config,
    clock: Clock,
    *,
    warehouse: Warehouse | None = None,
    slack: SlackLink | None = None,
    working_after: float | None = None,
    store: Store | bool = False,
    watch: bool = False,
    env: Mapping[str, str] | None = None,
    jobs_api: JobsApi | None = None,
) -> Bot:
    """Assemble the bot. `warehouse` defaults to the one the config names; without `slack`
    the bot answers only locally (`jobs-bot ask`). `store=True` opens the configured state
    store (or pass one); `watch` adds the failure watchers, the notifier and the scheduler
    (it needs a store and Slack). `env` is where Databricks secrets are read (default: the
    process environment)."""
    metrics = Metrics()
    # Every query counted and timed for /metrics.
    wh: Warehouse = CachedQueries(
        MeteredWarehouse(
            warehouse if warehouse is not None else open_configured_warehouse(config), metrics
        ),
        # Workspace names change about never; every job lookup would read them again.
        {"workspaces": WORKSPACE_NAMES_TTL_SECONDS},
    )
    renderer = Renderer(tz=config.timezone, currency=config.cost.currency, clock=clock)
    api = jobs_api if jobs_api is not None else _jobs_api(config, env)
    if api is not None:
        api.on_call = metrics.jobs_api_call  # Jobs API calls by workspace, for /metrics
    answers = CommandService(wh, config, clock, renderer=renderer, live_runs=api)
    side = None
    if slack is not None and not watch:
        side = SlackSide(
            slack, answers, renderer, command=config.slack.command, working_after=working_after
        )
    opened = _open_store(config, clock, store)
    if not watch:
        return Bot(
            config, clock, wh, answers, renderer, side, store=opened, jobs_api=api, metrics=metrics
        )
    if opened is None or slack is None:
        raise ValueError("watching needs a store and Slack")
    return build_watching(
        config,
        clock,
        warehouse=wh,
        renderer=renderer,
        answers=answers,
        jobs_api=api,
        metrics=metrics,
        store=opened,
        slack=slack,
        working_after=working_after,
    )


def open_configured_warehouse(config: Config) -> Warehouse:
    """The warehouse the config names: a Databricks SQL warehouse, or the embedded one."""
    wh = config.warehouse
    if wh.databricks is not None:
        return make_warehouse(
            "databricks",
            server_hostname=wh.databricks.server_hostname,
            http_path=wh.databricks.http_path,
        )
    if wh.embedded is not None:
        # Opened here rather than through make_warehouse: it carries DuckDB's memory and
        # thread bounds from the config.
        from bot.warehouse.duckdb_backend import DuckDBWarehouse

        return DuckDBWarehouse.open(
            wh.embedded.path, memory_limit=wh.embedded.memory_limit, threads=wh.embedded.threads
        )
    return make_warehouse("embedded", db_path=None)


def _open_store(config: Config, clock: Clock, store: Store | bool) -> Store | None:
    if store is False:
        return None
    if store is True:
        from bot.store import Store

        return Store.open(config.state_url, clock)
    return store


def _jobs_api(config: Config, env: Mapping[str, str] | None) -> JobsApi | None:
    if not any(ws.jobs_api for ws in config.workspaces):
        return None
    from bot.jobs_api import JobsApi

    watched = [ws for ws in config.workspaces if ws.jobs_api]
    return JobsApi(watched, config.secrets, env=os.environ if env is None else env)
