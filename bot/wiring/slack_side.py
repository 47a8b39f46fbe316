"""The bot's Slack side: how it reaches Slack and Slack reaches it (`SlackLink`, and the
production one from the config), and the Bolt app with its transport — signed HTTP or
Socket Mode — started, served and stopped (`SlackSide`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from bot.config import Config
from bot.render import Renderer
from bot.service import CommandService
from bot.service.interactions import Interactions

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


class SlackSide:
    """The Bolt app and its transport."""

    def __init__(
        self,
        link: SlackLink,
        answers: CommandService,
        renderer: Renderer,
        *,
        command: str,
        working_after: float | None,
        buttons: Interactions | None = None,
    ) -> None:
        from bot.slack.app import WORKING_AFTER_SECONDS, build_app
        from bot.slack.client import web_client
        from bot.slack.workqueue import WorkQueue

        self.link = link
        self.client = web_client(link.bot_token, link.api_url)
        signed = link.signing_secret if link.transport == "http" else None
        # What listeners do after their ack runs here, not on Bolt's 5 threads (an ack must
        # never wait for work); stop() drains it so answers in flight are still delivered.
        self.work = WorkQueue()
        self.app = build_app(
            self.client,
            signed,
            service=answers,
            command=command,
            working_after=WORKING_AFTER_SECONDS if working_after is None else working_after,
            renderer=renderer,
            buttons=buttons,
            work=self.work,
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

    def connected(self) -> tuple[bool, str]:
        """Whether Slack can reach the bot now: the websocket open (Socket Mode) or the
        server listening (HTTP)."""
        transport = self._transport
        if transport is None:
            return False, "not started"
        if isinstance(transport, _SocketTransport):
            ok = transport.connected()
            return ok, "socket mode connected" if ok else "socket mode disconnected"
        return True, f"listening on {self.request_url}"

    def stop(self) -> None:
        # Stop taking requests first, then let the answers already acked finish (bounded),
        # before the caller closes the warehouse and the store under them.
        if self._transport is not None:
            self._transport.stop()
            self._transport = None
        self.work.drain()


class _Transport(Protocol):
    """What both transports offer (BoltHttpServer, SocketModeConnection)."""

    def start(self) -> str | None: ...

    def serve_forever(self) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class _SocketTransport(_Transport, Protocol):
    def connected(self) -> bool: ...
