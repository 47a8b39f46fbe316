"""The composition root: config + clock in, the assembled bot out — warehouse, use cases,
Slack app and its transport — with `start()` / `stop()`. `jobs-bot run`, `jobs-bot ask`,
`jobs-bot demo` and the end-to-end test stacks all build here; nothing else wires parts
together, so every entry point runs the same bot.

(The Jobs API clients, the state store, the notifier and the scheduler join here as they land.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal, Protocol

from bot.clock import Clock
from bot.config import Config
from bot.render import Renderer
from bot.service import CommandService
from bot.warehouse import Warehouse, make_warehouse

log = logging.getLogger(__name__)

Transport = Literal["http", "socket"]


@dataclass(frozen=True)
class SlackLink:
    """How the bot reaches Slack: its bot token and API URL, and how Slack reaches it —
    signed HTTP requests (`signing_secret`) or Socket Mode (`app_token`)."""

    bot_token: str = field(repr=False)
    api_url: str
    transport: Transport = "socket"
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    http_host: str = "127.0.0.1"
    http_port: int = 0


def slack_link_from_config(config: Config, *, http_port: int | None = None) -> SlackLink:
    """The production link: secrets from the environment (already read into the config),
    HTTP mode when `http_port` is given or the config says so."""
    secrets = config.secrets
    transport: Transport = "http" if http_port is not None else config.slack.mode

    def reveal(value: object) -> str | None:
        get = getattr(value, "get_secret_value", None)
        return get() if get is not None else None

    return SlackLink(
        bot_token=reveal(secrets.slack_bot_token) or "",
        api_url=config.slack.api_url,
        transport=transport,
        signing_secret=reveal(secrets.slack_signing_secret),
        app_token=reveal(secrets.slack_app_token),
        http_host="0.0.0.0",
        http_port=http_port if http_port is not None else config.slack.http_port,
    )


def open_configured_warehouse(config: Config) -> Warehouse:
    """The warehouse the config names: a Databricks SQL warehouse, or the embedded one."""
    wh = config.warehouse
    if wh.databricks is not None:
        return make_warehouse(
            "databricks",
            server_hostname=wh.databricks.server_hostname,
            http_path=wh.databricks.http_path,
        )
    return make_warehouse("embedded", db_path=wh.embedded.path if wh.embedded else None)


class Bot:
    """The assembled bot. `answers` is the /jobs use case; `slack` its Slack side, if any."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        warehouse: Warehouse,
        answers: CommandService,
        renderer: Renderer,
        slack: _SlackSide | None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.warehouse = warehouse
        self.answers = answers
        self.renderer = renderer
        self.slack = slack

    @property
    def request_url(self) -> str | None:
        """Where Slack sends signed requests (HTTP mode, once started)."""
        return self.slack.request_url if self.slack is not None else None

    def start(self) -> None:
        """Start serving Slack (HTTP server or Socket Mode connection) in the background."""
        if self.slack is not None:
            self.slack.start()

    def serve_forever(self) -> None:
        """Serve Slack in the foreground until interrupted."""
        if self.slack is not None:
            self.slack.serve_forever()

    def stop(self) -> None:
        """Stop serving, then close the warehouse (in that order: a listener may still be
        reading it)."""
        try:
            if self.slack is not None:
                self.slack.stop()
        finally:
            self.warehouse.close()


class _SlackSide:
    """The Bolt app and its transport."""

    def __init__(
        self,
        link: SlackLink,
        answers: CommandService,
        renderer: Renderer,
        *,
        command: str,
        working_after: float | None,
    ) -> None:
        from bot.slack.app import WORKING_AFTER_SECONDS, build_app
        from bot.slack.client import web_client

        self.link = link
        self.client = web_client(link.bot_token, link.api_url)
        signed = link.signing_secret if link.transport == "http" else None
        self.app = build_app(
            self.client,
            signed,
            service=answers,
            command=command,
            working_after=WORKING_AFTER_SECONDS if working_after is None else working_after,
            renderer=renderer,
        )
        self._transport: _Transport | None = None
        self.request_url: str | None = None

    def _make_transport(self) -> _Transport:
        if self.link.transport == "http":
            from bot.slack.http_server import BoltHttpServer

            return BoltHttpServer(self.app, host=self.link.http_host, port=self.link.http_port)
        from bot.slack.socket_mode import SocketModeConnection

        return SocketModeConnection(self.app, self.link.app_token or "")

    def start(self) -> None:
        self._transport = self._make_transport()
        self.request_url = self._transport.start()

    def serve_forever(self) -> None:
        self._transport = self._make_transport()
        if self.link.transport == "http":
            log.info("jobs-bot listening on %s", getattr(self._transport, "url", "?"))
        else:
            log.info("jobs-bot connecting to Slack in Socket Mode")
        self._transport.serve_forever()

    def stop(self) -> None:
        if self._transport is not None:
            self._transport.stop()
            self._transport = None


class _Transport(Protocol):
    """What both transports offer (BoltHttpServer, SocketModeConnection)."""

    def start(self) -> str | None: ...

    def serve_forever(self) -> None: ...

    def stop(self) -> None: ...


def build(
    config: Config,
    clock: Clock,
    *,
    warehouse: Warehouse | None = None,
    slack: SlackLink | None = None,
    working_after: float | None = None,
) -> Bot:
    """Assemble the bot. `warehouse` defaults to the one the config names; without `slack`
    the bot answers only locally (`jobs-bot ask`)."""
    wh = warehouse if warehouse is not None else open_configured_warehouse(config)
    renderer = Renderer(tz=config.timezone, currency=config.cost.currency, clock=clock)
    answers = CommandService(wh, config, clock, renderer=renderer)
    side = None
    if slack is not None:
        side = _SlackSide(
            slack, answers, renderer, command=config.slack.command, working_after=working_after
        )
    return Bot(config, clock, wh, answers, renderer, side)
