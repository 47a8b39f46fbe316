"""Message metadata in the sandbox, through the real WebClient: stored on post and update,
checked for shape as Slack checks it, and handed back only with include_all_metadata."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest
from slack_sdk.errors import SlackApiError

from sandbox.slack.driver import SlackSandbox

META = {"event_type": "jobs_bot_alert", "event_payload": {"outbox_id": 7, "dedupe_key": "a:1"}}


def error_of(call, **kwargs) -> str:
    with pytest.raises(SlackApiError) as e:
        call(**kwargs)
    return e.value.response["error"]


def test_history_returns_metadata_only_when_asked(sb: SlackSandbox):
    c = sb.client()
    ts = c.chat_postMessage(channel="C02ALERTS", text="alert", metadata=META)["ts"]
    c.chat_postMessage(channel="C02ALERTS", text="no metadata")
    plain = c.conversations_history(channel="C02ALERTS")["messages"]
    assert all("metadata" not in m for m in plain)
    full = c.conversations_history(channel="C02ALERTS", include_all_metadata=True)["messages"]
    by_ts = {m["ts"]: m for m in full}
    assert by_ts[ts]["metadata"] == META
    assert [m for m in full if m["ts"] != ts][0].get("metadata") is None


def test_thread_replies_carry_metadata_in_conversations_replies(sb: SlackSandbox):
    c = sb.client()
    root = c.chat_postMessage(channel="C02ALERTS", text="alert")["ts"]
    reply_meta = {"event_type": "jobs_bot_alert", "event_payload": {"outbox_id": 8}}
    reply = c.chat_postMessage(
        channel="C02ALERTS", text="again", thread_ts=root, metadata=reply_meta
    )["ts"]
    without = c.conversations_replies(channel="C02ALERTS", ts=root)["messages"]
    assert all("metadata" not in m for m in without)
    thread = c.conversations_replies(channel="C02ALERTS", ts=root, include_all_metadata=True)
    assert {m["ts"]: m.get("metadata") for m in thread["messages"]} == {
        root: None,
        reply: reply_meta,
    }


def test_update_keeps_metadata_unless_given(sb: SlackSandbox):
    c = sb.client()
    ts = c.chat_postMessage(channel="C02ALERTS", text="alert", metadata=META)["ts"]
    c.chat_update(channel="C02ALERTS", ts=ts, text="acknowledged")
    history = c.conversations_history(channel="C02ALERTS", include_all_metadata=True)
    assert history["messages"][0]["metadata"] == META
    newer = {"event_type": "jobs_bot_alert", "event_payload": {"outbox_id": 9}}
    c.chat_update(channel="C02ALERTS", ts=ts, text="resolved", metadata=newer)
    history = c.conversations_history(channel="C02ALERTS", include_all_metadata=True)
    assert history["messages"][0]["metadata"] == newer


def test_metadata_shape_is_checked(sb: SlackSandbox):
    c = sb.client()
    post = c.chat_postMessage
    assert error_of(post, channel="C02ALERTS", text="x", metadata=["no"]) == (
        "invalid_metadata_format"
    )
    assert error_of(post, channel="C02ALERTS", text="x", metadata={"event_payload": {}}) == (
        "invalid_metadata_schema"
    )
    assert error_of(
        post, channel="C02ALERTS", text="x", metadata={"event_type": 3, "event_payload": {}}
    ) == ("invalid_metadata_schema")
    assert error_of(
        post, channel="C02ALERTS", text="x", metadata={"event_type": "t", "event_payload": "s"}
    ) == ("invalid_metadata_schema")
    assert sb.messages("C02ALERTS") == []  # nothing was posted by the refused calls


def test_form_clients_send_metadata_as_a_json_string(sb: SlackSandbox):
    def form_post(**fields: str) -> dict:
        body = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(
            sb.api_url + "chat.postMessage",
            data=body,
            headers={"Authorization": f"Bearer {sb.bot_token}"},
        )
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read())

    ok = form_post(channel="C02ALERTS", text="form", metadata=json.dumps(META))
    assert ok["ok"]
    assert form_post(channel="C02ALERTS", text="bad", metadata="{not json")["error"] == (
        "invalid_metadata_format"
    )
    history = sb.client().conversations_history(channel="C02ALERTS", include_all_metadata=True)
    assert history["messages"][0]["metadata"] == META
