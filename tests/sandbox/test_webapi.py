"""The real slack_sdk.WebClient against the sandbox's Web API: every method, success and errors."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from sandbox.slack.driver import SlackSandbox
from sandbox.slack.workspace import default_workspace

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Job failed*"}}


def error_of(call, **kwargs) -> str:
    with pytest.raises(SlackApiError) as e:
        call(**kwargs)
    return e.value.response["error"]


def test_auth_test_reports_identity_and_scopes(sb: SlackSandbox):
    r = sb.client().auth_test()
    assert r["user_id"] == sb.workspace.bot.user_id and r["team_id"] == sb.workspace.team_id
    assert "chat:write" in r.headers["x-oauth-scopes"].split(",")


def test_tokens_are_checked(sb: SlackSandbox):
    assert error_of(WebClient(token="xoxb-wrong", base_url=sb.api_url).auth_test) == "invalid_auth"
    assert error_of(WebClient(base_url=sb.api_url).auth_test) == "not_authed"
    app_client = WebClient(token=sb.app_token, base_url=sb.api_url)
    assert error_of(app_client.chat_postMessage, channel="C02ALERTS", text="x") == (
        "not_allowed_token_type"
    )
    assert app_client.apps_connections_open(app_token=sb.app_token)["url"].startswith("ws://")
    bot = sb.client()
    assert error_of(bot.apps_connections_open, app_token=sb.bot_token) == "not_allowed_token_type"
    assert sb.calls[-1].token == sb.bot_token


def test_api_test_echoes_and_fails_on_request():
    with SlackSandbox() as sandbox:
        client = WebClient(base_url=sandbox.api_url)
        assert client.api_test(foo="bar")["args"] == {"foo": "bar"}
        assert error_of(client.api_test, error="my_error") == "my_error"


def test_post_message_threads_and_ts_order(sb: SlackSandbox):
    c = sb.client()
    first = c.chat_postMessage(channel="C02ALERTS", text="one", blocks=[SECTION])
    second = c.chat_postMessage(channel="#data-alerts", text="two")
    assert float(second["ts"]) > float(first["ts"])
    assert all(len(r["ts"].split(".")[1]) == 6 for r in (first, second))
    assert first["message"]["blocks"][0]["block_id"]  # Slack fills block ids in
    reply = c.chat_postMessage(channel="C02ALERTS", text="update", thread_ts=first["ts"])
    assert reply["message"]["thread_ts"] == first["ts"]
    history = c.conversations_history(channel="C02ALERTS")["messages"]
    assert [m["text"] for m in history] == ["two", "one"]  # newest first, replies hidden
    assert history[1]["reply_count"] == 1
    replies = c.conversations_replies(channel="C02ALERTS", ts=first["ts"])["messages"]
    assert [m["text"] for m in replies] == ["one", "update"]
    assert error_of(c.conversations_replies, channel="C02ALERTS", ts="1.000001") == (
        "thread_not_found"
    )


def test_many_posts_in_one_burst_keep_strictly_increasing_ts(sb: SlackSandbox):
    c = sb.client()
    stamps = [c.chat_postMessage(channel="C01GENERAL", text=str(i))["ts"] for i in range(30)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 30


def test_post_message_errors(sb: SlackSandbox):
    c = sb.client()
    post = c.chat_postMessage
    assert error_of(post, channel="C999", text="x") == "channel_not_found"
    assert error_of(post, channel="G05FINANCE", text="x") == "channel_not_found"  # private
    assert error_of(post, channel="C06OLD", text="x") == "is_archived"
    assert error_of(post, channel="C02ALERTS", text="") == "no_text"
    assert error_of(post, channel="C02ALERTS", text="x" * 40_001) == "msg_too_long"
    assert post(channel="C02ALERTS", text="x" * 40_000)["ok"]
    with pytest.raises(SlackApiError) as e:
        post(
            channel="C02ALERTS",
            text="x",
            blocks=[{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        )
    assert e.value.response["error"] == "invalid_blocks"
    assert "[json-pointer:/blocks/0/text/text]" in e.value.response["errors"][0]
    assert e.value.response["response_metadata"]["messages"][0].startswith("[ERROR]")
    too_many = [{"type": "divider"}] * 51
    assert error_of(post, channel="C02ALERTS", text="x", blocks=too_many) == "invalid_blocks"
    assert post(channel="C02ALERTS", text="x", blocks=[{"type": "divider"}] * 50)["ok"]


def test_membership_and_chat_write_public(sb: SlackSandbox):
    c = sb.client()
    assert c.chat_postMessage(channel="C03RANDOM", text="public, not joined")["ok"]
    assert error_of(c.conversations_history, channel="C03RANDOM") == "not_in_channel"
    ws = default_workspace()
    ws.bot.scopes = tuple(s for s in ws.bot.scopes if s != "chat:write.public")
    with SlackSandbox(workspace=ws) as narrow:
        nc = narrow.client()
        assert error_of(nc.chat_postMessage, channel="C03RANDOM", text="x") == "not_in_channel"
        joined = nc.conversations_join(channel="C03RANDOM")
        assert joined["channel"]["is_member"] is True
        assert nc.chat_postMessage(channel="C03RANDOM", text="now joined")["ok"]
        assert nc.conversations_join(channel="C03RANDOM")["warning"] == "already_in_channel"
        assert error_of(nc.conversations_join, channel="C06OLD") == "is_archived"
        assert error_of(nc.conversations_join, channel="G05FINANCE") == "channel_not_found"
        assert error_of(nc.conversations_join, channel="G04ONCALL") == (
            "method_not_supported_for_channel_type"
        )


def test_missing_scope_names_the_scope():
    ws = default_workspace()
    ws.bot.scopes = ("chat:write",)
    with SlackSandbox(workspace=ws) as narrow:
        with pytest.raises(SlackApiError) as e:
            narrow.client().users_lookupByEmail(email="alice@example.com")
        assert e.value.response["error"] == "missing_scope"
        assert e.value.response["needed"] == "users:read.email"


def test_update_delete_and_their_errors(sb: SlackSandbox):
    c = sb.client()
    ts = c.chat_postMessage(channel="C02ALERTS", text="old", blocks=[SECTION])["ts"]
    updated = c.chat_update(channel="C02ALERTS", ts=ts, text="new")
    assert updated["text"] == "new"
    assert updated["message"]["blocks"][0]["text"]["text"] == "*Job failed*"  # kept
    assert updated["message"]["edited"]
    cleared = c.chat_update(channel="C02ALERTS", ts=ts, text="new", blocks=[])
    assert "blocks" not in cleared["message"]
    assert error_of(c.chat_update, channel="C02ALERTS", ts="1.000001", text="x") == (
        "message_not_found"
    )
    human = sb.say("typed by a person", channel="C02ALERTS")
    assert error_of(c.chat_update, channel="C02ALERTS", ts=human, text="x") == (
        "cant_update_message"
    )
    assert error_of(c.chat_delete, channel="C02ALERTS", ts=human) == "cant_delete_message"
    assert c.chat_delete(channel="C02ALERTS", ts=ts)["ok"]
    assert error_of(c.chat_delete, channel="C02ALERTS", ts=ts) == "message_not_found"
    assert [m.text for m in sb.messages("C02ALERTS")] == ["typed by a person"]


def test_ephemeral_reaches_only_its_user(sb: SlackSandbox):
    c = sb.client()
    r = c.chat_postEphemeral(channel="C02ALERTS", user="U01ALICE", text="only you")
    assert r["message_ts"]
    assert [m.text for m in sb.ephemerals("U01ALICE", "C02ALERTS")] == ["only you"]
    assert sb.ephemerals("U02BOB") == []
    assert sb.messages("C02ALERTS") == []
    assert error_of(c.chat_postEphemeral, channel="G04ONCALL", user="U03CAROL", text="x") == (
        "user_not_in_channel"
    )
    assert error_of(c.chat_postEphemeral, channel="C02ALERTS", user="U999", text="x") == (
        "user_not_found"
    )
    # chat.update cannot edit ephemerals: their ts is not a channel message.
    assert error_of(c.chat_update, channel="C02ALERTS", ts=r["message_ts"], text="y") == (
        "message_not_found"
    )


def test_permalink(sb: SlackSandbox):
    c = sb.client()
    ts = c.chat_postMessage(channel="C02ALERTS", text="x")["ts"]
    link = c.chat_getPermalink(channel="C02ALERTS", message_ts=ts)["permalink"]
    assert link == f"https://sandbox-data.slack.com/archives/C02ALERTS/p{ts.replace('.', '')}"
    assert error_of(c.chat_getPermalink, channel="C02ALERTS", message_ts="1.000001") == (
        "message_not_found"
    )


def test_conversations_list_and_info(sb: SlackSandbox):
    c = sb.client()
    public = [ch["name"] for ch in c.conversations_list()["channels"]]
    assert "general" in public and "platform-oncall" not in public
    both = c.conversations_list(types="public_channel,private_channel", exclude_archived=True)
    names = [ch["name"] for ch in both["channels"]]
    assert "platform-oncall" in names and "finance-private" not in names
    assert "old-alerts" not in names
    pages, cursor = [], None
    while True:
        r = c.conversations_list(limit=2, cursor=cursor)
        pages.append([ch["id"] for ch in r["channels"]])
        cursor = r["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert sum(len(p) for p in pages) == len(public) and len(pages) > 1
    assert error_of(c.conversations_list, cursor="not-a-cursor") == "invalid_cursor"
    info = c.conversations_info(channel="G04ONCALL", include_num_members=True)["channel"]
    assert info["is_private"] and info["num_members"] == 3
    assert error_of(c.conversations_info, channel="G05FINANCE") == "channel_not_found"


def test_users_and_groups(sb: SlackSandbox):
    c = sb.client()
    alice = c.users_info(user="U01ALICE")["user"]
    assert alice["profile"]["email"] == "alice@example.com" and alice["profile"]["display_name"]
    assert error_of(c.users_info, user="U999") == "user_not_found"
    assert c.users_lookupByEmail(email="BOB@example.com")["user"]["id"] == "U02BOB"
    assert error_of(c.users_lookupByEmail, email="nobody@example.com") == "users_not_found"
    assert c.usergroups_users_list(usergroup="S01ONCALL")["users"] == ["U01ALICE", "U02BOB"]
    assert error_of(c.usergroups_users_list, usergroup="S999") == "no_such_subteam"


def test_views(sb: SlackSandbox):
    c = sb.client()
    home = {"type": "home", "blocks": [SECTION]}
    published = c.views_publish(user_id="U01ALICE", view=home)["view"]
    assert published["type"] == "home" and published["id"].startswith("V")
    assert error_of(c.views_publish, user_id="U999", view=home) == "user_not_found"
    assert error_of(c.views_publish, user_id="U01ALICE", view={"type": "modal"}) == (
        "invalid_arguments"
    )
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Rerun"}, "blocks": []}
    assert error_of(c.views_open, trigger_id="123.456.abc", view=modal) == "invalid_trigger_id"
    trigger = sb.server.triggers.issue(sb.server.state.now())
    assert c.views_open(trigger_id=trigger, view=modal)["view"]["type"] == "modal"
    assert error_of(c.views_open, trigger_id=trigger, view=modal) == "exchanged_trigger_id"
    old = sb.server.triggers.issue(sb.server.state.now())
    sb.advance(4)
    assert error_of(c.views_open, trigger_id=old, view=modal) == "expired_trigger_id"
    long_title = dict(modal, title={"type": "plain_text", "text": "t" * 25})
    fresh = sb.server.triggers.issue(sb.server.state.now())
    assert error_of(c.views_open, trigger_id=fresh, view=long_title) == "invalid_arguments"


def test_reactions_add(sb: SlackSandbox):
    c = sb.client()
    ts = c.chat_postMessage(channel="C02ALERTS", text="x")["ts"]
    assert c.reactions_add(channel="C02ALERTS", timestamp=ts, name="eyes")["ok"]
    assert error_of(c.reactions_add, channel="C02ALERTS", timestamp=ts, name="eyes") == (
        "already_reacted"
    )


def test_form_bodies_with_json_strings_and_token_field(sb: SlackSandbox):
    """curl-style clients: form fields, blocks as a JSON string, token in the body."""
    from urllib.parse import urlencode

    body = urlencode(
        {
            "token": sb.bot_token,
            "channel": "C02ALERTS",
            "text": "t",
            "blocks": json.dumps([SECTION]),
        }
    ).encode()
    with urllib.request.urlopen(sb.api_url + "chat.postMessage", body) as resp:
        assert resp.headers["Content-Type"].startswith("application/json")
        answer = json.loads(resp.read())
    assert answer["ok"] and answer["message"]["blocks"][0]["type"] == "section"
    assert sb.calls_to("chat.postMessage")[-1].params["channel"] == "C02ALERTS"


def test_ratelimit_is_retried_by_slack_sdk_handler(sb: SlackSandbox):
    sb.faults.ratelimit("chat.postMessage", retry_after=1, times=1)
    plain = sb.client()
    with pytest.raises(SlackApiError) as e:
        plain.chat_postMessage(channel="C02ALERTS", text="x")
    assert e.value.response.status_code == 429 and e.value.response["error"] == "ratelimited"
    assert e.value.response.headers["Retry-After"] == "1"

    sb.faults.ratelimit("chat.postMessage", retry_after=1, times=1)
    retrying = sb.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    started = time.monotonic()
    assert retrying.chat_postMessage(channel="C02ALERTS", text="after retry")["ok"]
    assert time.monotonic() - started >= 1.0  # it honoured Retry-After
    statuses = [c.status for c in sb.calls_to("chat.postMessage")]
    assert statuses == [429, 429, 200]


def test_server_errors_slow_answers_and_dropped_connections(sb: SlackSandbox):
    sb.faults.server_error("users.info", status=503, times=1)
    with pytest.raises(SlackApiError) as e:
        sb.client().users_info(user="U01ALICE")
    assert e.value.response.status_code == 503
    sb.faults.server_error("users.info", status=500, times=1)
    retrying = sb.client(retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)])
    assert retrying.users_info(user="U01ALICE")["ok"]

    sb.faults.slow("auth.test", seconds=0.5, times=1)
    started = time.monotonic()
    assert sb.client().auth_test()["ok"]
    assert time.monotonic() - started >= 0.5
    sb.faults.slow("auth.test", seconds=2, times=1)
    impatient = WebClient(token=sb.bot_token, base_url=sb.api_url, timeout=1)
    with pytest.raises(TimeoutError):
        impatient.auth_test()

    sb.faults.drop("auth.test", times=1)
    # slack_sdk's default ConnectionErrorRetryHandler retries once after a dropped connection.
    assert sb.client().auth_test()["ok"]
    assert sum(bool(c.response.get("dropped")) for c in sb.calls_to("auth.test")) == 1
    sb.faults.drop("auth.test", times=1)
    with pytest.raises(Exception):  # noqa: B017 - urllib surfaces a reset as several types
        sb.client(retry_handlers=[]).auth_test()
