"""The sandbox's settings that may change while it runs.

Where the app listens for requests, the secret they are signed with, how long Slack waits
for an ack, and the sandbox's own address (its port is known only once it is bound).
SandboxServer builds one `Settings` and hands the same object to every part that reads it,
so a change made through the server (a test or the driver setting `app_request_url` or
`ack_deadline`) takes effect at the next read.
"""

from __future__ import annotations

from dataclasses import dataclass

ACK_DEADLINE = 3.0  # seconds Slack waits for the app's acknowledgement


@dataclass
class Settings:
    signing_secret: str
    verification_token: str  # the legacy `token` field of payloads; unused for auth
    app_request_url: str | None = None
    # Slack waits 3 s for an ack; tests of a late ack shorten it so they need not sleep 3 s.
    ack_deadline: float = ACK_DEADLINE
    host: str = "127.0.0.1"
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_base_url(self) -> str:
        return f"ws://{self.host}:{self.port}"
