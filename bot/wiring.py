"""The composition root: config + clock in, the assembled bot out — warehouse, Jobs API
clients, state store, use cases, Slack app and its transport, the notifier and the scheduler —
with `start()` / `stop()`. `jobs-bot run`, `jobs-bot ask`, `jobs-bot demo` and the end-to-end
test stacks all build here; nothing else wires parts together, so every entry point runs the
same bot. `build_replay` assembles `jobs-bot replay` (and its tests) here too.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from bot.clock import Clock, FixedClock
from bot.config import Config, cron_trigger
from bot.health import HealthServer, polls_recent, reachable, slack_ready
from bot.metrics import MeteredWarehouse, Metrics
from bot.models import JobKey
from bot.render import Renderer
from bot.scheduler import At, Every, Leadership, Scheduler
from bot.service import CommandService
from bot.service.alerts import FailureAlerts
from bot.service.cost_alerts import CostScan
from bot.service.health import SLACK as HEALTH_SLACK
from bot.service.health import WAREHOUSE, Health
from bot.service.health import jobs_api as health_jobs_api
from bot.service.interactions import Interactions
from bot.service.lateness import ROLLED_UP
from bot.service.missed_runs import MissedRuns
from bot.service.replay import Replay
from bot.service.reports.digest import Digests
from bot.service.reports.weekly import WeeklyReports
from bot.service.rollup import Rollup
from bot.service.sla_alerts import DAY_MARK, SlaAlerts
from bot.store.records import IncidentKind, OutboxMessage
from bot.warehouse import Warehouse, make_warehouse, queries
from bot.warehouse.cache import CachedQueries

if TYPE_CHECKING:
    from bot.jobs_api import JobsApi
    from bot.slack.notifier import Notifier
    from bot.store import Store

log = logging.getLogger(__name__)

Transport = Literal["http", "socket"]


@dataclass(frozen=True)
class SlackLink:
    """How the bot reaches Slack: its bot token and API URL, and how Slack reaches it —
    signed HTTP requests (`signing_secret`) or Socket Mode (`app_token`)."""

    bot_token: str = field(repr=False)
    api_url: str
    transport: Transport = "socket"
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    http_host: str = "127.0.0.1"
    http_port: int = 0


def slack_link_from_config(config: Config, *, http_port: int | None = None) -> SlackLink:
    """The production link: secrets from the environment (already read into the config),
    HTTP mode when `http_port` is given or the config says so."""
    secrets = config.secrets
    transport: Transport = "http" if http_port is not None else config.slack.mode

    def reveal(value: object) -> str | None:
        get = getattr(value, "get_secret_value", None)
        return get() if get is not None else None

    return SlackLink(
        bot_token=reveal(secrets.slack_bot_token) or "",
        api_url=config.slack.api_url,
        transport=transport,
        signing_secret=reveal(secrets.slack_signing_secret),
        app_token=reveal(secrets.slack_app_token),
        http_host="0.0.0.0",
        http_port=http_port if http_port is not None else config.slack.http_port,
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


# With every workspace watched through the Jobs API, the system tables are read for failures
# only as an hourly reconcile; costs of failed runs are looked up every half hour.
RECONCILE_SECONDS = 3600
WORKSPACE_NAMES_TTL_SECONDS = 3600
# Sent messages are kept this long (their dedupe keys name an incident, a day or a week, none
# of which comes back after it), then pruned every few hours.
OUTBOX_RETENTION = timedelta(days=30)
OUTBOX_PRUNE_SECONDS = 6 * 3600
COST_BACKFILL_SECONDS = 1800


class Bot:
    """The assembled bot. `answers` is the /jobs use case; `slack` its Slack side, if any;
    `alerts`, `notifier` and `scheduler` the half that speaks first (with a store)."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        warehouse: Warehouse,
        answers: CommandService,
        renderer: Renderer,
        slack: _SlackSide | None,
        *,
        store: Store | None = None,
        jobs_api: JobsApi | None = None,
        alerts: FailureAlerts | None = None,
        notifier: Notifier | None = None,
        scheduler: Scheduler | None = None,
        digests: Digests | None = None,
        weekly: WeeklyReports | None = None,
        metrics: Metrics | None = None,
        ops: HealthServer | None = None,
        cost_scan: CostScan | None = None,
        health: Health | None = None,
    ) -> None:
        self.health = health  # the bot's watch on its own dependencies (degraded/restored)
        self.config = config
        self.clock = clock
        self.warehouse = warehouse
        self.answers = answers
        self.renderer = renderer
        self.slack = slack
        self.store = store
        self.jobs_api = jobs_api
        self.alerts = alerts
        self.notifier = notifier
        self.scheduler = scheduler
        self.digests = digests
        self.weekly = weekly
        self.metrics = metrics
        self.cost_scan = cost_scan
        self.ops = ops  # /healthz, /readyz, /metrics when monitoring.health_port is set

    @property
    def request_url(self) -> str | None:
        """Where Slack sends signed requests (HTTP mode, once started)."""
        return self.slack.request_url if self.slack is not None else None

    def start(self) -> None:
        """Start everything in the background: the notifier, the watchers, and Slack."""
        self._start_background()
        if self.slack is not None:
            self.slack.start()

    def serve_forever(self) -> None:
        """Serve Slack in the foreground until interrupted (watchers run in the background)."""
        self._start_background()
        if self.slack is not None:
            self.slack.serve_forever()

    def _start_background(self) -> None:
        if self.ops is not None:
            self.ops.start()
        if self.notifier is not None:
            self.notifier.start()
        if self.scheduler is not None:
            self.scheduler.start()

    def stop(self) -> None:
        """Stop Slack (draining its listeners' work), then the watchers, then the notifier (it
        finishes what is due), then close the store and the warehouse (last: a listener may
        still be reading them)."""
        try:
            if self.ops is not None:
                self.ops.stop()
            # Slack first: no new work arrives, and what its listeners are finishing (their
            # work queue is drained) may still write to the outbox for the notifier below.
            if self.slack is not None:
                self.slack.stop()
            if self.scheduler is not None:
                self.scheduler.stop()
            if self.notifier is not None:
                self.notifier.stop()
        finally:
            if self.store is not None:
                self.store.close()
            self.warehouse.close()


class _SlackSide:
    """The Bolt app and its transport."""

    def __init__(
        self,
        link: SlackLink,
        answers: CommandService,
        renderer: Renderer,
        *,
        command: str,
        working_after: float | None,
        buttons: Interactions | None = None,
    ) -> None:
        from bot.slack.app import WORKING_AFTER_SECONDS, build_app
        from bot.slack.client import web_client
        from bot.slack.workqueue import WorkQueue

        self.link = link
        self.client = web_client(link.bot_token, link.api_url)
        signed = link.signing_secret if link.transport == "http" else None
        # What listeners do after their ack runs here, not on Bolt's 5 threads (an ack must
        # never wait for work); stop() drains it so answers in flight are still delivered.
        self.work = WorkQueue()
        self.app = build_app(
            self.client,
            signed,
            service=answers,
            command=command,
            working_after=WORKING_AFTER_SECONDS if working_after is None else working_after,
            renderer=renderer,
            buttons=buttons,
            work=self.work,
        )
        self._transport: _Transport | None = None
        self.request_url: str | None = None

    def _make_transport(self) -> _Transport:
        if self.link.transport == "http":
            from bot.slack.http_server import BoltHttpServer

            return BoltHttpServer(self.app, host=self.link.http_host, port=self.link.http_port)
        from bot.slack.socket_mode import SocketModeConnection

        return SocketModeConnection(self.app, self.link.app_token or "")

    def start(self) -> None:
        self._transport = self._make_transport()
        self.request_url = self._transport.start()

    def serve_forever(self) -> None:
        self._transport = self._make_transport()
        if self.link.transport == "http":
            log.info("jobs-bot listening on %s", getattr(self._transport, "url", "?"))
        else:
            log.info("jobs-bot connecting to Slack in Socket Mode")
        self._transport.serve_forever()

    def connected(self) -> tuple[bool, str]:
        """Whether Slack can reach the bot now: the websocket open (Socket Mode) or the
        server listening (HTTP)."""
        transport = self._transport
        if transport is None:
            return False, "not started"
        if isinstance(transport, _SocketTransport):
            ok = transport.connected()
            return ok, "socket mode connected" if ok else "socket mode disconnected"
        return True, f"listening on {self.request_url}"

    def stop(self) -> None:
        # Stop taking requests first, then let the answers already acked finish (bounded),
        # before the caller closes the warehouse and the store under them.
        if self._transport is not None:
            self._transport.stop()
            self._transport = None
        self.work.drain()


class _Transport(Protocol):
    """What both transports offer (BoltHttpServer, SocketModeConnection)."""

    def start(self) -> str | None: ...

    def serve_forever(self) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class _SocketTransport(_Transport, Protocol):
    def connected(self) -> bool: ...


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
        side = _SlackSide(
            slack, answers, renderer, command=config.slack.command, working_after=working_after
        )
    opened = _open_store(config, clock, store)
    if not watch:
        return Bot(
            config, clock, wh, answers, renderer, side, store=opened, jobs_api=api, metrics=metrics
        )
    if opened is None or slack is None:
        raise ValueError("watching needs a store and Slack")
    from bot.slack.client import web_client
    from bot.slack.directory import SlackDirectory
    from bot.slack.notifier import Notifier

    # The Slack side is built last, once the button use cases exist (the outbound half has its
    # own client: WebClients are stateless).
    client = web_client(slack.bot_token, slack.api_url)
    directory = SlackDirectory(client)
    notifier = Notifier(
        opened.outbox,
        opened.incidents,
        client,
        clock,
        default_channel=config.slack.default_channel,
    )
    # Many alerts at once in a channel become one roll-up; the bot's own health is watched.
    rollup = Rollup(
        config=config, clock=clock, renderer=renderer, store=opened, on_enqueue=notifier.poke
    )
    health = Health(
        config=config, clock=clock, renderer=renderer, store=opened, on_enqueue=notifier.poke
    )

    def slack_result(ok: bool, error: str | None) -> None:
        metrics.slack_call("chat", None if ok else (error or "error"))
        health.record(HEALTH_SLACK, ok, error)

    notifier.on_result = slack_result  # "monitoring degraded: Slack" and Slack metrics

    def alert_posted(message: OutboxMessage) -> None:
        if message.incident_id is None or not message.dedupe_key.endswith(":post"):
            return  # a digest, a report, an answer: not an alert
        incident = opened.incidents.get(message.incident_id)
        if incident is not None:
            metrics.alert("rollup" if rollup.is_rollup(incident) else incident.kind)

    notifier.on_posted = alert_posted  # alerts by kind, for /metrics
    alerts = FailureAlerts(
        config=config,
        clock=clock,
        renderer=renderer,
        store=opened,
        jobs_api=api,
        directory=directory,
        p90_seconds=_p90_reader(answers, clock),
        on_enqueue=notifier.poke,
        ended_runs=partial(queries.runs_ended, wh),
        run_cost=lambda ws, run: queries.run_cost(wh, workspace_id=ws, job_run_id=run),
        router=rollup,
    )
    interactions = Interactions(
        config=config,
        clock=clock,
        renderer=renderer,
        store=opened,
        alerts=alerts,
        jobs_api=api,
        directory=directory,
    )
    answers.interactions = interactions
    side = _SlackSide(
        slack,
        answers,
        renderer,
        command=config.slack.command,
        working_after=working_after,
        buttons=interactions,
    )
    every = config.schedules.failure_poll_seconds
    jobs: list[Every | At] = [
        Every(f"failures:{ws.id}", every, _poll(alerts, health, metrics, ws.id))
        for ws in config.workspaces
        if ws.jobs_api and api is not None
    ]
    jobs.append(Every("rollup-sync", 5, rollup.sync))
    # A snooze that ran out gets its one reminder within a minute (idempotent: outbox keys).
    jobs.append(Every("snooze-reminders", 60, interactions.remind_snoozes))
    # Months of running must not grow the outbox without end: what was sent long ago goes.
    jobs.append(
        Every(
            "outbox-prune",
            OUTBOX_PRUNE_SECONDS,
            lambda: _prune(opened, clock.now() - OUTBOX_RETENTION),
        )
    )
    # Lateness: SLA rules and missed scheduled runs, each incident one living message too;
    # their first posts go through the roll-up like failures' (a burst becomes one summary).
    voices = dict(
        config=config,
        clock=clock,
        renderer=renderer,
        store=opened,
        warehouse=wh,
        jobs_api=api,
        directory=directory,
        on_enqueue=notifier.poke,
        router=rollup,
    )
    sla_alerts = SlaAlerts(**voices)  # type: ignore[arg-type]
    missed_runs = MissedRuns(**voices)  # type: ignore[arg-type]
    alerts.renderers[IncidentKind.SLA] = sla_alerts.render
    alerts.renderers[IncidentKind.MISSED_RUN] = missed_runs.render
    checks = config.schedules.sla_check_seconds
    jobs.append(Every("sla", checks, sla_alerts.check))
    jobs.append(Every("missed-runs", checks, missed_runs.check))
    # The daily digest and the weekly cost report: asked every minute whether today's slot
    # has passed (idempotent by their outbox keys, so restarts and replicas send each once).
    digests = Digests(
        config=config, clock=clock, renderer=renderer, store=opened, warehouse=wh,
        on_enqueue=notifier.poke,
    )  # fmt: skip
    weekly = WeeklyReports(
        config=config, clock=clock, renderer=renderer, store=opened, warehouse=wh,
        on_enqueue=notifier.poke,
    )  # fmt: skip
    jobs.append(Every("digest", 60, digests.due))
    jobs.append(Every("weekly-report", 60, weekly.due))
    # Cost anomalies, on the cost_scan cron (billing lands hours late: it scans today and
    # yesterday); feedback clicks re-render the anomaly's message.
    cost_scan = CostScan(
        config=config,
        clock=clock,
        renderer=renderer,
        store=opened,
        warehouse=wh,
        on_enqueue=notifier.poke,
        health=health,
        router=rollup,
        owner_lookup=directory.user_id_for_email,
    )
    alerts.renderers[IncidentKind.COST_ANOMALY] = cost_scan.render
    interactions.on_feedback = cost_scan.refresh
    jobs.append(At("cost-scan", cron_trigger(config.schedules.cost_scan, config.tz), cost_scan.run))
    # The system tables: the only source of workspaces without Jobs API access, the
    # reconcile of those with it, and where a failed run's cost appears hours later.
    tables = config.schedules.system_tables_poll_seconds
    if api is not None and all(ws.jobs_api for ws in config.workspaces):
        # Every workspace is watched live: the tables are only the reconcile (failures the
        # API path missed while the bot or a workspace was down), hourly, so an idle
        # serverless warehouse can stop between the bot's few queries.
        tables = max(tables, RECONCILE_SECONDS)
    jobs.append(Every("failures:system-tables", tables, _poll_tables(alerts, health)))
    # Billing lands by the hour, hours late: what a failed run cost is looked up half-hourly.
    jobs.append(Every("failures:costs", max(tables, COST_BACKFILL_SECONDS), alerts.backfill_costs))
    leadership = Leadership(opened.leases, ttl=config.schedules.leader_lease_seconds)
    scheduler = Scheduler(jobs, timezone=config.timezone, leadership=leadership)
    # One voice on Slack too: only the leader sends, so two replicas keep each channel's pace.
    notifier.sends_now = lambda: leadership.held
    metrics.watch_outbox(opened.outbox.pending_count)
    ops = None
    if config.monitoring.health_port is not None:
        watched = [ws.id for ws in config.workspaces if ws.jobs_api and api is not None]
        stale = config.monitoring.ready_after_missed_polls * every
        ops = HealthServer(
            metrics,
            {
                "slack": slack_ready(side.connected, health.is_degraded, HEALTH_SLACK),
                "store": reachable(opened.outbox.pending_count),
                "polls": polls_recent(metrics, watched, stale),
            },
            host=config.monitoring.health_host,
            port=config.monitoring.health_port,
        )
    return Bot(
        config,
        clock,
        wh,
        answers,
        renderer,
        side,
        store=opened,
        jobs_api=api,
        alerts=alerts,
        notifier=notifier,
        scheduler=scheduler,
        digests=digests,
        weekly=weekly,
        metrics=metrics,
        ops=ops,
        cost_scan=cost_scan,
        health=health,
    )


def build_replay(config: Config, db_path: str, *, start: datetime) -> Replay:
    """`jobs-bot replay`: the scheduled work over simulated time (bot/service/replay.py) on
    the embedded warehouse file `db_path` seen as it was at each moment, a fresh in-memory
    store and a clock set to `start`. Posts nothing, needs no credentials. The caller closes
    it (`with build_replay(...) as replay:`), which closes the store and the warehouse."""
    from bot.store import Store
    from bot.warehouse.as_of import AsOfWarehouse

    clock = FixedClock(start)
    warehouse = AsOfWarehouse.open(db_path)
    try:
        store = Store.open("sqlite://", clock)
    except BaseException:
        warehouse.close()
        raise
    renderer = Renderer(tz=config.timezone, currency=config.cost.currency, clock=clock)
    return Replay(config=config, clock=clock, renderer=renderer, store=store, warehouse=warehouse)


def _poll(
    alerts: FailureAlerts, health: Health, metrics: Metrics, workspace_id: str
) -> Callable[[], object]:
    """One workspace's poll, its outcome told to the health watch (degraded / restored) and
    to the metrics (polls, latency, last good poll for /readyz)."""

    def poll() -> None:
        started = time.monotonic()
        out = alerts.poll(workspace_id)
        ok = not out.errors
        metrics.poll_done(workspace_id, time.monotonic() - started, ok=ok)
        health.record(health_jobs_api(workspace_id), ok, "; ".join(out.errors) or None)

    return poll


def _poll_tables(alerts: FailureAlerts, health: Health) -> Callable[[], object]:
    def poll() -> None:
        try:
            out = alerts.poll_tables()
        except Exception as e:
            # A dropped connection is not a UserError, and is an outage all the same.
            health.record(WAREHOUSE, False, type(e).__name__)
            raise
        health.record(WAREHOUSE, not out.errors, "; ".join(out.errors) or None)

    return poll


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


def _p90_reader(answers: CommandService, clock: Clock) -> Callable[[JobKey], float | None]:
    """The job's usual (p90) duration, for "usually ≤ 25m" in an alert: from the one cached
    table of every job's p90 that `/jobs running` uses too (one query per half hour however
    many alerts), None when the warehouse cannot say (it must never stop an alert)."""

    def p90(job: JobKey) -> float | None:
        try:
            table = answers.durations.p90(clock.now())
        except Exception:
            log.info("no p90 for %s/%s", job.workspace_id, job.job_id, exc_info=True)
            return None
        return None if table is None else table.get((job.workspace_id, job.job_id))

    return p90


def _prune(store: Store, older_than: datetime) -> int:
    """What months of running would pile up: messages sent long ago, and the one-per-item
    marks (which alerts went into a roll-up, each SLA rule's message of the day)."""
    marks = store.watermarks.prune((ROLLED_UP, DAY_MARK), older_than)
    return store.outbox.prune(older_than) + marks
