"""What a Rerun click is about: the workspace, job and run of its button, the incident whose
alert (if any) hears about the rerun in its thread, and the click's audit record
(`rerun`, with its result) — shared by the rerun itself (rerun.py), its lost answers
(rerun_unsure.py) and their replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.service.clicks import StorePort
from bot.service.permissions import Person
from bot.store.records import Incident


@dataclass(frozen=True)
class RerunTarget:
    workspace_id: str
    job_id: str
    run_id: str
    incident: Incident | None
    # The button is on an alert (not a /jobs failing row) whose incident has resolved.
    resolved: bool = False

    @property
    def thread(self) -> Incident | None:
        """The alert whose thread hears about this rerun, if there is one."""
        incident = self.incident
        return incident if incident is not None and incident.channel is not None else None


def audit_rerun(
    store: StorePort,
    result: str,
    who: Person,
    target: RerunTarget,
    detail: dict[str, Any] | None = None,
) -> None:
    """The click's audit record: what came of it (`result`), who clicked, on which run."""
    store.audit.record(
        "rerun",
        result,
        actor_id=who.user_id,
        actor_email=who.email,
        workspace_id=target.workspace_id,
        job_id=target.job_id,
        run_id=target.run_id,
        incident_id=target.incident.id if target.incident is not None else None,
        detail={
            **(detail or {}),
            "job_name": target.incident.job_name if target.incident is not None else None,
        },
    )
