"""What the SLA alerts and the missed-run alerts share: the facts about a job their messages
need (name, link, workspace, owner and who that is in Slack, the channel its alerts route to)
and the one way an incident's message changes — posted once, then updated in place with a
thread line per change — through the outbox. A first post goes through the roll-up when one
is given (PRODUCT §5: a burst of alerts in a channel becomes one summary message, each alert
in its thread), as the failure and cost alerts' first posts do.

Routing facts come from jobs/get on workspaces with the Jobs API (cached: tags and owners
rarely change), else from the jobs table (queries/job_routing.sql).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import Config
from bot.models import ApiRun, JobInfo, JobKey, JobNotFound, JobsApiError
from bot.render import Renderer
from bot.service.ports import Warehouse
from bot.store.records import Incident, OutboxKind
from bot.warehouse import queries

log = logging.getLogger(__name__)

JOB_TTL = timedelta(minutes=10)  # jobs/get answers: routing tags and owners rarely change


class LiveJobsPort(Protocol):
    """bot.jobs_api.JobsApi by shape: the calls the lateness checks make."""

    def list_runs(
        self,
        workspace_id: str,
        *,
        started_from: datetime | None = None,
        active_only: bool = False,
        completed_only: bool = False,
        job_id: str | None = None,
        max_runs: int | None = None,
        interactive: bool = False,
    ) -> list[ApiRun]: ...

    def get_job(self, workspace_id: str, job_id: str, *, interactive: bool = False) -> JobInfo: ...


class DirectoryPort(Protocol):
    def user_id_for_email(self, email: str) -> str | None: ...


class StorePort(Protocol):
    """bot.store.Store by shape."""

    incidents: Any
    outbox: Any
    mutes: Any
    watermarks: Any


class RouterPort(Protocol):
    """bot.service.rollup.Rollup by shape: True when it took the first post (into the
    channel's roll-up, whose thread then carries the alert)."""

    def route(self, channel: str, incident: Incident, message: dict[str, Any]) -> bool: ...


# Watermark naming an incident whose first post went into a roll-up (keyed by incident id):
# its own message is the roll-up's thread entry, which has no `incident:<id>:post` row, so
# later changes must update it rather than post it again.
ROLLED_UP = "rolled-up"


@dataclass(frozen=True)
class JobFacts:
    workspace_id: str
    job_id: str
    name: str
    job_url: str | None
    workspace: str
    owner: str | None
    owner_id: str | None
    channel: str

    def as_detail(self) -> dict[str, Any]:
        return {
            "job_name": self.name,
            "job_url": self.job_url,
            "workspace": self.workspace,
            "owner": self.owner,
            "owner_id": self.owner_id,
        }


class JobLookup:
    """jobs/get per job (cached), and the facts a message about a job needs."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        warehouse: Warehouse,
        jobs_api: LiveJobsPort | None,
        directory: DirectoryPort | None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.warehouse = warehouse
        self.jobs_api = jobs_api
        self.directory = directory
        self._jobs: dict[tuple[str, str], tuple[datetime, JobInfo | None, bool]] = {}

    def live(self, workspace_id: str) -> bool:
        """Whether this workspace is read through the Jobs API (else system tables only)."""
        ws = self.config.workspace(workspace_id)
        return self.jobs_api is not None and ws is not None and ws.jobs_api

    def job_info(self, workspace_id: str, job_id: str) -> tuple[JobInfo | None, bool]:
        """(jobs/get, deleted). (None, False) when the API is not there or did not answer."""
        if not self.live(workspace_id):
            return None, False
        assert self.jobs_api is not None
        now = self.clock.now()
        hit = self._jobs.get((workspace_id, job_id))
        if hit is not None and now - hit[0] < JOB_TTL:
            return hit[1], hit[2]
        try:
            info: JobInfo | None = self.jobs_api.get_job(workspace_id, job_id)
            deleted = False
        except JobNotFound:
            info, deleted = None, True
        except JobsApiError as e:
            log.info("jobs/get %s/%s: %s", workspace_id, job_id, e)
            return None, False  # not cached: ask again next time
        self._jobs[(workspace_id, job_id)] = (now, info, deleted)
        return info, deleted

    def facts(
        self,
        workspace_id: str,
        job_id: str,
        *,
        name: str | None = None,
        owner: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> JobFacts:
        info, _ = self.job_info(workspace_id, job_id)
        if info is not None:
            name, owner, tags = info.name or name, info.owner or owner, info.tags
        elif tags is None:
            tags, name, owner = self._table_routing(workspace_id, job_id, name, owner)
        ws = self.config.workspace(workspace_id)
        host = ws.host.rstrip("/") if ws else None
        label = name or f"job {job_id}"
        return JobFacts(
            workspace_id=workspace_id,
            job_id=job_id,
            name=label,
            job_url=f"{host}/jobs/{job_id}" if host else None,
            workspace=ws.name if ws else workspace_id,
            owner=owner,
            owner_id=self._owner_id(owner),
            channel=self.config.route_channel(label, workspace_id, job_id, tags or {}),
        )

    def _table_routing(
        self, workspace_id: str, job_id: str, name: str | None, owner: str | None
    ) -> tuple[dict[str, str], str | None, str | None]:
        try:
            row = queries.job_routing(
                self.warehouse, JobKey(workspace_id, job_id), now=self.clock.now()
            )
        except Exception:  # routing falls back to the default rules; an alert still goes out
            log.info("job_routing %s/%s failed", workspace_id, job_id, exc_info=True)
            return {}, name, owner
        if row is None:
            return {}, name, owner
        tags = json.loads(row.tags_json or "{}")
        return {str(k): str(v) for k, v in tags.items()}, row.name or name, row.owner or owner

    def _owner_id(self, owner: str | None) -> str | None:
        if not owner:
            return None
        mapped = self.config.owner_slack_id(owner)
        if mapped:
            return mapped
        if self.directory is not None and "@" in owner:
            return self.directory.user_id_for_email(owner)
        return None


class Publisher:
    """An incident's message through the outbox: the first call posts it (as it stands), each
    later one updates it in place and adds one thread line. Dedupe keys carry the incident id
    and the change, so a repeated check or a second replica adds nothing. A snoozed incident
    keeps its message current but its thread quiet; a muted job's incident is only recorded.

    With a `router` (the roll-up), the first post may go into the channel's roll-up instead:
    the thread entry becomes the incident's message once it is sent (the roll-up links it),
    and the updates queued meanwhile wait for it, as for any alert not yet posted."""

    def __init__(
        self,
        store: StorePort,
        clock: Clock,
        renderer: Renderer,
        on_enqueue: Callable[[], None] | None = None,
        router: RouterPort | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.renderer = renderer
        self.router = router
        self._poke = on_enqueue or (lambda: None)

    def muted(self, incident: Incident) -> bool:
        mute = self.store.mutes.active_mute(JobKey(incident.workspace_id, incident.job_id))
        return mute is not None

    def posted(self, incident: Incident) -> bool:
        """Whether the incident has a message (or one on its way): its own post queued, a
        message it shares (linked to an earlier one), or an entry in a roll-up's thread."""
        if incident.message_ts or self.store.outbox.find(f"incident:{incident.id}:post"):
            return True
        return self.store.watermarks.get(ROLLED_UP, str(incident.id)) is not None

    def publish(
        self,
        incident: Incident,
        channel: str,
        why: str,
        payload: dict[str, Any],
        line: str | None = None,
    ) -> None:
        if self.muted(incident):
            return
        channel = incident.channel or channel
        # A muted job's incident was never posted: once the mute ends, its next change posts
        # the message as it stands (an update would wait for a parent that never comes).
        if not self.posted(incident):
            if self.router is not None and self.router.route(channel, incident, payload):
                self.store.watermarks.set(ROLLED_UP, {"channel": channel}, str(incident.id))
                return  # in the channel's roll-up: its thread carries this alert
            self.store.outbox.enqueue(
                dedupe_key=f"incident:{incident.id}:post",
                channel=channel,
                kind=OutboxKind.POST,
                payload=payload,
                incident_id=incident.id,
            )
            self._poke()
            return
        self.enqueue_update(incident, channel, why, payload)
        if line and (not incident.is_open or not incident.snoozed_at(self.clock.now())):
            self.enqueue_thread(incident, channel, why, line)

    def enqueue_update(
        self, incident: Incident, channel: str, why: str, payload: dict[str, Any]
    ) -> None:
        self.store.outbox.enqueue(
            dedupe_key=f"incident:{incident.id}:update:{why}",
            channel=incident.channel or channel,
            kind=OutboxKind.UPDATE,
            payload=payload,
            incident_id=incident.id,
        )
        self._poke()

    def enqueue_thread(
        self, incident: Incident, channel: str, why: str, line: str, quote: str | None = None
    ) -> None:
        message = self.renderer.render("alert_thread.json.j2", line=line, quote=quote)
        self.store.outbox.enqueue(
            dedupe_key=f"incident:{incident.id}:thread:{why}",
            channel=incident.channel or channel,
            kind=OutboxKind.THREAD_REPLY,
            payload=message,
            incident_id=incident.id,
        )
        self._poke()
