"""A real Bolt app in HTTP mode, served on loopback, receiving commands and clicks."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs

import pytest
from slack_bolt import App

from sandbox.slack.driver import InteractionError, SlackSandbox

BUTTONS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*nightly_etl* failed"}},
    {
        "type": "actions",
        "block_id": "alert_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "ack",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "style": "primary",
                "value": "alert-1",
            },
            {
                "type": "button",
                "action_id": "drop",
                "text": {"type": "plain_text", "text": "Dismiss"},
                "value": "alert-1",
            },
            {
                "type": "overflow",
                "action_id": "more",
                "options": [
                    {"text": {"type": "plain_text", "text": "Snooze 1h"}, "value": "1h"},
                    {"text": {"type": "plain_text", "text": "Snooze 1d"}, "value": "1d"},
                ],
            },
        ],
    },
]


def test_command_ack_text_is_shown_only_to_the_invoker(sb: SlackSandbox, bolt_app: App, serve):
    @bolt_app.command("/jobs")
    def jobs(ack, command):
        ack(f"you typed {command['text']}")

    serve(bolt_app)
    seen = sb.command("/jobs failing 24h", user="U02BOB", channel="C02ALERTS")
    assert seen.status == "ok" and seen.http_status == 200
    assert seen.content_type.startswith("text/plain") and seen.ack_body == "you typed failing 24h"
    assert seen.texts == ["you typed failing 24h"]
    assert seen.ack_message is not None and seen.ack_message.ephemeral
    assert [m.text for m in sb.ephemerals("U02BOB")] == ["you typed failing 24h"]
    assert sb.ephemerals("U01ALICE") == [] and sb.messages("C02ALERTS") == []


def test_json_ack_in_channel_is_posted_for_everyone(sb: SlackSandbox, bolt_app: App, serve):
    @bolt_app.command("/jobs")
    def jobs(ack):
        ack(response_type="in_channel", text="status", blocks=BUTTONS[:1])

    serve(bolt_app)
    seen = sb.command("/jobs status")
    assert seen.content_type.startswith("application/json")
    assert [m.text for m in sb.messages("C02ALERTS")] == ["status"]
    assert sb.messages("C02ALERTS")[0].blocks[0]["text"]["text"] == "*nightly_etl* failed"


def test_respond_after_ack_and_button_click_replace_original(
    sb: SlackSandbox, bolt_app: App, serve
):
    @bolt_app.command("/jobs")
    def jobs(ack, respond):
        ack()
        respond(response_type="in_channel", text="nightly_etl failed", blocks=BUTTONS)

    clicks = []

    @bolt_app.action("ack")
    def on_ack(ack, body, respond):
        ack()
        clicks.append(body)
        respond(replace_original=True, text=f"Acknowledged by <@{body['user']['id']}>")

    serve(bolt_app)
    seen = sb.command("/jobs failing")
    assert seen.ack_body == "" and [m.text for m in seen.messages] == ["nightly_etl failed"]
    assert seen.responses[0]["content_type"].startswith("application/json")
    alert = seen.messages[0]

    clicked = sb.click(alert, "ack", user="U03CAROL")
    assert clicked.status == "ok"
    assert clicked.original is not None and clicked.original.text == "Acknowledged by <@U03CAROL>"
    assert clicked.original.blocks == []  # replace_original replaces the whole message
    assert [m.text for m in sb.messages("C02ALERTS")] == ["Acknowledged by <@U03CAROL>"]
    body = clicks[0]
    assert body["actions"][0]["value"] == "alert-1" and body["actions"][0]["style"] == "primary"
    assert body["container"]["message_ts"] == alert.ts


def test_delete_original_and_select_option(sb: SlackSandbox, bolt_app: App, serve):
    chosen = []

    @bolt_app.action("drop")
    def on_drop(ack, respond):
        ack()
        respond(delete_original=True)

    @bolt_app.action("more")
    def on_more(ack, action, respond):
        ack()
        chosen.append(action["selected_option"])
        respond(text=f"snoozed {action['selected_option']['value']}")

    serve(bolt_app)
    alert = sb.client().chat_postMessage(channel="C02ALERTS", text="alert", blocks=BUTTONS)
    msg = sb.messages("C02ALERTS")[0]
    assert msg.ts == alert["ts"]
    snoozed = sb.click(msg, "more", value="1d", user="U01ALICE")
    assert chosen[0]["value"] == "1d" and chosen[0]["text"]["text"] == "Snooze 1d"
    assert snoozed.texts == ["snoozed 1d"] and snoozed.ephemerals[0].to_user == "U01ALICE"
    gone = sb.click(msg, "drop")
    assert gone.original is None and sb.messages("C02ALERTS") == []


def test_chat_update_from_a_click_and_ephemeral_buttons(sb: SlackSandbox, bolt_app: App, serve):
    @bolt_app.command("/jobs")
    def jobs(ack, respond):
        ack()
        respond(text="private alert", blocks=BUTTONS)  # ephemeral by default

    @bolt_app.action("ack")
    def on_ack(ack, body, respond):
        ack()
        # Ephemeral containers carry no `message` copy; respond() can still replace them.
        assert "message" not in body and body["container"]["is_ephemeral"] is True
        respond(replace_original=True, text="acked privately")

    serve(bolt_app)
    seen = sb.command("/jobs failing", user="U01ALICE")
    eph = seen.ephemerals[0]
    assert eph.id.startswith("eph-")
    # Another person cannot click someone else's ephemeral.
    with pytest.raises(InteractionError) as e:
        sb.click(eph, "ack", user="U02BOB")
    assert e.value.code == "action_not_found"
    sb.click(eph, "ack", user="U01ALICE")
    assert [m.text for m in sb.ephemerals("U01ALICE")] == ["acked privately"]


def test_forged_and_stale_signatures_get_401(sb: SlackSandbox, bolt_app: App, serve):
    handled = []

    @bolt_app.command("/jobs")
    def jobs(ack):
        handled.append(1)
        ack("hi")

    serve(bolt_app)
    sb.faults.add("forged_signature", times=1)
    forged = sb.command("/jobs")
    assert (forged.status, forged.http_status) == ("rejected", 401)
    assert forged.texts == [] and forged.error_text == 'failed with the error "dispatch_failed"'
    sb.faults.add("stale_signature", times=1)
    stale = sb.command("/jobs")
    assert (stale.status, stale.http_status) == ("rejected", 401)
    assert handled == []
    assert sb.command("/jobs").status == "ok" and handled == [1]


def test_a_late_ack_shows_the_timeout(sb: SlackSandbox, bolt_app: App, serve):
    # Slack's deadline is 3 s; shortened here so the test need not wait it out.
    sb.server.ack_deadline = 0.6

    @bolt_app.command("/jobs")
    def jobs(ack):
        time.sleep(1.2)
        ack("too late")

    serve(bolt_app)
    started = time.monotonic()
    seen = sb.command("/jobs slow")
    assert seen.status == "timeout" and seen.detail == "operation_timeout"
    assert seen.error_text == 'failed with the error "operation_timeout"'
    assert 0.55 <= time.monotonic() - started < 1.15
    time.sleep(1.0)  # the app's late answer must not reach the person
    assert sb.ephemerals("U01ALICE") == []


def test_response_url_allows_five_uses_within_thirty_minutes(
    sb: SlackSandbox, bolt_app: App, serve
):
    respond_statuses: list = []

    @bolt_app.command("/jobs")
    def jobs(ack, command, respond):
        ack()
        if command["text"] == "many":
            for i in range(6):
                r = respond(text=f"part {i}")
                respond_statuses.append((r.status_code, r.body))

    serve(bolt_app)
    assert sb.command("/jobs many").status == "ok"
    assert sb.wait_until(lambda: len(respond_statuses) == 6)
    assert respond_statuses == [(200, "ok")] * 5 + [(404, "used_url")]
    assert [m.text for m in sb.ephemerals("U01ALICE")] == [f"part {i}" for i in range(5)]

    sb.command("/jobs quiet", timeout=0.5)
    hook = parse_qs(sb.deliveries[-1]["body"])["response_url"][0]
    sb.advance(31 * 60)
    req = urllib.request.Request(
        hook,
        data=json.dumps({"text": "late"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 404 and e.value.read().decode() == "expired_url"


def test_redelivery_sends_the_same_body_again(sb: SlackSandbox, bolt_app: App, serve):
    seen_headers = []

    @bolt_app.command("/jobs")
    def jobs(ack, request):
        seen_headers.append(request.headers.get("x-slack-retry-num"))
        ack()

    serve(bolt_app)
    sb.faults.add("redeliver", times=1)
    seen = sb.command("/jobs failing", timeout=0.5)  # the app shows nothing; do not wait long
    assert seen.redelivery is not None and seen.redelivery["status"] == "ok"
    first, second = sb.deliveries[-2:]
    assert first["body"] == second["body"]
    assert second["headers"]["X-Slack-Retry-Num"] == "1"
    # The bot's HTTP server (bot.slack.http_server) answers the repeat without handing it to
    # the app again: one delivery, one handling.
    assert seen_headers == [None]


def test_no_app_and_unreachable_app(sb: SlackSandbox):
    assert sb.command("/jobs").detail == "dispatch_failed"
    sb.app_request_url = "http://127.0.0.1:9/slack/events"
    seen = sb.command("/jobs")
    assert seen.status == "error" and seen.detail == "dispatch_failed"
