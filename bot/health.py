"""The health server: a tiny HTTP endpoint for container probes, Databricks Apps and Prometheus.

- `GET /healthz` — the process is alive (always 200 while it serves).
- `GET /readyz` — every readiness probe passes (200) or not (503), one line per probe.
- `GET /metrics` — `bot.metrics.Metrics` in the Prometheus text format.

Readiness is a set of named probes handed in by the composition root (Slack connected, store
reachable, each workspace polled recently), so this module knows nothing of Slack or the store.
stdlib http.server on its own threads: the bot has no web framework, and three GET routes do
not need one. Bodies never hold secrets: a probe that raises is reported by its exception type
only (the message may carry a URL), and logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bot.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """One readiness probe's answer; `detail` says why, in a few words."""

    ok: bool
    detail: str = ""


Probe = Callable[[], Verdict | bool]


def run_probes(probes: Mapping[str, Probe]) -> dict[str, Verdict]:
    """Every probe's verdict; a probe that raises has failed."""
    out: dict[str, Verdict] = {}
    for name, probe in probes.items():
        try:
            answer = probe()
        except Exception as e:
            log.warning("readiness probe %s failed", name, exc_info=True)
            answer = Verdict(False, type(e).__name__)
        out[name] = answer if isinstance(answer, Verdict) else Verdict(bool(answer))
    return out


def readiness_text(verdicts: Mapping[str, Verdict]) -> str:
    lines = []
    for name, v in verdicts.items():
        state = "ok" if v.ok else "FAIL"
        lines.append(f"{name}: {state}" + (f" ({v.detail})" if v.detail else ""))
    return "\n".join(lines) + "\n"


# --- probes the composition root can hand in -----------------------------------------------


def polls_recent(
    metrics: Metrics,
    workspace_ids: Iterable[str],
    max_age_seconds: float,
    *,
    wall_clock: Callable[[], float] = time.time,
) -> Probe:
    """Ready while every workspace had a good poll within `max_age_seconds`. Before a
    workspace's first poll the bot counts as ready for one `max_age_seconds` after this probe
    was made (start-up), so a rolling deploy does not flap."""
    ids = tuple(workspace_ids)
    since = wall_clock()

    def probe() -> Verdict:
        now = wall_clock()
        late = []
        for ws in ids:
            last = metrics.last_poll_at(ws)
            reference = since if last is None else last
            if now - reference > max_age_seconds:
                ago = "never" if last is None else f"{now - last:.0f} s ago"
                late.append(f"{ws} last polled {ago}")
        if late:
            return Verdict(False, "; ".join(late))
        return Verdict(True, f"{len(ids)} workspace(s) polled within {max_age_seconds:.0f} s")

    return probe


def slack_ready(
    connected: Callable[[], tuple[bool, str]],
    degraded: Callable[[str], bool],
    component: str,
) -> Probe:
    """Ready while Slack can reach the bot (`connected`: the websocket open, or the HTTP
    server listening) and the bot can reach Slack (its sends are not failing in a row:
    the same watch that posts "monitoring degraded: Slack")."""

    def probe() -> Verdict:
        ok, detail = connected()
        if not ok:
            return Verdict(False, detail)
        if degraded(component):
            return Verdict(False, f"{detail}; sends to Slack failing")
        return Verdict(True, detail)

    return probe


def reachable(ping: Callable[[], object]) -> Probe:
    """Ready when `ping()` returns without raising (a store query, say)."""

    def probe() -> Verdict:
        ping()
        return Verdict(True)

    return probe


# --- the server ----------------------------------------------------------------------------


class HealthServer:
    """Serves /healthz, /readyz and /metrics on its own daemon threads."""

    def __init__(
        self,
        metrics: Metrics,
        ready: Mapping[str, Probe] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.metrics = metrics
        self.ready: dict[str, Probe] = dict(ready or {})
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked for), once started."""
        if self._server is None:
            raise RuntimeError("the health server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        return f"http://{host}:{self.port}"

    def start(self) -> str:
        """Bind and serve in the background; returns the base URL. A port already in use
        fails here, at start-up, not later."""
        handler = _handler(self)
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="jobs-bot-health", daemon=True
        )
        self._thread.start()
        log.info("health server on %s (/healthz /readyz /metrics)", self.url)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _handler(owner: HealthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "jobs-bot-health"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._send(200, b"ok\n", "text/plain; charset=utf-8")
            elif path == "/readyz":
                verdicts = run_probes(owner.ready)
                status = 200 if all(v.ok for v in verdicts.values()) else 503
                body = readiness_text(verdicts) if verdicts else "ok (no probes)\n"
                self._send(status, body.encode(), "text/plain; charset=utf-8")
            elif path == "/metrics":
                self._send(200, owner.metrics.render(), CONTENT_TYPE)
            else:
                self._send(404, b"not found: try /healthz, /readyz or /metrics\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            # A probe every few seconds would bury the bot's own log lines.
            log.debug("health: " + format, *args)

    return Handler
