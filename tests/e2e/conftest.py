"""The end-to-end stack: a small demo account generated once per session at a fixed end time,
the real CommandService on it, the real Bolt app served over HTTP, and the local Slack sandbox
sending it signed requests. Warehouse wrappers here delegate to the real DuckDB warehouse; they
only add delay or failure, the way a cold or dropped SQL warehouse would."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.config import Config, WorkspaceConfig, load_config
from bot.service import CommandService
from bot.warehouse import Warehouse, open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.demo_account import DemoStory, generate
from sandbox.slack.driver import SlackSandbox
from sandbox.slack.workspace import Workspace as SandboxWorkspace

END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Demo:
    path: str
    story: DemoStory


class SlowWarehouse:
    """The real warehouse, `delay` seconds slower per query."""

    def __init__(self, inner: Warehouse, delay: float) -> None:
        self.inner = inner
        self.delay = delay

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        time.sleep(self.delay)
        return self.inner.run(name, params)

    def close(self) -> None:
        self.inner.close()


class FlakyWarehouse:
    """The real warehouse, failing like a dropped connection while `broken` is set."""

    def __init__(self, inner: Warehouse) -> None:
        self.inner = inner
        self.broken = False

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        if self.broken:
            raise ConnectionResetError(
                "[Errno 104] Connection reset by peer (token dapi-secret-e2e)"
            )
        return self.inner.run(name, params)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    path = str(tmp_path_factory.mktemp("e2e") / "demo.duckdb")
    story = generate(path, jobs=24, days=20, workspaces=2, seed=7, end=END)
    return Demo(path, story)


def demo_config(story: DemoStory, **cost: Any) -> Config:
    """The built-in demo config with the account's workspaces (as `jobs-bot demo` runs it)."""
    cfg = load_config(DEMO_CONFIG)
    workspaces = tuple(
        # System tables only: these hosts are not reachable (the live path has its own tests).
        WorkspaceConfig(id=w.workspace_id, name=w.name, host=w.url, jobs_api=False)
        for w in story.workspaces
    )
    update: dict[str, Any] = {"workspaces": workspaces}
    if cost:
        update["cost"] = cfg.cost.model_copy(update=cost)
    return cfg.model_copy(update=update)


class Stack:
    """A sandbox with the real jobs-bot (built by `bot.wiring`) behind it over HTTP."""

    def __init__(self, sb: SlackSandbox, bot: wiring.Bot) -> None:
        self.sb = sb
        self.bot = bot
        self.service: CommandService = bot.answers


def start_stack(
    warehouse: Warehouse,
    config: Config,
    *,
    working_after: float | None = None,
    workspace: SandboxWorkspace | None = None,
) -> Stack:
    """A sandbox and the bot wired to it in HTTP mode, as `jobs-bot demo` runs it."""
    sb = SlackSandbox(signing_secret="e2e-signing-secret", workspace=workspace)
    sb.start()
    link = wiring.SlackLink(
        bot_token=sb.bot_token,
        api_url=sb.api_url,
        transport="http",
        signing_secret=sb.signing_secret,
    )
    bot = wiring.build(
        config, FixedClock(END), warehouse=warehouse, slack=link, working_after=working_after
    )
    bot.start()
    assert bot.request_url is not None
    sb.app_request_url = bot.request_url
    return Stack(sb, bot)


def stop_stack(stack: Stack) -> None:
    stack.bot.stop()
    stack.sb.stop()


@pytest.fixture
def make_stack(demo: Demo) -> Iterator[Callable[..., Stack]]:
    """Build a stack; `wrap` puts a wrapper around the real warehouse, `config` replaces the
    demo config."""
    made: list[Stack] = []

    def make(
        wrap: Callable[[Warehouse], Warehouse] | None = None,
        *,
        config: Config | None = None,
        working_after: float = 1.5,
        workspace: SandboxWorkspace | None = None,
    ) -> Stack:
        warehouse: Warehouse = open_warehouse(demo.path)
        if wrap is not None:
            warehouse = wrap(warehouse)
        stack = start_stack(
            warehouse,
            config or demo_config(demo.story),
            working_after=working_after,
            workspace=workspace,
        )
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stop_stack(stack)


@pytest.fixture(scope="module")
def stack(demo: Demo) -> Iterator[Stack]:
    """One shared stack for the read-only command tests (each test uses its own user or
    channel where it matters)."""
    shared = start_stack(open_warehouse(demo.path), demo_config(demo.story))
    try:
        yield shared
    finally:
        stop_stack(shared)
