"""The sandbox's file upload, driven by slack_sdk's own `files_upload_v2` (getUploadURLExternal
→ POST of the bytes → completeUploadExternal): the file lands in the thread as a bot message,
its bytes come back from url_private, the page API shows it, and Slack's refusals hold."""

from __future__ import annotations

import json
import urllib.request

import pytest
from slack_sdk.errors import SlackApiError

from sandbox.slack.driver import SlackSandbox
from sandbox.slack.workspace import default_workspace

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the signature is all a viewer needs to pick it


def _parent(sb: SlackSandbox, channel: str = "C02ALERTS") -> str:
    return str(sb.client().chat_postMessage(channel=channel, text="weekly report")["ts"])


def test_upload_into_a_thread_shows_the_file_there(sb: SlackSandbox):
    ts = _parent(sb)
    done = sb.client().files_upload_v2(
        filename="cost.png",
        content=PNG,
        title="Daily cost by team",
        alt_txt="bars",
        channel="C02ALERTS",
        thread_ts=ts,
        initial_comment="📈 the chart",
    )
    assert done["ok"] and done["file"]["name"] == "cost.png"
    assert [c.method for c in sb.calls] == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    thread = sb.thread("C02ALERTS", ts)
    assert len(thread) == 2
    reply = thread[1]
    assert reply.thread_ts == ts and reply.bot_id == sb.workspace.bot.bot_id
    assert reply.text == "📈 the chart"
    (f,) = reply.files
    assert (f["title"], f["mimetype"], f["size"]) == ("Daily cost by team", "image/png", len(PNG))
    assert f["shares"]["public"]["C02ALERTS"][0]["thread_ts"] == ts
    # Not in the channel itself: a thread reply.
    assert [m.ts for m in sb.messages("C02ALERTS")] == [ts]
    with urllib.request.urlopen(f["url_private"]) as r:
        assert r.headers["Content-Type"] == "image/png" and r.read() == PNG
    # conversations.replies returns the file, as a retried sender reads it.
    replies = sb.client().conversations_replies(channel="C02ALERTS", ts=ts)["messages"]
    assert replies[1]["files"][0]["id"] == f["id"]
    # The page API gives the page what it needs for an <img>.
    url = f"{sb.base_url}/sandbox/api/replies?channel=C02ALERTS&ts={ts}&user=U01ALICE"
    with urllib.request.urlopen(url) as r:
        page = json.loads(r.read())["messages"]
    assert page[1]["files"] == [
        {
            "id": f["id"],
            "name": "cost.png",
            "title": "Daily cost by team",
            "mimetype": "image/png",
            "url_private": f["url_private"],
            "alt_txt": "bars",
        }
    ]


def test_multipart_upload_and_a_private_file(sb: SlackSandbox):
    client = sb.client()
    step1 = client.files_getUploadURLExternal(filename="a.txt", length=5)
    boundary = "xyzzy"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="filename"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    ).encode()
    req = urllib.request.Request(
        step1["upload_url"],
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(req) as r:
        assert r.status == 200
    done = client.files_completeUploadExternal(files=[{"id": step1["file_id"]}])
    assert done["files"][0]["shares"] == {} and done["files"][0]["title"] == "a.txt"
    assert all(not sb.messages(c.id) for c in sb.workspace.channels)  # shared nowhere
    assert sb.server.state.files[step1["file_id"]].data == b"hello"


def test_refusals(sb: SlackSandbox):
    client = sb.client()
    with pytest.raises(SlackApiError) as e:
        client.files_getUploadURLExternal(filename="x.png", length=0)
    assert e.value.response["error"] == "missing_argument"
    step1 = client.files_getUploadURLExternal(filename="x.png", length=3)
    # Completing before the bytes were sent: no such file yet.
    with pytest.raises(SlackApiError) as e:
        client.files_completeUploadExternal(
            files=[{"id": step1["file_id"]}], channel_id="C02ALERTS"
        )
    assert e.value.response["error"] == "file_not_found"
    # A wrong secret in the upload URL is refused.
    bad = step1["upload_url"].rsplit("/", 1)[0] + "/not-the-secret"
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(urllib.request.Request(bad, data=b"abc", method="POST"))
    assert http.value.code == 404
    urllib.request.urlopen(urllib.request.Request(step1["upload_url"], data=b"abc", method="POST"))
    for channel, thread, code in [
        ("G05FINANCE", None, "channel_not_found"),  # private, the bot is not in it
        ("C06OLD", None, "is_archived"),
        ("C02ALERTS", "1.000001", "thread_not_found"),
    ]:
        with pytest.raises(SlackApiError) as e:
            client.files_completeUploadExternal(
                files=[{"id": step1["file_id"]}], channel_id=channel, thread_ts=thread
            )
        assert e.value.response["error"] == code
    client.files_completeUploadExternal(files=[{"id": step1["file_id"]}], channel_id="C02ALERTS")
    with pytest.raises(SlackApiError) as e:
        client.files_completeUploadExternal(
            files=[{"id": step1["file_id"]}], channel_id="C02ALERTS"
        )
    assert e.value.response["error"] == "file_already_completed"


def test_upload_needs_files_write():
    ws = default_workspace()
    ws.bot.scopes = tuple(s for s in ws.bot.scopes if s != "files:write")
    with SlackSandbox(workspace=ws) as sb, pytest.raises(SlackApiError) as e:
        sb.client().files_upload_v2(filename="x.png", content=PNG, channel="C02ALERTS")
    assert e.value.response["error"] == "missing_scope"
    assert e.value.response["needed"] == "files:write"


@pytest.mark.browser
def test_page_shows_an_uploaded_image_in_the_thread(sb: SlackSandbox, browser):
    from bot.render.chart import Series, daily_cost_png
    from tests.support.chart import DAYS

    png = daily_cost_png(DAYS, [Series("finance", (5.0,) * 7)], title="Daily cost")
    ts = _parent(sb)
    sb.client().files_upload_v2(
        filename="cost.png", content=png, title="Daily cost by team", channel="C02ALERTS",
        thread_ts=ts,
    )  # fmt: skip
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(sb.base_url + "/?channel=C02ALERTS&user=U01ALICE")
        page.wait_for_selector("body.ready")
        page.locator("#messages .replies").first.click()
        img = page.locator("#thread-messages img.file-image")
        img.wait_for()
        assert img.get_attribute("alt") == "Daily cost by team"
        # Loaded and decoded: the browser drew the PNG the sandbox serves.
        page.wait_for_function(
            "() => { const i = document.querySelector('#thread-messages img.file-image');"
            " return i && i.complete && i.naturalWidth > 0; }"
        )
        assert img.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [960, 540]
        assert page.locator("#thread-messages .file-title").text_content() == "Daily cost by team"
        assert errors == []
    finally:
        context.close()
