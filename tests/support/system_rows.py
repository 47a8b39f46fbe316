"""Hand-built system-table rows for the answer tests: one job and one run row at a time (in
workspace `WS`, times relative to the demo account's end), and `build_db`, a warehouse file
holding exactly those rows, loaded through the real loader."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot.warehouse.loader import load_dir
from tests.support.demo import END

WS = "1111111111111111"


def job_row(job_id: str, name: str, *, owner: str | None = "ana.silva@example.com") -> dict:
    return {
        "workspace_id": WS,
        "job_id": job_id,
        "name": name,
        "change_time": (END - timedelta(days=40)).isoformat(),
        "run_as_user_name": owner,
        "creator_user_name": owner,
        "tags": {},
    }


def run_row(
    job_id: str,
    run_id: str,
    *,
    ended_ago: timedelta,
    took: timedelta = timedelta(minutes=10),
    state: str | None = "SUCCEEDED",
    code: str | None = None,
) -> dict:
    end = END - ended_ago
    return {
        "workspace_id": WS,
        "job_id": job_id,
        "run_id": run_id,
        "period_start_time": (end - took).isoformat(),
        "period_end_time": end.isoformat(),
        "result_state": state,
        "termination_code": code or ("SUCCESS" if state == "SUCCEEDED" else None),
    }


def build_db(tmp_path: Path, jobs: list[dict], runs: list[dict]) -> str:
    """A warehouse file holding exactly these jobs and runs, loaded by the real loader."""
    folder = tmp_path / "tables"
    folder.mkdir(exist_ok=True)
    for table, rows in (
        ("system.lakeflow.jobs", jobs),
        ("system.lakeflow.job_run_timeline", runs),
        (
            "system.access.workspaces_latest",
            [{"workspace_id": WS, "workspace_name": "prod", "workspace_url": "https://x.example"}],
        ),
    ):
        with (folder / f"{table}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")
    db = str(tmp_path / "hand.duckdb")
    load_dir(folder, db)
    return db
