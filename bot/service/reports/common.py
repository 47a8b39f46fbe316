"""What the two reports share: where a job's part goes (the routing rules, as for its
alerts), the links of each line, the waste summary, and the outbox row a report became."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from bot.config import Config
from bot.models import ReportJob, WasteItem, WasteKind
from bot.service.common import amount, job_name, job_url, num, run_url, workspace_host
from bot.service.reports.views import Line, WasteView
from bot.store.records import OutboxMessage, OutboxState

log = logging.getLogger(__name__)

# How many lines a list shows before "and N more": a digest is read on a phone.
LIST_LINES = 5


class OutboxPort(Protocol):
    def enqueue(self, **kwargs: Any) -> bool: ...
    def find(self, dedupe_key: str) -> OutboxMessage | None: ...


class StorePort(Protocol):
    """bot.store.Store by shape: the parts the reports touch."""

    outbox: Any
    incidents: Any


def tags_of(row: ReportJob) -> dict[str, str]:
    try:
        value = json.loads(row.tags_json or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def team_channels(config: Config) -> list[str]:
    """The channels routing rules send to, other than the default one, in config order."""
    out: list[str] = []
    for rule in config.routing:
        channel = config.channel(rule.channel)
        if channel != config.slack.default_channel and channel not in out:
            out.append(channel)
    return out


def channel_of(config: Config, row: ReportJob) -> str:
    return config.route_channel(row.name, row.workspace_id, row.job_id, tags_of(row))


def channel_label(config: Config, channel: str) -> str:
    """ "#finance-data" for a configured name; a channel id as Slack's own link."""
    if channel.startswith("#"):
        return channel
    if channel[:1] in ("C", "G") and channel.isalnum():
        return f"<#{channel}>"
    return "#" + channel


def job_line(config: Config, row: ReportJob, note: str | None = None) -> Line:
    host = workspace_host(config, row.workspace_id)
    return Line(
        label=job_name(row.name, row.job_id),
        url=job_url(host, row.job_id),
        workspace=_workspace(config, row.workspace_id),
        cost=amount(row.cost),
        baseline=row.baseline_cost,
        change=None if row.change_pct is None else row.change_pct / 100,
        note=note,
    )


def failed_line(config: Config, row: ReportJob) -> Line:
    host = workspace_host(config, row.workspace_id)
    url = run_url(host, row.job_id, row.last_failed_run_id) or job_url(host, row.job_id)
    note = f"{row.failures} of {row.runs} runs failed" if row.runs > 1 else "failed"
    return Line(
        label=job_name(row.name, row.job_id),
        url=url,
        workspace=_workspace(config, row.workspace_id),
        note=note,
    )


def cluster_url(host: str | None, cluster_id: str | None) -> str | None:
    # Inferred: the workspace UI serves a cluster at /compute/clusters/<id>; no Databricks page
    # in reference/ states it.
    if not host or not cluster_id:
        return None
    return f"{host}/compute/clusters/{cluster_id}"


def waste_view(
    config: Config, items: Iterable[WasteItem], jobs: set[tuple[str, str]] | None
) -> WasteView:
    """Waste in the window; `jobs` narrows it to a team's jobs (None: the whole account,
    with idle clusters, which belong to no job)."""
    kept = [
        i
        for i in items
        if jobs is None
        or (i.kind is not WasteKind.IDLE_CLUSTER and (i.workspace_id, i.job_id or "") in jobs)
    ]

    def total(kind: WasteKind) -> float:
        return sum(amount(i.cost) for i in kept if i.kind is kind)

    lines = sorted(kept, key=lambda i: -amount(i.cost))
    shown = [_waste_line(config, i) for i in lines[:LIST_LINES] if amount(i.cost) > 0]
    failed, retried = total(WasteKind.FAILED_RUNS), total(WasteKind.RETRIED_ATTEMPTS)
    all_purpose, idle = total(WasteKind.ALL_PURPOSE_JOB), total(WasteKind.IDLE_CLUSTER)
    return WasteView(
        failed=failed,
        failed_runs=sum(i.runs or 0 for i in kept if i.kind is WasteKind.FAILED_RUNS),
        retried=retried,
        all_purpose=all_purpose,
        all_purpose_jobs=len(
            {(i.workspace_id, i.job_id) for i in kept if i.kind is WasteKind.ALL_PURPOSE_JOB}
        ),
        idle=idle,
        idle_clusters=sum(1 for i in kept if i.kind is WasteKind.IDLE_CLUSTER),
        total=failed + retried + all_purpose + idle,
        items=tuple(shown),
        more=max(0, sum(1 for i in lines if amount(i.cost) > 0) - len(shown)),
    )


_WASTE_NOTES = {
    WasteKind.FAILED_RUNS: "failed runs",
    WasteKind.RETRIED_ATTEMPTS: "retried attempts",
    WasteKind.ALL_PURPOSE_JOB: "job on all-purpose compute",
    WasteKind.IDLE_CLUSTER: "idle cluster",
}


def _waste_line(config: Config, item: WasteItem) -> Line:
    host = workspace_host(config, item.workspace_id)
    note = _WASTE_NOTES[item.kind]
    if item.kind is WasteKind.IDLE_CLUSTER:
        cpu = num(item.avg_cpu_percent)
        if cpu is not None:
            note += f", avg CPU {cpu:.0f}%"
        url = cluster_url(host, item.cluster_id)
    else:
        if item.runs:
            note += f", {item.runs} run{'s' if item.runs != 1 else ''}"
        url = job_url(host, item.job_id)
    return Line(
        label=item.label or item.cluster_id or item.job_id or "?",
        url=url,
        workspace=_workspace(config, item.workspace_id),
        cost=amount(item.cost),
        note=note,
    )


def top(rows: Sequence[ReportJob], rank: str, n: int) -> list[ReportJob]:
    """The first `n` rows by one of the query's ranks (computed over the whole account, so
    a team's subset keeps the account's order)."""
    return sorted(rows, key=lambda r: int(getattr(r, rank)))[:n]


def posted(outbox: OutboxPort, key: str) -> OutboxMessage | None:
    """The row that carried a report to Slack, once sent: the row itself, or the stand-in
    the notifier queued for it (re-routed to the default channel, or as plain text)."""
    for candidate in (key, f"{key}/rerouted", f"{key}/plain"):
        row = outbox.find(candidate)
        if row is not None and row.state is OutboxState.SENT and row.slack_ts:
            return row
    return None


def _workspace(config: Config, workspace_id: str) -> str:
    ws = config.workspace(workspace_id)
    return ws.name if ws is not None else workspace_id
