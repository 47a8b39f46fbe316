"""The proactive-path tests' shared set-up (cost alerts, lateness, replay): a config from YAML
(`CONFIG`, one workspace, a routed finance channel, cost and monitoring settings), a fixed
Wednesday to run on, job spend billed into an embedded warehouse filled row by row
(tests/support/wh_world.py), and the store's outbox read back in order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.config import Config, load_config
from bot.store import Store
from bot.store.records import OutboxMessage
from tests.support.wh_world import World

JOBS_SKU = "PREMIUM_JOBS_COMPUTE"
DAY = date(2026, 3, 4)  # a Wednesday
NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

CONFIG = """
timezone: Europe/Amsterdam
warehouse: {embedded: {path: ":memory:"}}
workspaces:
  - {id: "1001", name: prod-emea, host: "https://prod-emea.cloud.databricks.com", jobs_api: false}
slack:
  default_channel: "#data-alerts"
  channels: {finance: "#finance-data"}
routing:
  - tag: {team: finance-data}
    channel: finance
cost: {currency: USD, anomaly_sensitivity: 3.5, min_daily_amount: 50}
monitoring: {degraded_after_failures: 3, rollup_after_alerts: 5, rollup_window_seconds: 300}
owners: {ana@example.com: U01ALICE}
"""


def make_config(tmp_path: Path, text: str = CONFIG) -> Config:
    path = tmp_path / "jobs-bot.yml"
    path.write_text(text, encoding="utf-8")
    return load_config(str(path), env={})


def spend(w: World, ws: str, job: str, day: date, amount: float, runs: int = 1) -> None:
    """`amount` dollars of job compute on `day`, spread over `runs` billed runs."""
    for i in range(runs):
        hour = 1 + i % 20
        start = f"{day.isoformat()} {hour:02d}:00"
        end = f"{day.isoformat()} {hour:02d}:50"
        w.usage(ws, JOBS_SKU, start, end, f"{amount / runs:.4f}", job_id=job,
                run_id=f"{job}-{day.isoformat()}-{i}")  # fmt: skip


def usual_month(
    w: World, ws: str, job: str, before: date, low: float = 90, high: float = 110
) -> None:
    """28 days before `before` alternating `low`/`high`: median (low+high)/2, MAD (high-low)/2."""
    for back in range(1, 29):
        spend(w, ws, job, before - timedelta(days=back), low if back % 2 else high)


def outbox(store: Store) -> list[OutboxMessage]:
    rows = []
    i = 1
    while (found := store.outbox.get(i)) is not None:
        rows.append(found)
        i += 1
    return rows
