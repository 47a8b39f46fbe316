"""The weekly cost report (Mondays by default): last week against the week before, by team
tag, workspace and SKU, the top jobs by cost and by growth, waste — and, in the report's
thread, a PNG of the daily cost by team.

Two outbox rows, each queued exactly once: the report (``weekly:<local day>``), then, once
the notifier has posted it and its ts is known, the chart (``weekly:<local day>:chart``), a
THREAD_REPLY whose payload carries the file (bot/slack/payloads.py: ``file``). The chart row
is a second step rather than queued with the report because a reply needs its parent's ts,
and rows without an incident have no other way to wait for their parent; `due(now)` (every
minute) takes that step, so the chart follows within a minute and survives a restart.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.clock import Clock, as_utc
from bot.config import Config
from bot.models import CostGroup, CostRow
from bot.render import Renderer
from bot.render.chart import Series, daily_cost_png
from bot.service.answer import Reader, WarehouseUnavailable
from bot.service.common import amount, num
from bot.service.ports import Warehouse
from bot.service.reports import common
from bot.service.reports.schedule import Slot, last_slot_today, local_day_window
from bot.service.reports.views import GroupCost, Line, WeeklyView, data
from bot.store.records import OutboxKind
from bot.warehouse import queries

log = logging.getLogger(__name__)

KIND = "weekly"
TOP_JOBS = 10
GROUP_ROWS = 8
# The chart shows this many teams by name; the rest are summed into "other teams".
CHART_TEAMS = 6


@dataclass(frozen=True)
class Week:
    """Seven local days [first, last], reported on the day after `last`."""

    first: date
    last: date

    @classmethod
    def before(cls, day: date) -> Week:
        return cls(day - timedelta(days=7), day - timedelta(days=1))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(7)]


class WeeklyReports:
    """Queues the weekly cost report and its chart in the outbox for the notifier."""

    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        renderer: Renderer,
        store: common.StorePort,
        warehouse: Warehouse,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.renderer = renderer
        self.store = store
        self.reader = Reader(warehouse)
        self._poke = on_enqueue or (lambda: None)

    @property
    def channel(self) -> str:
        return self.config.slack.default_channel

    def key(self, day: date) -> str:
        return f"{KIND}:{day.isoformat()}"

    def due(self, now: datetime | None = None) -> list[str]:
        """Queue this week's report once its slot has passed today, and its chart once the
        report is in Slack. Idempotent; returns the dedupe keys this call added."""
        now = as_utc(now or self.clock.now())
        added: list[str] = []
        slot = last_slot_today(self.config.schedules.weekly_report, self.config.tz, now)
        if slot is not None:
            added += self._queue(slot.day, now, slot=slot, reason=None)
        today = now.astimezone(self.config.tz).date()
        # Yesterday too: a report queued just before midnight gets its chart after it.
        for day in (today, today - timedelta(days=1)):
            added += self._chart(day)
        if added:
            self._poke()
        return added

    def send_now(self, now: datetime | None = None, reason: str = "demo") -> list[str]:
        """The report on last week now, whatever the schedule says (same key as today's
        scheduled one); its chart follows from the next `due`."""
        now = as_utc(now or self.clock.now())
        added = self._queue(now.astimezone(self.config.tz).date(), now, slot=None, reason=reason)
        if added:
            self._poke()
        return added

    # -- the report ----------------------------------------------------------------------

    def _queue(
        self, day: date, now: datetime, *, slot: Slot | None, reason: str | None
    ) -> list[str]:
        key = self.key(day)
        if self.store.outbox.find(key) is not None:
            return []
        try:
            view = self.view(Week.before(day), late=slot is not None and slot.late_at(now),
                             slot=slot, reason=reason)  # fmt: skip
        except WarehouseUnavailable as e:
            log.warning("weekly report for %s not ready: %s (error id %s)", day, e, e.error_id)
            return []
        payload = self.renderer.render("weekly_report.json.j2", **data(view), now=now)
        if self.channel.startswith("#"):
            payload["channel_name"] = self.channel[1:]
        if not self.store.outbox.enqueue(
            dedupe_key=key, channel=self.channel, kind=OutboxKind.POST, payload=payload
        ):
            return []
        log.info("weekly cost report %s queued", key)
        return [key]

    def view(
        self,
        week: Week,
        *,
        late: bool = False,
        slot: Slot | None = None,
        reason: str | None = None,
    ) -> WeeklyView:
        tz = self.config.tz
        since = local_day_window(week.first, tz)[0]
        until = local_day_window(week.last, tz)[1]
        prev_since = local_day_window(week.first - timedelta(days=7), tz)[0]
        window = {"since": since, "until": until, "prev_since": prev_since}
        total = self.reader.read(queries.cost_total, **window)
        rows = self.reader.read(queries.report_jobs, **window)
        waste = self.reader.read(
            queries.waste,
            since=since,
            until=until,
            idle_cpu_percent=self.config.cost.idle_cpu_percent,
        )
        groups = (
            GroupCost("By team", self._group(CostGroup.TAG, window)),
            GroupCost("By workspace", self._group(CostGroup.WORKSPACE, window)),
            GroupCost("By SKU", self._group(CostGroup.SKU, window)),
        )
        cost, prev = amount(total.cost), amount(total.prev_cost)
        growing = [
            r for r in common.top(rows, "growth_rank", TOP_JOBS) if amount(r.cost) > r.baseline_cost
        ]
        return WeeklyView(
            since=week.first,
            until=week.last,
            late=late,
            slot_at=slot.at if slot is not None else None,
            reason=reason,
            cost=cost,
            prev_cost=prev,
            change=((cost - prev) / prev) if prev else None,
            groups=groups,
            top_cost=tuple(
                common.job_line(self.config, r)
                for r in common.top(rows, "cost_rank", TOP_JOBS)
                if amount(r.cost) > 0
            ),
            top_growth=tuple(common.job_line(self.config, r) for r in growing),
            waste=common.waste_view(self.config, waste, None),
            currency=self.config.cost.currency,
            chart_note=f"📈 Daily cost by `{self.config.cost.team_tag}` tag: in the thread",
        )

    def _group(self, group: CostGroup, window: dict[str, datetime]) -> tuple[Line, ...]:
        tag = self.config.cost.team_tag if group is CostGroup.TAG else None
        found = self.reader.read(
            queries.cost_by, group_by=group, tag_key=tag, limit=GROUP_ROWS, **window
        )
        return tuple(_group_line(r) for r in found)

    # -- the chart -----------------------------------------------------------------------

    def _chart(self, day: date) -> list[str]:
        key = f"{self.key(day)}:chart"
        report = common.posted(self.store.outbox, self.key(day))
        if report is None or self.store.outbox.find(key) is not None:
            return []
        week = Week.before(day)
        try:
            png = self.chart(week)
        except WarehouseUnavailable as e:
            log.warning("weekly chart for %s not ready: %s (error id %s)", day, e, e.error_id)
            return []
        title = f"Daily cost by team, {_span(week)}"
        payload = {
            "text": f"📈 {title}",
            "thread_ts": report.slack_ts,
            "file": {
                "filename": f"cost-by-team-{week.first.isoformat()}-{week.last.isoformat()}.png",
                "title": title,
                "alt_txt": f"Stacked bars of each day's cost by {self.config.cost.team_tag} tag",
                "content_b64": base64.b64encode(png).decode("ascii"),
            },
        }
        if not self.store.outbox.enqueue(
            dedupe_key=key, channel=report.channel, kind=OutboxKind.THREAD_REPLY, payload=payload
        ):
            return []
        return [key]

    def chart(self, week: Week) -> bytes:
        """The week's daily cost per team tag value as a PNG (one cost_by per local day: a
        day's bounds move with DST, which a UTC usage_date cannot follow)."""
        tz = self.config.tz
        per_day: list[dict[str, float]] = []
        for day in week.days():
            since, until = local_day_window(day, tz)
            found = self.reader.read(
                queries.cost_by, since=since, until=until, prev_since=since,
                group_by=CostGroup.TAG, tag_key=self.config.cost.team_tag, limit=100,
            )  # fmt: skip
            per_day.append({r.label: amount(r.cost) for r in found})
        totals: dict[str, float] = {}
        for costs in per_day:
            for label, value in costs.items():
                totals[label] = totals.get(label, 0.0) + value
        named = sorted(totals, key=lambda k: (-totals[k], k))[:CHART_TEAMS]
        series = [Series(label, tuple(d.get(label, 0.0) for d in per_day)) for label in named]
        rest = tuple(sum(v for k, v in d.items() if k not in named) for d in per_day)
        if any(rest):
            series.append(Series("other teams", rest))
        return daily_cost_png(
            week.days(),
            series,
            title=f"Daily cost by {self.config.cost.team_tag}, {_span(week)}",
            currency=self.config.cost.currency,
        )


def _group_line(row: CostRow) -> Line:
    change = num(row.change_pct)
    return Line(
        label=row.label,
        url=None,
        cost=amount(row.cost),
        baseline=amount(row.prev_cost),
        change=None if change is None else change / 100,
    )


def _span(week: Week) -> str:
    return f"{week.first:%-d %b} – {week.last:%-d %b %Y}"
