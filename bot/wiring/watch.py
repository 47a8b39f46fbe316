"""The half of the bot that speaks first, assembled: the notifier (its own Slack client,
paced, only the leader sends), the failure watchers and the roll-up, SLA and missed-run
alerts, the digest and weekly report, cost anomalies, the bot's watch on its own health, the
button use cases and the Slack side that carries them, every scheduler job (each one call
into service), and the health server (/healthz, /readyz, /metrics)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.config import Config, cron_trigger
from bot.health import HealthServer, polls_recent, reachable, slack_ready
from bot.metrics import Metrics
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
from bot.service.reports.digest import Digests
from bot.service.reports.weekly import WeeklyReports
from bot.service.rollup import Rollup
from bot.service.sla_alerts import SlaAlerts
from bot.service.sla_days import DAY_MARK
from bot.store.records import IncidentKind, OutboxMessage
from bot.warehouse import Warehouse, queries
from bot.wiring.bot import Bot
from bot.wiring.slack_side import SlackLink, SlackSide

if TYPE_CHECKING:
    from bot.jobs_api import JobsApi
    from bot.store import Store

log = logging.getLogger(__name__)

# With every workspace watched through the Jobs API, the system tables are read for failures
# only as an hourly reconcile; costs of failed runs are looked up every half hour.
RECONCILE_SECONDS = 3600
# Sent messages are kept this long (their dedupe keys name an incident, a day or a week, none
# of which comes back after it), then pruned every few hours.
OUTBOX_RETENTION = timedelta(days=30)
OUTBOX_PRUNE_SECONDS = 6 * 3600
COST_BACKFILL_SECONDS = 1800


def build_watching(
    config: Config,
    clock: Clock,
    *,
    warehouse: Warehouse,
    renderer: Renderer,
    answers: CommandService,
    jobs_api: JobsApi | None,
    metrics: Metrics,
    store: Store,
    slack: SlackLink,
    working_after: float | None,
) -> Bot:
    """`build(..., watch=True)` from here on: the answering half is built (`answers` on the
    metered `warehouse`), `store` is open; the rest of the bot is assembled around them."""
    from bot.slack.client import web_client
    from bot.slack.directory import SlackDirectory
    from bot.slack.notifier import Notifier

    # The Slack side is built last, once the button use cases exist (the outbound half has its
    # own client: WebClients are stateless).
    client = web_client(slack.bot_token, slack.api_url)
    directory = SlackDirectory(client)
    notifier = Notifier(
        store.outbox,
        store.incidents,
        client,
        clock,
        default_channel=config.slack.default_channel,
    )
    # Many alerts at once in a channel become one roll-up; the bot's own health is watched.
    rollup = Rollup(
        config=config, clock=clock, renderer=renderer, store=store, on_enqueue=notifier.poke
    )
    health = Health(
        config=config, clock=clock, renderer=renderer, store=store, on_enqueue=notifier.poke
    )

    def slack_result(ok: bool, error: str | None) -> None:
        metrics.slack_call("chat", None if ok else (error or "error"))
        health.record(HEALTH_SLACK, ok, error)

    notifier.on_result = slack_result  # "monitoring degraded: Slack" and Slack metrics

    def alert_posted(message: OutboxMessage) -> None:
        if message.incident_id is None or not message.dedupe_key.endswith(":post"):
            return  # a digest, a report, an answer: not an alert
        incident = store.incidents.get(message.incident_id)
        if incident is not None:
            metrics.alert("rollup" if rollup.is_rollup(incident) else incident.kind)

    notifier.on_posted = alert_posted  # alerts by kind, for /metrics
    alerts = FailureAlerts(
        config=config,
        clock=clock,
        renderer=renderer,
        store=store,
        jobs_api=jobs_api,
        directory=directory,
        p90_seconds=_p90_reader(answers, clock),
        on_enqueue=notifier.poke,
        ended_runs=partial(queries.runs_ended, warehouse),
        run_cost=lambda ws, run: queries.run_cost(warehouse, workspace_id=ws, job_run_id=run),
        router=rollup,
    )
    interactions = Interactions(
        config=config,
        clock=clock,
        renderer=renderer,
        store=store,
        alerts=alerts,
        jobs_api=jobs_api,
        directory=directory,
    )
    answers.interactions = interactions
    side = SlackSide(
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
        if ws.jobs_api and jobs_api is not None
    ]
    jobs.append(Every("rollup-sync", 5, rollup.sync))
    # A snooze that ran out gets its one reminder within a minute (idempotent: outbox keys).
    jobs.append(Every("snooze-reminders", 60, interactions.remind_snoozes))
    # Months of running must not grow the outbox without end: what was sent long ago goes.
    jobs.append(
        Every(
            "outbox-prune",
            OUTBOX_PRUNE_SECONDS,
            lambda: _prune(store, clock.now() - OUTBOX_RETENTION),
        )
    )
    # Lateness: SLA rules and missed scheduled runs, each incident one living message too;
    # their first posts go through the roll-up like failures' (a burst becomes one summary).
    voices = dict(
        config=config,
        clock=clock,
        renderer=renderer,
        store=store,
        warehouse=warehouse,
        jobs_api=jobs_api,
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
        config=config, clock=clock, renderer=renderer, store=store, warehouse=warehouse,
        on_enqueue=notifier.poke,
    )  # fmt: skip
    weekly = WeeklyReports(
        config=config, clock=clock, renderer=renderer, store=store, warehouse=warehouse,
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
        store=store,
        warehouse=warehouse,
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
    if jobs_api is not None and all(ws.jobs_api for ws in config.workspaces):
        # Every workspace is watched live: the tables are only the reconcile (failures the
        # API path missed while the bot or a workspace was down), hourly, so an idle
        # serverless warehouse can stop between the bot's few queries.
        tables = max(tables, RECONCILE_SECONDS)
    jobs.append(Every("failures:system-tables", tables, _poll_tables(alerts, health)))
    # Billing lands by the hour, hours late: what a failed run cost is looked up half-hourly.
    jobs.append(Every("failures:costs", max(tables, COST_BACKFILL_SECONDS), alerts.backfill_costs))
    leadership = Leadership(store.leases, ttl=config.schedules.leader_lease_seconds)
    scheduler = Scheduler(jobs, timezone=config.timezone, leadership=leadership)
    # One voice on Slack too: only the leader sends, so two replicas keep each channel's pace.
    notifier.sends_now = lambda: leadership.held
    metrics.watch_outbox(store.outbox.pending_count)
    ops = None
    if config.monitoring.health_port is not None:
        watched = [ws.id for ws in config.workspaces if ws.jobs_api and jobs_api is not None]
        stale = config.monitoring.ready_after_missed_polls * every
        ops = HealthServer(
            metrics,
            {
                "slack": slack_ready(side.connected, health.is_degraded, HEALTH_SLACK),
                "store": reachable(store.outbox.pending_count),
                "polls": polls_recent(metrics, watched, stale),
            },
            host=config.monitoring.health_host,
            port=config.monitoring.health_port,
        )
    return Bot(
        config,
        clock,
        warehouse,
        answers,
        renderer,
        side,
        store=store,
        jobs_api=jobs_api,
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
