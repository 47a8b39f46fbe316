"""The JSON + SSE API the sandbox page uses, driven over real HTTP."""

from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

import pytest
from slack_bolt import App

from sandbox.slack.driver import SlackSandbox

ALERT_BLOCKS = [
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "ack",
                "text": {"type": "plain_text", "text": "Ack"},
                "value": "a1",
            }
        ],
    }
]


def get(sb: SlackSandbox, path: str) -> Any:
    with urllib.request.urlopen(sb.base_url + path, timeout=10) as resp:
        return json.loads(resp.read())


def post(sb: SlackSandbox, path: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(
        sb.base_url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


class Stream:
    """Reads one SSE stream on a thread, queueing (event, data) pairs."""

    def __init__(self, sb: SlackSandbox, user: str) -> None:
        url = urlparse(sb.base_url)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        self.conn.request("GET", f"/sandbox/api/stream?user={user}")
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        assert self.resp.getheader("Content-Type").startswith("text/event-stream")
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event = None
        try:
            for raw in self.resp:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    self.events.put((event, json.loads(line[6:])))
        except (OSError, ValueError, AttributeError):
            pass  # the test closed the stream (http.client raises AttributeError mid-chunk)

    def next(self, event: str, timeout: float = 5.0) -> Any:
        while True:
            name, data = self.events.get(timeout=timeout)
            if name == event:
                return data

    def collect(self, wanted: dict[str, int], timeout: float = 5.0) -> dict[str, list[Any]]:
        """The first `wanted[name]` events of each name, whatever order they arrive in."""
        got: dict[str, list[Any]] = {name: [] for name in wanted}
        while any(len(got[n]) < k for n, k in wanted.items()):
            name, data = self.events.get(timeout=timeout)
            if name in got and len(got[name]) < wanted[name]:
                got[name].append(data)
        return got

    def drain(self) -> list[tuple[str, Any]]:
        out = []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out

    def close(self) -> None:
        # Shut the socket first: a plain close() waits for the reader thread's blocked read.
        self.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()


def test_state_lists_the_workspace(sb: SlackSandbox):
    state = get(sb, "/sandbox/api/state")
    assert set(state) == {"team", "bot", "users", "channels", "usergroups"}
    assert state["team"] == {"id": "T0SANDBOX", "name": "Sandbox Data Co", "domain": "sandbox-data"}
    assert set(state["bot"]) == {"user_id", "bot_id", "name"}
    alice = state["users"][0]
    assert set(alice) == {"id", "name", "real_name", "display_name", "email", "is_bot"}
    assert alice["id"] == "U01ALICE" and not alice["is_bot"]
    chans = {c["name"]: c for c in state["channels"]}
    assert chans["old-alerts"]["is_archived"] and chans["platform-oncall"]["is_private"]
    assert chans["random"]["is_member"] is False and chans["data-alerts"]["is_member"] is True
    assert state["usergroups"][0] == {
        "id": "S01ONCALL",
        "handle": "data-oncall",
        "users": ["U01ALICE", "U02BOB"],
    }


def test_plain_text_unknown_commands_and_threads(sb: SlackSandbox):
    said = post(
        sb, "/sandbox/api/command", {"user": "U02BOB", "channel": "C01GENERAL", "text": "hi"}
    )
    assert said["ok"]
    assert post(
        sb, "/sandbox/api/command", {"user": "U02BOB", "channel": "C01GENERAL", "text": "/deploy x"}
    ) == {"ok": False, "error": "unknown_command"}
    parent = sb.client().chat_postMessage(channel="C01GENERAL", text="parent")["ts"]
    sb.client().chat_postMessage(channel="C01GENERAL", text="reply", thread_ts=parent)
    msgs = get(sb, "/sandbox/api/messages?channel=C01GENERAL&user=U02BOB")["messages"]
    assert [m["text"] for m in msgs] == ["hi", "parent"]
    assert msgs[0]["user"] == "U02BOB" and msgs[0]["username"] == "bob.o"
    assert msgs[1]["reply_count"] == 1 and msgs[1]["bot_id"] == "B0JOBSBOT"
    assert set(msgs[1]) == {
        "id", "ts", "channel", "user", "bot_id", "username", "text", "blocks",
        "thread_ts", "reply_count", "ephemeral", "edited", "deleted",
    }  # fmt: skip
    thread = get(sb, f"/sandbox/api/replies?channel=C01GENERAL&ts={parent}&user=U02BOB")
    assert [m["text"] for m in thread["messages"]] == ["parent", "reply"]


def test_command_click_and_live_stream(sb: SlackSandbox, serve):
    app = App(client=sb.client(), signing_secret=sb.signing_secret)

    @app.command("/jobs")
    def jobs(ack, respond):
        ack("working on it")
        respond(response_type="in_channel", text="alert", blocks=ALERT_BLOCKS)

    @app.action("ack")
    def on_ack(ack, respond, body):
        ack()
        respond(replace_original=True, text=f"acked by {body['user']['id']}")

    serve(app)
    alice, bob = Stream(sb, "U01ALICE"), Stream(sb, "U02BOB")
    try:
        out = post(
            sb,
            "/sandbox/api/command",
            {"user": "U01ALICE", "channel": "C02ALERTS", "text": "/jobs"},
        )
        assert out["ok"] and out["status"] == "ok" and out["http_status"] == 200
        assert out["ack_body"] == "working on it" and out["request_id"]
        # The ack's ephemeral and the app's respond() race, as in Slack: take both, any order.
        got = alice.collect({"message": 2, "command_result": 1})
        first, second = got["message"]
        eph, alert = (first, second) if first["ephemeral"] else (second, first)
        assert eph["ephemeral"] and eph["text"] == "working on it" and eph["id"].startswith("eph-")
        assert alert["text"] == "alert" and not alert["ephemeral"]
        assert got["command_result"] == [
            {"request_id": out["request_id"], "status": "ok", "http_status": 200, "detail": None}
        ]
        assert bob.next("message")["text"] == "alert"  # bob sees the channel message...
        assert all(not d.get("ephemeral") for _, d in bob.drain())  # ...but not alice's ephemeral

        block_id = alert["blocks"][0]["block_id"]
        click = {
            "user": "U02BOB",
            "channel": "C02ALERTS",
            "message_id": alert["id"],
            "action_id": "ack",
            "block_id": block_id,
        }
        clicked = post(sb, "/sandbox/api/click", click)
        assert clicked["ok"] and clicked["status"] == "ok"
        changed = bob.next("message_changed")
        assert changed["id"] == alert["id"] and changed["text"] == "acked by U02BOB"
        missing = dict(click, action_id="nope")
        assert post(sb, "/sandbox/api/click", missing) == {"ok": False, "error": "action_not_found"}
        msgs = get(sb, "/sandbox/api/messages?channel=C02ALERTS&user=U01ALICE")["messages"]
        assert sorted(m["text"] for m in msgs) == ["acked by U02BOB", "working on it"]
        assert (
            get(sb, "/sandbox/api/messages?channel=C02ALERTS&user=U02BOB")["messages"][0]["text"]
            == "acked by U02BOB"
        )
    finally:
        alice.close()
        bob.close()


def test_timeout_reaches_the_stream_as_command_result(sb: SlackSandbox):
    stream = Stream(sb, "U01ALICE")
    try:
        out = post(
            sb,
            "/sandbox/api/command",
            {"user": "U01ALICE", "channel": "C02ALERTS", "text": "/jobs"},
        )
        assert out["status"] == "error"  # no app at all
        assert stream.next("command_result")["detail"] == "dispatch_failed"
    finally:
        stream.close()


def test_faults_endpoint(sb: SlackSandbox):
    added = post(
        sb, "/sandbox/api/faults", {"kind": "ratelimit", "method": "auth.test", "retry_after": 2}
    )
    assert added["faults"][0]["kind"] == "ratelimit"
    with pytest.raises(urllib.error.HTTPError) as e:
        req = urllib.request.Request(
            sb.api_url + "auth.test",
            data=b"",
            headers={"Authorization": f"Bearer {sb.bot_token}"},
        )
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 429 and e.value.headers["Retry-After"] == "2"
    req = urllib.request.Request(sb.base_url + "/sandbox/api/faults", method="DELETE")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read())["faults"] == []
    with pytest.raises(urllib.error.HTTPError) as bad:
        post(sb, "/sandbox/api/faults", {"kind": "meteor"})
    assert bad.value.code == 400


def test_page_and_static_files(sb: SlackSandbox):
    with urllib.request.urlopen(sb.base_url + "/", timeout=5) as resp:
        assert resp.headers["Content-Type"].startswith("text/html")
        assert b"<" in resp.read()
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(sb.base_url + "/static/..%2F..%2Fserver.py", timeout=5)
    assert e.value.code == 404
