"""Socket Mode: the real SocketModeHandler connects through apps.connections.open and answers."""

from __future__ import annotations

import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from sandbox.slack.driver import SlackSandbox


def test_socket_mode_command_and_click(sb: SlackSandbox, bolt_app: App):
    @bolt_app.command("/jobs")
    def jobs(ack, command, respond):
        ack(text=f"on it: {command['text']}")
        respond(
            response_type="in_channel",
            text="alert",
            blocks=[
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
            ],
        )

    @bolt_app.action("ack")
    def on_ack(ack, body, client):
        ack()
        client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"acked by {body['user']['id']}",
            blocks=[],
        )

    # Unchanged production wiring: the handler reuses app.client, so apps.connections.open
    # (with the xapp- token) goes to the sandbox too.
    handler = SocketModeHandler(bolt_app, sb.app_token)
    handler.connect()
    try:
        assert sb.wait_for_socket()
        seen = sb.command("/jobs failing", user="U02BOB")
        assert seen.transport == "socket" and seen.status == "ok"
        assert seen.ack_message is not None and seen.ack_message.text == "on it: failing"
        assert seen.ack_message.to_user == "U02BOB"
        alert = next(m for m in seen.messages if m.text == "alert")
        clicked = sb.click(alert, "ack", user="U02BOB")
        assert clicked.transport == "socket"
        assert clicked.original is not None and clicked.original.text == "acked by U02BOB"
        envelopes = [d for d in sb.deliveries if d["transport"] == "socket"]
        assert [d["type"] for d in envelopes] == ["slash_commands", "interactive"]
        assert sb.calls_to("apps.connections.open")[0].token == sb.app_token
    finally:
        handler.close()


def test_socket_mode_late_ack_times_out(sb: SlackSandbox, bolt_app: App):
    sb.server.ack_deadline = 0.6  # Slack's 3 s, shortened so the test need not wait it out

    @bolt_app.command("/jobs")
    def jobs(ack):
        time.sleep(1.2)
        ack()

    handler = SocketModeHandler(bolt_app, sb.app_token)
    handler.connect()
    try:
        assert sb.wait_for_socket()
        seen = sb.command("/jobs slow")
        assert (seen.transport, seen.status, seen.detail) == (
            "socket",
            "timeout",
            "operation_timeout",
        )
    finally:
        handler.close()
