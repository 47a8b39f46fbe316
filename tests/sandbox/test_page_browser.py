"""The sandbox web page, end to end, in Debian's Chromium.

Real parts only: the SandboxServer, a real Bolt app in HTTP mode (served by the bot's own
BoltHttpServer) that talks back through the real slack_sdk WebClient, and the page driven by
Playwright. A person types `/jobs failing`, sees the answer arrive live, confirms a button,
and sees the message change in place. The run also saves docs/sandbox.png for the README.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.http_server import BoltHttpServer
from sandbox.slack.server import SandboxServer

# A hand-built test message, not the bot: kept out of docs/ (whose pictures are all the real
# bot's), in the temp folder for a person debugging the page.
SCREENSHOT = Path(tempfile.gettempdir()) / "jobs-bot-screenshots" / "sandbox-page.png"
DATE_EPOCH = 1392734382  # 2014-02-18 14:39:42 UTC

pytestmark = pytest.mark.browser


def failing_blocks() -> list[dict[str, Any]]:
    """A /jobs failing answer shaped like the bot's, with the tricky bits the page must get right."""
    ack_button = {
        "type": "button",
        "action_id": "ack",
        "text": {"type": "plain_text", "text": "Acknowledge"},
        "style": "primary",
        "value": "nightly_sales",
        "confirm": {
            "title": {"type": "plain_text", "text": "Acknowledge nightly_sales?"},
            "text": {
                "type": "mrkdwn",
                "text": "Alerts for this job stop until it *succeeds* again.",
            },
            "confirm": {"type": "plain_text", "text": "Acknowledge"},
            "deny": {"type": "plain_text", "text": "Not now"},
        },
    }
    return [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "2 jobs failing &amp; 1 at risk"},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*<https://example.test/jobs/101|nightly_sales>* · prod-eu · "
                "failed *3 times in a row*\n`DRIVER_ERROR` Table &lt;!channel&gt; not found",
            },
            "accessory": {
                "type": "overflow",
                "action_id": "more",
                "options": [
                    {"text": {"type": "plain_text", "text": "Mute for 24h"}, "value": "mute"},
                    {"text": {"type": "plain_text", "text": "Open run"}, "value": "open"},
                ],
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Owner*\n<@U01ALICE>"},
                {
                    "type": "mrkdwn",
                    "text": f"*Last failure*\n<!date^{DATE_EPOCH}^{{date_short}} at {{time}}|Feb 18>",
                },
                {"type": "mrkdwn", "text": "*Failures (24h)*\n3"},
                {"type": "mrkdwn", "text": "*Cost (7d)*\n$1,204.50"},
            ],
        },
        {
            "type": "actions",
            "block_id": "job_101",
            "elements": [
                ack_button,
                {
                    "type": "button",
                    "action_id": "rerun",
                    "text": {"type": "plain_text", "text": "Rerun"},
                    "value": "101",
                },
                {
                    "type": "button",
                    "action_id": "mute",
                    "text": {"type": "plain_text", "text": "Mute 24h"},
                    "style": "danger",
                    "value": "101",
                },
                {
                    "type": "button",
                    "action_id": "open",
                    "text": {"type": "plain_text", "text": "Open in Databricks"},
                    "url": "https://example.test/jobs/101/runs/9",
                },
            ],
        },
        {"type": "divider"},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "Window: last 24h · on call: <!subteam^S01ONCALL>"},
            ],
        },
    ]


def build_app(sandbox: SandboxServer, clicks: list[str]) -> App:
    """A tiny jobs bot; `clicks` records every button click the app receives."""
    client = WebClient(token=sandbox.state.ws.bot.bot_token, base_url=sandbox.api_url)
    app = App(client=client, signing_secret=sandbox.signing_secret)

    @app.middleware
    def slow_to_answer(body, next) -> None:
        # Holding the request itself (not the listener) keeps the HTTP answer back past
        # Slack's 3-second deadline; Bolt's own ack wait would answer 404 at the same moment.
        if str(body.get("text", "")).startswith("slow"):
            time.sleep(3.6)
        next()

    @app.command("/jobs")
    def jobs(ack, command, say) -> None:
        ack("Looking up failing jobs\u2026")
        say(text="2 jobs failing", blocks=failing_blocks())

    @app.action("ack")
    def acknowledge(ack, body, client) -> None:
        ack()
        clicks.append(body["actions"][0]["action_id"])
        channel = body["container"]["channel_id"]
        ts = body["container"]["message_ts"]
        who = body["user"]["id"]
        # Slack-style update: the same message, minus the button that was used.
        done = failing_blocks()
        for b in done:
            if b["type"] == "actions":
                b["elements"] = [e for e in b["elements"] if e["action_id"] != "ack"]
        done.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"*Acknowledged* by <@{who}>",
                    }
                ],
            }
        )
        client.chat_update(channel=channel, ts=ts, text="acknowledged", blocks=done)
        client.chat_postMessage(
            channel=channel, thread_ts=ts, text=f"<@{who}> acknowledged _nightly_sales_."
        )

    @app.action("more")
    def more(ack, body, respond) -> None:
        ack()
        choice = body["actions"][0]["selected_option"]["value"]
        clicks.append(f"more:{choice}")
        respond(response_type="ephemeral", replace_original=False, text=f"You chose *{choice}*.")

    @app.action("open")
    def open_link(ack) -> None:
        ack()  # Slack sends url buttons to the app too, and they must be acked
        clicks.append("open")

    return app


class Stack:
    def __init__(self) -> None:
        self.sandbox = SandboxServer()
        self.clicks: list[str] = []


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The sandbox with a Bolt app behind it, both on free loopback ports."""
    st = Stack()
    st.sandbox.start()
    http = BoltHttpServer(build_app(st.sandbox, st.clicks))
    st.sandbox.app_request_url = http.start()
    try:
        yield st
    finally:
        http.stop()
        st.sandbox.stop()


def test_command_answer_confirmed_click_and_live_update(stack: Stack, browser) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="UTC"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(stack.sandbox.base_url + "/")
    page.wait_for_selector("body.ready")
    # A marker that a reload would wipe: everything below must arrive live.
    page.evaluate("window.__noReload = true")

    # Sidebar: private channels carry a lock, archived ones are dimmed; pick #data-alerts.
    assert page.locator(".channel.private", has_text="platform-oncall").locator(".lock").count()
    archived = page.locator(".channel.archived", has_text="old-alerts")
    assert float(archived.evaluate("e => getComputedStyle(e).opacity")) < 1
    page.locator(".channel", has_text="data-alerts").click()
    assert page.locator("#channel-title").text_content() == "data-alerts"
    assert page.locator("#user-picker").input_value() == "U01ALICE"

    # The slash command: the ack shows as an ephemeral, the bot's answer arrives on the stream.
    page.locator("#composer-input").fill("/jobs failing 24h")
    page.locator("#composer-input").press("Enter")
    eph = page.locator(".msg.ephemeral", has_text="Looking up failing jobs")
    eph.wait_for()
    assert "Only visible to you" in eph.text_content()
    answer = page.locator(".msg", has_text="2 jobs failing")
    answer.wait_for()
    msg_id = answer.get_attribute("data-id")

    # Rendering: bold is bold, an escaped <!channel> is literal text, the date is formatted.
    bold = answer.locator("b", has_text="3 times in a row")
    assert int(bold.evaluate("e => getComputedStyle(e).fontWeight")) >= 700
    assert "Table <!channel> not found" in answer.text_content()
    assert answer.locator(".broadcast").count() == 0
    assert (
        answer.locator(".date").text_content().replace("\u202f", " ") == "Feb 18, 2014 at 2:39 PM"
    )
    assert answer.locator(".mention", has_text="@alice").count() == 1
    assert answer.locator(".mention", has_text="@data-oncall").count() == 1
    assert answer.locator(".block-header").text_content() == "2 jobs failing & 1 at risk"
    assert answer.locator(".section-fields .field").count() == 4
    primary = answer.locator("button[data-action-id=ack]")
    assert "btn-primary" in (primary.get_attribute("class") or "")
    link = answer.locator("a.link", has_text="nightly_sales")
    assert link.get_attribute("href") == "https://example.test/jobs/101"
    assert link.get_attribute("target") == "_blank"

    # A confirm dialog guards the button: "Not now" delivers nothing.
    primary.click()
    dialog = page.locator("#confirm")
    dialog.wait_for()
    assert page.locator("#confirm-title").text_content() == "Acknowledge nightly_sales?"
    assert page.locator("#confirm-text b").text_content() == "succeeds"
    page.locator("#confirm-no").click()
    assert dialog.is_hidden()
    assert stack.clicks == []

    # Confirming delivers the click; the bot's chat.update changes the message in place.
    primary.click()
    page.locator("#confirm-yes").click()
    updated = page.locator(f'.msg[data-id="{msg_id}"]', has_text="Acknowledged")
    updated.wait_for()
    assert stack.clicks == ["ack"]
    assert "by @alice" in updated.text_content()
    assert updated.locator("button[data-action-id=ack]").count() == 0
    assert "btn-danger" in (
        updated.locator("button[data-action-id=mute]").get_attribute("class") or ""
    )
    assert updated.locator(".edited").count() == 1
    assert page.locator("#messages .msg", has_text="2 jobs failing").count() == 1

    # The thread reply shows as "1 reply" and opens in the side panel.
    replies = updated.locator(".replies")
    replies.wait_for()
    assert replies.text_content() == "1 reply"
    replies.click()
    page.locator("#thread .msg", has_text="acknowledged nightly_sales").wait_for()
    assert page.locator("#thread .msg i", has_text="nightly_sales").count() == 1

    # Replying in the thread: plain text is posted there; slash commands are refused, as in Slack.
    page.locator("#thread-input").fill("/jobs failing")
    page.locator("#thread-input").press("Enter")
    assert (
        page.locator("#thread-note").text_content() == "/jobs is not supported in threads. Sorry!"
    )
    page.locator("#thread-input").fill("On it, the *upstream* table is back.")
    page.locator("#thread-input").press("Enter")
    page.locator("#thread .msg", has_text="On it, the upstream table is back.").wait_for()
    page.locator(f'#messages .msg[data-id="{msg_id}"] .replies', has_text="2 replies").wait_for()

    assert page.evaluate("window.__noReload") is True
    page.mouse.move(600, 790)  # no hover highlight in the picture
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # An app that acks too late: the person sees Slack's timeout line.
    page.locator("#thread-close").click()
    page.locator("#composer-input").fill("/jobs slow")
    page.locator("#composer-input").press("Enter")
    working = page.locator("#working")
    working.wait_for()
    assert "working" in working.text_content()
    page.locator(".msg", has_text='/jobs failed with the error "operation_timeout"').wait_for()
    assert working.is_hidden()

    # Ephemerals belong to their viewer: as bob, alice's ack message is gone.
    page.locator("#user-picker").select_option("U02BOB")
    page.locator("#messages .msg", has_text="Acknowledged").wait_for()
    page.wait_for_function("() => !document.body.innerText.includes('Looking up failing jobs')")
    assert page.evaluate("window.__noReload") is True
    assert errors == []
    context.close()


def test_overflow_menu_and_url_button(stack: Stack, browser) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="UTC"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(stack.sandbox.base_url + "/?channel=C01GENERAL")
    page.wait_for_selector("body.ready")
    assert page.locator("#channel-title").text_content() == "general"
    page.locator("#composer-input").fill("/jobs failing")
    page.locator("#composer-input").press("Enter")
    answer = page.locator("#messages .msg", has_text="2 jobs failing")
    answer.wait_for()
    stack.clicks.clear()

    # The overflow menu opens on click and sends the chosen option to the app.
    menu = answer.locator(".overflow .menu")
    assert menu.is_hidden()
    answer.locator("button[data-action-id=more]").click()
    assert menu.is_visible()
    menu.locator(".menu-item", has_text="Mute for 24h").click()
    assert menu.is_hidden()
    page.locator("#messages .msg.ephemeral", has_text="You chose mute.").wait_for()
    assert stack.clicks == ["more:mute"]

    # A url button opens its link in a new tab and is still delivered to the app. There is
    # no internet here, so the browser answers for example.test itself.
    context.route("https://example.test/**", lambda route: route.fulfill(body="Databricks run"))
    with context.expect_page() as new_tab:
        answer.locator("button[data-action-id=open]").click()
    new_tab.value.wait_for_load_state()
    assert new_tab.value.url == "https://example.test/jobs/101/runs/9"
    page.wait_for_function("() => !document.querySelector('button[data-action-id=open].busy')")
    assert stack.clicks == ["more:mute", "open"]
    context.close()


def test_stream_reconnects_after_the_sandbox_restarts(browser) -> None:
    first = SandboxServer()
    first.start()
    port = first.port
    context = browser.new_context(locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{first.base_url}/?channel=C02ALERTS")
        page.wait_for_selector("#live.on")
        page.evaluate("window.__noReload = true")
        first.stop()
        page.wait_for_selector("#live.off")
        assert "reconnecting" in page.locator("#live").text_content()
        second = SandboxServer(port=port)
        second.start()
        try:
            page.wait_for_selector("#live.on")
            client = WebClient(token=second.state.ws.bot.bot_token, base_url=second.api_url)
            client.chat_postMessage(channel="C02ALERTS", text="back *online*")
            page.locator("#messages .msg b", has_text="online").wait_for()
            assert page.evaluate("window.__noReload") is True
        finally:
            second.stop()
    finally:
        context.close()
