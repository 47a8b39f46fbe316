"""The assembled bot (`Bot`): what `bot.wiring.build` hands back — its parts, and `start()` /
`stop()` in the one order that lets work in flight finish before what it uses is closed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.config import Config
from bot.health import HealthServer
from bot.metrics import Metrics
from bot.render import Renderer
from bot.scheduler import Scheduler
from bot.service import CommandService
from bot.service.alerts import FailureAlerts
from bot.service.cost_alerts import CostScan
from bot.service.health import Health
from bot.service.reports.digest import Digests
from bot.service.reports.weekly import WeeklyReports
from bot.warehouse import Warehouse

if TYPE_CHECKING:
    from bot.jobs_api import JobsApi
    from bot.slack.notifier import Notifier
    from bot.store import Store
    from bot.wiring.slack_side import SlackSide


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
        slack: SlackSide | None,
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
