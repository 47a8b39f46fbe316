"""Socket Mode: the bot opens a websocket to Slack (no public URL needed) and receives
commands and clicks over it; Bolt's built-in handler does the protocol."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler


class SocketModeConnection:
    """The Bolt app over a Socket Mode connection opened with the app-level token."""

    def __init__(self, app: App, app_token: str) -> None:
        self._handler = SocketModeHandler(app, app_token)

    # Bolt's handler methods carry no annotations, hence the ignores.
    def start(self) -> str | None:
        self._handler.connect()  # type: ignore[no-untyped-call]
        return None

    def serve_forever(self) -> None:
        self._handler.start()  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        self._handler.close()  # type: ignore[no-untyped-call]

    def connected(self) -> bool:
        """The websocket is open (the SDK reconnects by itself after a drop)."""
        return bool(self._handler.client.is_connected())
