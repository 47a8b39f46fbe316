"""HTTP mode: serves the Bolt app's single endpoint (`POST /slack/events`) through Bolt's WSGI
adapter on a threaded stdlib server. Threads matter: Bolt acks from the request thread while the
listener keeps working, and a slow answer must not hold up the next user's command.

In front of Bolt, a guard refuses what must never reach it: bodies larger than any Slack
payload (before reading them: a forged 64 MiB POST must not cost 64 MiB), a timestamp header
that is not a number (a 401, where Bolt would fail with a 500), and a delivery Slack sends
again — a retry (`X-Slack-Retry-Num`) or a replay carries the very same body, whose
`trigger_id` makes it unique — which is answered 200 and not handled twice.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)

# Slack's largest payloads (a block_actions with its 50-block message and state) stay far
# below this; anything bigger is not from Slack.
MAX_BODY_BYTES = 1 << 20
# Slack refuses to sign requests older than 5 minutes, so a body seen within that long is the
# same delivery again.
DEDUPE_SECONDS = 300.0
_DEDUPE_MAX = 10_000

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # The stdlib's backlog of 5 resets connections when 20 people type at once.
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class SlackGuard:
    """A WSGI layer in front of Bolt: size limit, timestamp sanity, one answer per delivery."""

    def __init__(self, inner: Wsgi, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._inner = inner
        self._now = monotonic
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self._inner(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            log.warning(
                "refused a %s-byte request before reading it", environ.get("CONTENT_LENGTH")
            )
            return _answer(start_response, "413 Payload Too Large", b"too large")
        stamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
        if not stamp.isdigit():
            log.warning("refused a request whose timestamp header is not a number")
            return _answer(start_response, "401 Unauthorized", b"invalid request")
        body = environ["wsgi.input"].read(length) if length else b""
        key = hashlib.sha256(body).hexdigest()
        if not self._claim(key):
            log.info(
                "ignored a delivery Slack sent again (retry %s)",
                environ.get("HTTP_X_SLACK_RETRY_NUM", "-"),
            )
            return _answer(start_response, "200 OK", b"")
        environ = {**environ, "wsgi.input": io.BytesIO(body)}
        status: list[str] = []

        def recording(code: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *rest)

        try:
            result = list(self._inner(environ, recording))
        finally:
            # Only an answered delivery counts as seen: a refused (forged, stale) one must not
            # keep the real one out.
            self._settle(key, bool(status) and status[0].startswith("200"))
        return result

    def _claim(self, key: str) -> bool:
        now = self._now()
        with self._lock:
            while self._seen and (
                len(self._seen) > _DEDUPE_MAX
                or now - next(iter(self._seen.values())) > DEDUPE_SECONDS
            ):
                self._seen.popitem(last=False)
            if key in self._seen or key in self._in_flight:
                return False
            self._in_flight.add(key)
            return True

    def _settle(self, key: str, answered: bool) -> None:
        with self._lock:
            self._in_flight.discard(key)
            if answered:
                self._seen[key] = self._now()


def _answer(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class BoltHttpServer:
    """The Bolt app over HTTP on ``host:port`` (port 0 picks a free one) in a background thread."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_server(
            host,
            port,
            SlackGuard(SlackRequestHandler(app)),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="bolt-http", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}/slack/events"

    def start(self) -> str:
        self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> BoltHttpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
