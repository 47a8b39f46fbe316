"""The end-to-end stack: the real jobs-bot built by `bot.wiring` (the real CommandService on a
warehouse, the real Bolt app served over HTTP) behind the local Slack sandbox, which sends it
signed requests, as `jobs-bot demo` runs it. `start_stack` / `stop_stack` build one by hand;
the `make_stack` and `stack` fixtures build them on the small demo account (tests/support/demo.py)
and are imported by the conftest of each folder that uses them. Warehouse wrappers given to
`make_stack` delegate to the real DuckDB warehouse; they only add delay or failure, the way a
cold or dropped SQL warehouse would."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.config import Config
from bot.service import CommandService
from bot.warehouse import Warehouse, open_warehouse
from sandbox.slack.driver import SlackSandbox
from sandbox.slack.workspace import SlackWorkspace
from tests.support.demo import END, Demo, demo_config


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
    workspace: SlackWorkspace | None = None,
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
        workspace: SlackWorkspace | None = None,
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
