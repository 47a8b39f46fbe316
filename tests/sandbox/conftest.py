"""Fixtures: a running sandbox on a free loopback port, and a real Bolt app served over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from slack_bolt import App

from bot.slack.http_server import BoltHttpServer
from sandbox.slack.driver import SlackSandbox


@pytest.fixture
def sb() -> Iterator[SlackSandbox]:
    with SlackSandbox(signing_secret="test-signing-secret") as sandbox:
        yield sandbox


@pytest.fixture
def serve(sb: SlackSandbox) -> Iterator[Callable[[App], str]]:
    """Serve a Bolt app over real HTTP on loopback and point the sandbox at it."""
    servers: list[BoltHttpServer] = []

    def start(app: App) -> str:
        server = BoltHttpServer(app)
        servers.append(server)
        sb.app_request_url = server.start()
        return sb.app_request_url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def bolt_app(sb: SlackSandbox) -> App:
    """A real Bolt App wired exactly as production wires it: WebClient(base_url=sandbox)."""
    return App(client=sb.client(), signing_secret=sb.signing_secret)
