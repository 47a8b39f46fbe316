"""Share in channel: the private answer posted for everyone, credited to the person who shared
it; the bot joins public channels it is not in and asks to be invited to private ones."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import timedelta

from bot.actions import JOBS_SHARE
from sandbox.slack.workspace import default_workspace
from tests.support.ask import ask
from tests.support.stack import Stack


def _share(stack: Stack, shown, user: str):
    return stack.sb.click(shown.message, JOBS_SHARE, block_id="jobs_share", user=user)


def test_share_posts_the_same_answer_visibly_credited_to_the_user(stack: Stack) -> None:
    shown = ask(stack.sb, "failing 24h", user="U02BOB", channel="C01GENERAL")
    clicked = _share(stack, shown, "U02BOB")
    assert clicked.status == "ok"
    posted = [m for m in stack.sb.messages("C01GENERAL") if m.text == shown.text]
    assert len(posted) == 1
    msg = posted[0]
    assert msg.bot_id is not None and not msg.ephemeral
    assert "Shared by <@U02BOB> · `/jobs failing 24h`" in msg.blocks[-1]["elements"][0]["text"]
    # Same content minus the share button, which would make no sense in a public message.
    sent = [c for c in stack.sb.calls_to("chat.postMessage") if c.ok][-1].params
    blocks = sent["blocks"]
    if isinstance(blocks, str):  # form-encoded calls carry blocks as JSON text
        blocks = json.loads(blocks)
    assert blocks[:-1] == shown.blocks[:-1]
    assert all(b.get("block_id") != "jobs_share" for b in msg.blocks)
    # The private copy is gone, and everyone in the channel can see the shared one.
    assert all(m.id != shown.message.id for m in stack.sb.ephemerals("U02BOB", "C01GENERAL"))


def test_share_in_a_public_channel_the_bot_is_not_in_joins_it(
    make_stack: Callable[..., Stack],
) -> None:
    # Without chat:write.public Slack refuses with not_in_channel until the bot joins.
    ws = default_workspace()
    ws.bot = dataclasses.replace(
        ws.bot, scopes=tuple(s for s in ws.bot.scopes if s != "chat:write.public")
    )
    st = make_stack(workspace=ws)
    channel = "C03RANDOM"
    assert st.sb.workspace.bot.user_id not in st.sb.workspace.channel(channel).members
    shown = ask(st.sb, "running", user="U04DAVE", channel=channel)
    clicked = _share(st, shown, "U04DAVE")
    assert clicked.status == "ok"
    assert [c.params.get("channel") for c in st.sb.calls_to("conversations.join")] == [channel]
    assert st.sb.workspace.bot.user_id in st.sb.workspace.channel(channel).members
    posted = [m for m in st.sb.messages(channel) if m.text == shown.text]
    assert len(posted) == 1 and "Shared by <@U04DAVE>" in str(posted[0].blocks[-1])


def test_share_in_a_private_channel_the_bot_is_not_in_asks_for_an_invite(stack: Stack) -> None:
    channel = "G05FINANCE"
    shown = ask(stack.sb, "sla", user="U03CAROL", channel=channel)
    clicked = _share(stack, shown, "U03CAROL")
    assert clicked.status == "ok"
    assert stack.sb.messages(channel) == []
    told = [m.text for m in stack.sb.ephemerals("U03CAROL", channel)]
    assert any("Invite me" in t and "/invite @jobs-bot" in t for t in told), told
    assert not any("went wrong" in t for t in told)


def test_share_later_posts_the_answer_the_user_saw_not_a_newer_one(
    make_stack: Callable[..., Stack],
) -> None:
    st = make_stack()
    shown = ask(st.sb, "failing 24h", user="U01ALICE", channel="C01GENERAL")
    assert "failing in the last 24h" in shown.text
    # Two days on, with the cache long expired, the same question has a different answer...
    st.service.clock.set(st.service.clock.now() + timedelta(days=2))
    later = ask(st.sb, "failing 24h", user="U03CAROL", channel="C01GENERAL")
    assert later.text != shown.text
    # ...but sharing the first answer posts that one.
    assert _share(st, shown, "U01ALICE").status == "ok"
    posted = [m for m in st.sb.messages("C01GENERAL") if not m.ephemeral]
    assert [m.text for m in posted] == [shown.text]
    sent = [c for c in st.sb.calls_to("chat.postMessage") if c.ok][-1].params["blocks"]
    sent = json.loads(sent) if isinstance(sent, str) else sent
    assert sent[:-1] == shown.blocks[:-1]
