"""The demo account every answer test reads: generated once per test process at a fixed end
time (small: 24 jobs, 20 days, 2 workspaces), and the demo config with its workspaces, as
`jobs-bot demo` runs it (system tables only: these workspace hosts are not reachable).
`make_full_demo` is the account `jobs-bot demo` itself generates (generate's defaults: 60 jobs,
30 days, 3 workspaces, seed 7), at the same fixed end time: the README's screenshots show it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from bot.config import Config, WorkspaceConfig, load_config
from sandbox import DEMO_CONFIG
from sandbox.demo_account import DemoStory, generate

END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Demo(NamedTuple):
    path: str
    story: DemoStory


def make_demo(folder: Path) -> Demo:
    path = str(folder / "demo.duckdb")
    story = generate(path, jobs=24, days=20, workspaces=2, seed=7, end=END)
    return Demo(path, story)


def make_full_demo(folder: Path) -> Demo:
    """The account `jobs-bot demo` runs on (it only passes the seed, 7 by default)."""
    path = str(folder / "demo.duckdb")
    return Demo(path, generate(path, seed=7, end=END))


def demo_config(story: DemoStory, **cost: Any) -> Config:
    """The demo config with the account's workspaces; `cost` overrides cost settings."""
    cfg = load_config(DEMO_CONFIG)
    workspaces = tuple(
        WorkspaceConfig(id=w.workspace_id, name=w.name, host=w.url, jobs_api=False)
        for w in story.workspaces
    )
    update: dict[str, Any] = {"workspaces": workspaces}
    if cost:
        update["cost"] = cfg.cost.model_copy(update=cost)
    return cfg.model_copy(update=update)
