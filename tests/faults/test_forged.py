"""Forged, stale and replayed requests (HTTP mode), against the real bot over HTTP: a corpus of
slash commands and button clicks signed with the wrong secret, signed too long ago or in the
future, with the signature or its headers missing or mangled, and a captured request replayed
— 100% refused (401), none handled: no warehouse query, no Slack call, no answer. A correctly
signed request in between is handled once, so the refusals are not the bot being deaf."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from bot.warehouse import open_warehouse
from tests.support.demo import Demo, demo_config
from tests.support.stack import Stack, start_stack, stop_stack


@pytest.fixture(scope="module")
def stack(demo: Demo) -> Iterator[Stack]:
    s = start_stack(open_warehouse(demo.path), demo_config(demo.story), working_after=2.0)
    try:
        yield s
    finally:
        stop_stack(s)


def _sign(secret: str, ts: str, body: str) -> str:
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def _command(stack: Stack, text: str) -> str:
    return urlencode(
        {
            "command": "/jobs",
            "text": text,
            "user_id": stack.sb.workspace.humans()[0].id,
            "user_name": "ana",
            "channel_id": "C02ALERTS",
            "channel_name": "data-alerts",
            "team_id": "T0SANDBOX",
            "response_url": stack.sb.api_url.rstrip("/") + "/hooks/forged",
            "trigger_id": "1.2.3",
            "api_app_id": "A0JOBSBOT",
        }
    )


def _click(value: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": "U01ALICE"},
        "team": {"id": "T0SANDBOX"},
        "channel": {"id": "C02ALERTS"},
        "actions": [{"action_id": "jobs_ack", "value": value, "type": "button"}],
        "response_url": "http://127.0.0.1:1/hook",
        "trigger_id": "1.2.3",
    }
    return urlencode({"payload": json.dumps(payload)})


def _post(url: str, body: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def _corpus(stack: Stack, rng: random.Random) -> list[tuple[str, str, dict[str, str]]]:
    secret = stack.sb.signing_secret
    bodies = [_command(stack, t) for t in ("failing", "cost 7d", "status nightly_sales", "")]
    bodies += [_click(v) for v in ('{"v":1,"a":"1"}', "x")]
    cases: list[tuple[str, str, dict[str, str]]] = []
    for body in bodies:
        now = int(time.time())
        ts = str(now)
        cases += [
            ("wrong secret", body, {"X-Slack-Request-Timestamp": ts,
                                    "X-Slack-Signature": _sign("not-the-secret", ts, body)}),
            ("stale", body, {"X-Slack-Request-Timestamp": str(now - 6 * 60),
                             "X-Slack-Signature": _sign(secret, str(now - 6 * 60), body)}),
            ("future", body, {"X-Slack-Request-Timestamp": str(now + 6 * 60),
                              "X-Slack-Signature": _sign(secret, str(now + 6 * 60), body)}),
            ("no signature", body, {"X-Slack-Request-Timestamp": ts}),
            ("no timestamp", body, {"X-Slack-Signature": _sign(secret, ts, body)}),
            ("v1 scheme", body, {"X-Slack-Request-Timestamp": ts,
                                 "X-Slack-Signature": _sign(secret, ts, body).replace("v0=", "v1=")}),
            ("other body", body + "&x=1", {"X-Slack-Request-Timestamp": ts,
                                           "X-Slack-Signature": _sign(secret, ts, body)}),
            ("garbage ts", body, {"X-Slack-Request-Timestamp": "1e9",
                                  "X-Slack-Signature": _sign(secret, "1e9", body)}),
            ("flipped bit", body, {"X-Slack-Request-Timestamp": ts,
                                   "X-Slack-Signature": _flip(_sign(secret, ts, body), rng)}),
        ]  # fmt: skip
    return cases


def _flip(signature: str, rng: random.Random) -> str:
    i = rng.randrange(3, len(signature))
    c = "0" if signature[i] != "0" else "1"
    return signature[:i] + c + signature[i + 1 :]


def _handled(stack: Stack) -> tuple[int, int, float]:
    """Slack calls, response_url posts and warehouse queries so far."""
    assert stack.bot.metrics is not None
    queries = sum(
        sample.value
        for metric in stack.bot.metrics.registry.collect()
        for sample in metric.samples
        if sample.name == "jobs_bot_warehouse_queries_total"
    )
    return len(stack.sb.calls), len(stack.sb.hook_posts), queries


def test_forged_stale_and_replayed_requests_are_all_refused_and_none_handled(
    stack: Stack,
) -> None:
    url = stack.bot.request_url
    assert url is not None
    rng = random.Random(3)
    before = _handled(stack)
    corpus = _corpus(stack, rng)
    statuses: dict[str, list[int]] = {why: [] for why, _, _ in corpus}
    for why, body, headers in corpus:
        statuses[why].append(_post(url, body, headers))
    time.sleep(0.5)  # anything handled would have reached the warehouse or Slack by now
    assert {why: set(s) for why, s in statuses.items()} == {why: {401} for why in statuses}
    assert _handled(stack) == before, "a refused request was handled"

    # A real signed command is handled (once); the same bytes replayed are not handled again.
    seen = stack.sb.command("/jobs help", timeout=10)
    assert seen.status == "ok"
    delivered = stack.sb.deliveries[-1]
    after_real = _handled(stack)
    for _ in range(3):
        status = _post(url, delivered["body"], delivered["headers"])
        assert status in (200, 401)
    time.sleep(0.5)
    assert _handled(stack) == after_real, "a replayed delivery was handled again"
