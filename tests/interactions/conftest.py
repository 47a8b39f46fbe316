"""The stack for the button tests, all real parts: the local Slack sandbox delivering signed
block_actions to the real Bolt app over HTTP, the real WebClient, the real JobsApi
(databricks-sdk) against the local Databricks, the real store on SQLite — assembled by
`bot.wiring.build(..., store=…, watch=True, jobs_api=…)` as `jobs-bot demo` does.

Time is the injected clock (the World and the bot share it). The watchers do not run on
their own: tests poll the workspace and drain the outbox themselves, with a notifier paced
for tests, so every step is deterministic."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import wiring
from bot.clock import FixedClock
from bot.config import Config, load_config
from bot.config.secrets import Secrets
from bot.config.sections import Grant
from bot.slack.notifier import Notifier
from bot.store import Incident, Store
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.databricks import LocalDatabricks, World
from sandbox.slack.driver import Seen, SlackSandbox
from sandbox.slack.state import Message
from tests.support.demo import Demo
from tests.support.jobs_api import START, make_api, workspace_config

WS = 1234567890
ALICE, BOB, CAROL = "U01ALICE", "U02BOB", "U03CAROL"
ALERTS = "C02ALERTS"  # #data-alerts, the demo config's default channel


@dataclass
class Stack:
    world: World
    server: LocalDatabricks
    sb: SlackSandbox
    bot: wiring.Bot
    store: Store
    clock: FixedClock
    notifier: Notifier
    jobs: dict[str, int] = field(default_factory=dict)

    @property
    def ws(self) -> str:
        return str(WS)

    # -- the world -----------------------------------------------------------------------
    def job(self, name: str = "nightly_sales", tasks: tuple[str, ...] = ("load",)) -> int:
        job = self.world.add_job(WS, name, tasks)
        self.jobs[name] = job.job_id
        return job.job_id

    def fail(self, job_id: int, error: str = "Table sales.orders not found") -> int:
        run = self.world.start_run(WS, job_id)
        self.tick(minutes=5)
        self.world.set_task_outcome(WS, run.run_id, "load", "FAILED", error, error=error)
        return run.run_id

    def succeed(self, job_id: int) -> int:
        run = self.world.start_run(WS, job_id)
        self.tick(minutes=5)
        self.world.set_task_outcome(WS, run.run_id, "load", "SUCCESS")
        return run.run_id

    def tick(self, *, minutes: float = 0, seconds: float = 0) -> None:
        self.clock.set(self.clock.now() + timedelta(minutes=minutes, seconds=seconds))

    # -- the bot -------------------------------------------------------------------------
    def poll(self) -> None:
        self.tick(seconds=30)
        assert self.bot.alerts is not None
        self.bot.alerts.poll(self.ws)

    def drain(self) -> None:
        self.notifier.drain()

    def alert(self, job_id: int | None = None) -> Message:
        """The alert message in the channel (the newest top-level bot message)."""
        self.drain()
        found = [m for m in self.sb.messages(ALERTS) if m.bot_id and not m.is_reply]
        assert found, "no alert was posted"
        return found[-1]

    def current(self, message: Message) -> Message:
        self.drain()
        now = self.sb.message(ALERTS, message.id)
        assert now is not None
        return now

    def thread(self, message: Message) -> list[str]:
        self.drain()
        return [m.text for m in self.sb.thread(ALERTS, message.ts) if m.ts != message.ts]

    def click(
        self,
        message: Message,
        action_id: str,
        user: str,
        value: str | None = None,
        *,
        ephemeral: bool = False,
    ) -> Seen:
        """Click as `user` and wait until the bot has done everything the click causes: its
        audit entry is the last thing each click writes, then (if expected) the ephemeral."""
        before = len(self.audit())
        shown = len(self.sb.ephemerals(user, ALERTS))
        seen = self.sb.click(message, action_id, value, user=user, timeout=0)
        assert seen.status == "ok", seen
        assert self.sb.wait_until(lambda: len(self.audit()) > before, 10), "the click did nothing"
        if ephemeral:
            assert self.sb.wait_until(lambda: len(self.sb.ephemerals(user, ALERTS)) > shown, 5)
        return seen

    def said_to(self, user: str) -> list[str]:
        return [m.text for m in self.sb.ephemerals(user, ALERTS)]

    def incident(self) -> Incident:
        found = self.store.incidents.open_incidents()
        assert len(found) == 1
        return found[0]

    def audit(self, action: str | None = None) -> list[Any]:
        return self.store.audit.entries(action=action)


def flat(message: Message) -> str:
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


def labels(message: Message) -> list[str]:
    out = []
    for block in message.blocks:
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            text = el.get("text") or el.get("placeholder") or {}
            out.append(text.get("text", ""))
    return out


def stack_config(server: LocalDatabricks, **grants: Grant | None) -> Config:
    cfg = load_config(DEMO_CONFIG)
    update: dict[str, Any] = {"workspaces": [workspace_config(server, WS)]}
    given = {k: v for k, v in grants.items() if v is not None}
    if given:
        update["permissions"] = cfg.permissions.model_copy(update=given)
    return cfg.model_copy(update=update)


@pytest.fixture
def make_stack(
    demo: Demo,
    tmp_path: Path,
) -> Iterator[Callable[..., Stack]]:
    made: list[tuple[Stack, SlackSandbox, LocalDatabricks]] = []

    def make(
        *, rerun: Grant | None = None, mute: Grant | None = None, bot_user: str | None = None
    ) -> Stack:
        """`bot_user`: the bot calls Databricks as this (plain) user, not the admin."""
        clock = FixedClock(START)
        world = World(clock)
        world.add_workspace("prod-emea", WS)
        server = LocalDatabricks(world)
        secrets = None
        if bot_user is not None:
            world.add_user(WS, bot_user)
            secrets = Secrets(databricks_token=world.issue_token(WS, bot_user))
        api = make_api(server, WS, secrets=secrets)
        sb = SlackSandbox(signing_secret="interactions-secret")
        sb.start()
        link = wiring.SlackLink(
            bot_token=sb.bot_token,
            api_url=sb.api_url,
            transport="http",
            signing_secret=sb.signing_secret,
        )
        store = Store.open(f"sqlite:///{tmp_path / f'state{len(made)}.db'}", clock)
        bot = wiring.build(
            stack_config(server, rerun=rerun, mute=mute),
            clock,
            warehouse=open_warehouse(demo.path),
            slack=link,
            store=store,
            watch=True,
            jobs_api=api,
        )
        assert bot.slack is not None
        bot.slack.start()  # only the HTTP side: the tests poll and drain themselves
        sb.app_request_url = bot.request_url
        from bot.slack.client import web_client

        notifier = Notifier(
            store.outbox,
            store.incidents,
            web_client(sb.bot_token, sb.api_url),
            clock,
            default_channel=ALERTS,
            per_channel_interval=0.02,
        )
        stack = Stack(world, server, sb, bot, store, clock, notifier)
        made.append((stack, sb, server))
        return stack

    yield make
    for stack, sb, server in made:
        stack.bot.stop()
        sb.stop()
        server.stop()


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack()


@pytest.fixture
def alerted(stack: Stack) -> tuple[Stack, int, int, Message]:
    """A job that failed once, its alert posted: (stack, job id, run id, the alert)."""
    job = stack.job()
    stack.poll()  # first poll: the feed's starting point
    run = stack.fail(job)
    stack.poll()
    return stack, job, run, stack.alert()
