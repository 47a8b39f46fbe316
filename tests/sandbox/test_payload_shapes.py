"""What the sandbox sends the app, checked against reference/slack.md §1.1, §2.1 and §3.1.

The expected key sets are written out here from the reference, so a drift on either side
shows up as a failing test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, unquote

from slack_bolt import App
from slack_sdk.signature import SignatureVerifier

from sandbox.slack.driver import SlackSandbox

# §1.1 slash command form fields (enterprise_* only on Enterprise Grid, so not sent).
COMMAND_FIELDS = {
    "token",
    "team_id",
    "team_domain",
    "channel_id",
    "channel_name",
    "user_id",
    "user_name",
    "command",
    "text",
    "api_app_id",
    "is_enterprise_install",
    "response_url",
    "trigger_id",
}
# §2.1 block_actions payload for a message container.
BLOCK_ACTIONS_KEYS = {
    "type",
    "user",
    "api_app_id",
    "token",
    "container",
    "trigger_id",
    "team",
    "enterprise",
    "is_enterprise_install",
    "channel",
    "message",
    "state",
    "response_url",
    "actions",
}
USER_KEYS = {"id", "username", "name", "team_id"}
CONTAINER_KEYS = {"type", "message_ts", "channel_id", "is_ephemeral"}
MESSAGE_KEYS = {"type", "ts", "text", "user", "bot_id", "app_id", "team", "blocks"}
BUTTON_ACTION_KEYS = {"action_id", "block_id", "type", "text", "value", "style", "action_ts"}


def _record_app(sb: SlackSandbox, serve) -> None:
    app = App(client=sb.client(), signing_secret=sb.signing_secret)

    @app.command("/jobs")
    def jobs(ack, respond):
        ack()
        respond(
            response_type="in_channel",
            text="alert",
            blocks=[
                {
                    "type": "actions",
                    "block_id": "alert_actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "ack",
                            "text": {"type": "plain_text", "text": "Acknowledge"},
                            "style": "danger",
                            "value": "v1",
                            "confirm": {
                                "title": {"type": "plain_text", "text": "Sure?"},
                                "text": {"type": "mrkdwn", "text": "Really"},
                                "confirm": {"type": "plain_text", "text": "Yes"},
                                "deny": {"type": "plain_text", "text": "No"},
                            },
                        }
                    ],
                }
            ],
        )

    @app.action("ack")
    def on_ack(ack):
        ack()

    serve(app)


def test_slash_command_request_shape_and_signature(sb: SlackSandbox, serve):
    _record_app(sb, serve)
    sb.command("/jobs failing 24h", user="U02BOB", channel="C02ALERTS")
    sent = sb.deliveries[0]
    headers, body = sent["headers"], sent["body"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "command=%2Fjobs" in body and "text=failing+24h" in body  # form-encoded
    fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    assert set(fields) == COMMAND_FIELDS
    assert fields["command"] == "/jobs" and fields["text"] == "failing 24h"
    assert fields["user_id"] == "U02BOB" and fields["channel_name"] == "data-alerts"
    assert fields["is_enterprise_install"] == "false"
    assert fields["response_url"].startswith(sb.base_url + "/hooks/commands/T0SANDBOX/")
    # §3.1: v0 HMAC-SHA256 over "v0:{ts}:{body}", hex, fresh timestamp.
    ts = headers["X-Slack-Request-Timestamp"]
    assert abs(int(ts) - time.time()) < 30
    expected = hmac.new(
        b"test-signing-secret", f"v0:{ts}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    assert headers["X-Slack-Signature"] == "v0=" + expected
    assert SignatureVerifier("test-signing-secret").is_valid(body, ts, headers["X-Slack-Signature"])


def test_block_actions_payload_shape(sb: SlackSandbox, serve):
    _record_app(sb, serve)
    seen = sb.command("/jobs failing")
    alert = seen.messages[0]
    sb.click(alert, "ack", user="U03CAROL", timeout=0.5)  # the app only acks
    sent = sb.deliveries[-1]
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent["body"].startswith("payload=") and "&" not in sent["body"]
    payload = json.loads(unquote(sent["body"][len("payload=") :]))
    assert set(payload) == BLOCK_ACTIONS_KEYS
    assert payload["type"] == "block_actions"
    assert set(payload["user"]) == USER_KEYS and payload["user"]["id"] == "U03CAROL"
    assert set(payload["container"]) == CONTAINER_KEYS
    assert payload["container"] == {
        "type": "message",
        "message_ts": alert.ts,
        "channel_id": "C02ALERTS",
        "is_ephemeral": False,
    }
    assert {"id", "domain"} <= set(payload["team"])
    assert payload["channel"] == {"id": "C02ALERTS", "name": "data-alerts"}
    assert set(payload["message"]) >= MESSAGE_KEYS
    assert payload["message"]["blocks"][0]["elements"][0]["confirm"]["title"]["text"] == "Sure?"
    (action,) = payload["actions"]
    assert set(action) == BUTTON_ACTION_KEYS
    assert action["block_id"] == "alert_actions" and action["style"] == "danger"
    assert action["text"] == {"type": "plain_text", "text": "Acknowledge"}
    assert payload["state"] == {"values": {}}
    assert payload["response_url"].startswith(sb.base_url + "/hooks/actions/")
    trigger_ids = {payload["trigger_id"]}
    first = parse_qs(sb.deliveries[0]["body"])["trigger_id"][0]
    assert first not in trigger_ids  # a fresh trigger_id per interaction


def test_response_url_answers_ok_as_text(sb: SlackSandbox, serve):
    _record_app(sb, serve)
    seen = sb.command("/jobs failing")
    (post,) = seen.responses
    assert post["content_type"].startswith("application/json") and post["status"] == 200
    assert post["answer"] == "ok" and json.loads(post["body"])["response_type"] == "in_channel"


def _texts_received(sb: SlackSandbox, serve, typed: list[str]) -> list[str]:
    app = App(client=sb.client(), signing_secret=sb.signing_secret)
    got: list[str] = []

    @app.command("/jobs")
    def jobs(ack, command):
        got.append(command["text"])
        ack()

    serve(app)
    for text in typed:
        assert sb.command(f"/jobs {text}", expect_answer=False).status == "ok"
    return got


def test_command_text_arrives_escaped_like_slack_sends_it(sb: SlackSandbox, serve):
    got = _texts_received(sb, serve, ["status partner <acme & co>", "status @alice #data-alerts"])
    assert got == ["status partner &lt;acme &amp; co&gt;", "status @alice #data-alerts"]


def test_should_escape_turns_known_mentions_into_control_sequences(sb: SlackSandbox, serve):
    sb.workspace.should_escape = True
    got = _texts_received(sb, serve, ["status @alice in #data-alerts for @nobody"])
    alice = next(u for u in sb.workspace.users if u.name == "alice")
    channel = sb.workspace.channel_by_name("data-alerts")
    assert got == [f"status <@{alice.id}|alice> in <#{channel.id}|data-alerts> for @nobody"]
