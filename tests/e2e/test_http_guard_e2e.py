"""The HTTP endpoint's guard, against the real bot over real sockets: a delivery Slack sends
again is answered once, a timestamp header that is not a number is a 401 (not a 500 with a
traceback), an oversized body is refused before it is read, and 40 connections at once are
all served (the stdlib's backlog of 5 used to reset them)."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

from tests.support.ask import ask
from tests.support.stack import Stack


def _raw(url: str, request: bytes, *, timeout: float = 5.0) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                data = s.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def test_a_redelivered_command_is_answered_once(stack: Stack) -> None:
    sb = stack.sb
    sb.faults.add("redeliver", times=1)
    seen = sb.command("/jobs help", user="U04DAVE")
    assert seen.redelivery is not None and seen.redelivery["status"] == "ok"
    time.sleep(0.5)  # let a second answer, if any, arrive
    answers = [m for m in sb.ephemerals("U04DAVE", "C02ALERTS") if "/jobs" in m.text]
    assert len(answers) == 1, [m.text[:60] for m in answers]
    assert ask(sb, "help", user="U04DAVE").text  # a new delivery is still answered


def test_a_timestamp_that_is_not_a_number_is_a_401(stack: Stack) -> None:
    body = b"command=%2Fjobs&text=help"
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        f"\r\nX-Slack-Request-Timestamp: abc\r\nX-Slack-Signature: v0=00\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = _raw(stack.sb.app_request_url or "", head + body)
    assert answer.startswith(b"HTTP/1.0 401") or answer.startswith(b"HTTP/1.1 401")
    assert b"Traceback" not in answer


def test_an_oversized_body_is_refused_before_it_is_read(stack: Stack) -> None:
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slack-Request-Timestamp: 1\r\n"
        f"Content-Length: {64 << 20}\r\nConnection: close\r\n\r\n"
    ).encode()
    started = time.monotonic()
    answer = _raw(stack.sb.app_request_url or "", head + b"x" * 1000, timeout=5)
    assert b" 413 " in answer.split(b"\r\n")[0]
    assert time.monotonic() - started < 4  # answered without waiting for 64 MiB


def test_forty_connections_at_once_are_all_served(stack: Stack) -> None:
    url = stack.sb.app_request_url or ""
    request = b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    results: list[bytes | Exception] = []
    barrier = threading.Barrier(40)

    def one() -> None:
        barrier.wait()
        try:
            results.append(_raw(url, request))
        except OSError as e:
            results.append(e)

    threads = [threading.Thread(target=one) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors and len(results) == 40
    assert all(r.startswith(b"HTTP/") for r in results if isinstance(r, bytes))
