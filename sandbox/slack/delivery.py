"""Sending a request to the app and reading its acknowledgement.

HTTP mode: a form POST signed exactly as Slack signs it (v0 HMAC-SHA256 over
``v0:{timestamp}:{body}``), with Slack's 3-second deadline (`Settings.ack_deadline`)
enforced as a client timeout.
Socket Mode: the same payload as an envelope on the app's websocket, acked by envelope_id.
Socket Mode wins when the app holds a connection (as in Slack, where an app with Socket
Mode on receives nothing over HTTP).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from sandbox.slack.faults import Faults
    from sandbox.slack.settings import Settings
    from sandbox.slack.socket_mode import SocketHub
    from sandbox.slack.state import State

STALE_BY = 600  # a "stale" request is 10 minutes old; Bolt refuses anything past 5


def sign(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Ack:
    """How the app answered one delivery."""

    status: str  # ok | timeout | error | rejected
    http_status: int | None
    body: str
    content_type: str
    detail: str | None  # the error Slack would show the user, e.g. operation_timeout
    transport: str  # http | socket

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Deliverer:
    """Sends to the app over its socket when it holds one, else over HTTP to the request URL
    in `settings` (read at each send, so a URL or ack deadline set later takes effect)."""

    def __init__(
        self, state: State, sockets: SocketHub, faults: Faults, settings: Settings
    ) -> None:
        self.state = state
        self.sockets = sockets
        self.faults = faults
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def send(
        self, envelope_type: str, form_body: str, payload: dict[str, Any], *, retry: int = 0
    ) -> Ack:
        state = self.state
        if self.sockets.connected:
            ack = await self._send_socket(envelope_type, payload, retry)
            record = {"transport": "socket", "type": envelope_type, "payload": payload}
        elif self.settings.app_request_url:
            ack, record = await self._send_http(form_body, retry)
        else:
            ack = Ack("error", None, "", "", "dispatch_failed", "none")
            record = {"transport": "none", "type": envelope_type, "payload": payload}
        record["ack"] = ack.to_dict()
        with state.lock:
            state.deliveries.append(record)
        state.touch()
        return ack

    async def _send_http(self, body: str, retry: int) -> tuple[Ack, dict[str, Any]]:
        faults = self.faults
        url = str(self.settings.app_request_url)
        timestamp = int(time.time())
        secret = self.settings.signing_secret
        if faults.take("stale_signature"):
            timestamp -= STALE_BY
        if faults.take("forged_signature"):
            secret = "forged-" + secret
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": sign(secret, str(timestamp), body),
        }
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        record: dict[str, Any] = {"transport": "http", "url": url, "headers": headers, "body": body}
        timeout = aiohttp.ClientTimeout(total=self.settings.ack_deadline)
        try:
            async with self._http().post(
                url, data=body.encode(), headers=headers, timeout=timeout
            ) as resp:
                text = await resp.text()
                ctype = resp.headers.get("Content-Type", "")
                status = resp.status
        except TimeoutError:
            return Ack("timeout", None, "", "", "operation_timeout", "http"), record
        except aiohttp.ClientError as e:
            record["error"] = str(e)
            return Ack("error", None, "", "", "dispatch_failed", "http"), record
        if status == 200:
            return Ack("ok", status, text, ctype, None, "http"), record
        # A refused signature is Bolt's 401; Slack shows any non-200 as dispatch_failed.
        kind = "rejected" if status in (401, 403) else "error"
        return Ack(kind, status, text, ctype, "dispatch_failed", "http"), record

    async def _send_socket(self, envelope_type: str, payload: dict[str, Any], retry: int) -> Ack:
        try:
            acked = await self.sockets.deliver(
                envelope_type, payload, retry=retry, timeout=self.settings.ack_deadline
            )
        except TimeoutError:
            return Ack("timeout", None, "", "", "operation_timeout", "socket")
        except ConnectionError:
            return Ack("error", None, "", "", "dispatch_failed", "socket")
        if acked is None:
            return Ack("ok", None, "", "", None, "socket")
        return Ack("ok", None, json.dumps(acked), "application/json", None, "socket")
