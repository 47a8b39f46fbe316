"""`/jobs failing [window]`: jobs whose latest run in the window failed, worst first, as plain
data for `templates/failing.json.j2`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import actions
from bot.config import Config
from bot.grammar import Window
from bot.service.answer import Reader
from bot.service.common import as_int, owner_fields, run_url, workspace_host, workspace_label


def failing_view(reader: Reader, config: Config, window: Window, now: datetime) -> dict[str, Any]:
    rows = reader.rows("failing_jobs", {"now": now, "since": window.since})
    jobs = [failing_job(config, row) for row in rows]
    # Worst first: the longest streak, then most failures in the window, then the most recent.
    jobs.sort(
        key=lambda j: (-j["streak"], -j["failures"], -(j["when"].timestamp() if j["when"] else 0))
    )
    return {"window": window.label, "jobs": jobs, "count": len(jobs)}


def failing_job(config: Config, row: dict[str, Any]) -> dict[str, Any]:
    host = workspace_host(config, row.get("workspace_id"), row.get("workspace_url"))
    ws_id, job_id, run_id = (as_int(row.get(k)) for k in ("workspace_id", "job_id", "last_run_id"))
    rerun_value = None
    if ws_id is not None and job_id is not None and run_id is not None:
        rerun_value = actions.encode(workspace_id=ws_id, job_id=job_id, run_id=run_id)
    return {
        "name": row.get("name") or f"job {row.get('job_id')}",
        "job_id": str(row.get("job_id")),
        "run_id": str(row.get("last_run_id")),
        "workspace": workspace_label(config, row.get("workspace_id"), row.get("workspace_name")),
        "streak": int(row.get("streak") or 0),
        "failures": int(row.get("failures_in_window") or 0),
        "runs": int(row.get("runs_in_window") or 0),
        "state": row.get("result_state") or "FAILED",
        "code": row.get("termination_code"),
        # System tables carry only the termination code; the message comes with the Jobs API.
        "error": row.get("error_message"),
        "when": row.get("last_failure_time"),
        "url": run_url(host, row.get("job_id"), row.get("last_run_id")),
        "rerun_value": rerun_value,
        **owner_fields(config, row.get("owner")),
    }
