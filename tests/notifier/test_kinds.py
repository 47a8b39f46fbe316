"""What each kind of outbox row becomes in Slack, and what happens when Slack says no: the
bot joins public channels, re-routes posts it cannot make, and sends plain text for
messages Slack refuses."""

from __future__ import annotations

from bot.slack.payloads import EVENT_TYPE, PLAIN_FALLBACK_CHARS
from bot.store import OutboxKind, OutboxState, Store
from sandbox.slack.driver import SlackSandbox
from sandbox.slack.workspace import default_workspace
from tests.notifier.conftest import DEFAULT, drain_all, incident, post

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*nightly_sales failed*"}}


def test_update_and_thread_reply_land_on_their_incidents_message(sb, store: Store, make_notifier):
    first, second = incident(store, "1"), incident(store, "2")
    post(store, "a", incident_id=first, blocks=[SECTION])
    post(store, "b", incident_id=second)
    post(store, "a-up", kind=OutboxKind.UPDATE, incident_id=first, text="a acked", blocks=[])
    post(store, "b-re", kind=OutboxKind.THREAD_REPLY, incident_id=second, text="b again")
    post(store, "a-re", kind=OutboxKind.THREAD_REPLY, incident_id=first, text="a again")
    drain_all(make_notifier(), store)

    by_text = {m.text: m for m in sb.messages(DEFAULT)}
    assert set(by_text) == {"a acked", "b"}  # a was edited in place, replies stay in threads
    a, b = store.incidents.get(first), store.incidents.get(second)
    assert a is not None and b is not None
    assert a.message_ts == by_text["a acked"].ts and b.message_ts == by_text["b"].ts
    assert by_text["a acked"].edited and by_text["a acked"].blocks == []
    assert [m.text for m in sb.thread(DEFAULT, a.message_ts)[1:]] == ["a again"]
    assert [m.text for m in sb.thread(DEFAULT, b.message_ts)[1:]] == ["b again"]


def test_an_older_update_retried_after_a_newer_one_does_not_undo_it(
    sb, store: Store, make_notifier
):
    case = incident(store, "1")
    post(store, "alert", incident_id=case)
    notifier = make_notifier()
    drain_all(notifier, store)
    post(store, "acked", kind=OutboxKind.UPDATE, incident_id=case)
    post(store, "resolved", kind=OutboxKind.UPDATE, incident_id=case)
    sb.faults.server_error("chat.update", times=1)  # "acked" fails first, retried later
    drain_all(notifier, store)
    assert [m.text for m in sb.messages(DEFAULT)] == ["resolved"]
    assert notifier.totals.superseded == 1
    acked = store.outbox.find("acked")
    assert acked is not None and acked.state is OutboxState.SENT


def test_posts_and_replies_carry_metadata_naming_their_row(sb, store: Store, make_notifier):
    case = incident(store, "1")
    post(store, "alert", incident_id=case)
    post(store, "reply", kind=OutboxKind.THREAD_REPLY, incident_id=case)
    drain_all(make_notifier(), store)
    posts = sb.calls_to("chat.postMessage")
    alert, reply = store.outbox.find("alert"), store.outbox.find("reply")
    assert alert is not None and reply is not None
    assert [c.params["metadata"] for c in posts] == [
        {
            "event_type": EVENT_TYPE,
            "event_payload": {
                "outbox_id": row.id,
                "dedupe_key": row.dedupe_key,
                "incident_id": case,
            },
        }
        for row in (alert, reply)
    ]


def test_ephemeral_goes_to_its_user_only(sb, store: Store, make_notifier):
    post(store, "eph", kind=OutboxKind.EPHEMERAL, user="U01ALICE", text="only you")
    drain_all(make_notifier(), store)
    assert [m.text for m in sb.ephemerals("U01ALICE", DEFAULT)] == ["only you"]
    assert sb.messages(DEFAULT) == []
    row = store.outbox.find("eph")
    assert row is not None and row.state is OutboxState.SENT and row.slack_ts is None


def test_not_in_channel_joins_then_posts(store: Store, make_notifier, sb):
    ws = default_workspace()
    ws.bot.scopes = tuple(s for s in ws.bot.scopes if s != "chat:write.public")
    with SlackSandbox(workspace=ws) as narrow:
        post(store, "hello random", "C03RANDOM")
        notifier = make_notifier(slack=narrow)
        drain_all(notifier, store)
        assert [m.text for m in narrow.messages("C03RANDOM")] == ["hello random"]
        assert len(narrow.calls_to("conversations.join")) == 1
        assert notifier.totals.joined == 1


def test_a_private_channel_not_invited_goes_to_the_default_channel_and_says_why(
    sb, store: Store, make_notifier, caplog
):
    case = incident(store, "1")
    post(store, "alert", "G05FINANCE", incident_id=case, channel_name="finance-private")
    post(store, "up", "G05FINANCE", kind=OutboxKind.UPDATE, incident_id=case, text="acked")
    post(store, "re", "G05FINANCE", kind=OutboxKind.THREAD_REPLY, incident_id=case, text="again")
    notifier = make_notifier()
    drain_all(notifier, store)

    [shown] = sb.messages(DEFAULT)
    assert shown.text == "acked"  # the update followed the message to the default channel
    first = next(
        c for c in sb.calls_to("chat.postMessage") if c.ok and c.params["channel"] == DEFAULT
    )
    assert first.params["text"].startswith(
        "⚠️ I couldn't post in #finance-private (not invited, or no such channel):\nalert"
    )
    assert [m.text for m in sb.thread(DEFAULT, shown.ts)[1:]] == ["again"]
    original = store.outbox.find("alert")
    assert original is not None and original.state is OutboxState.FAILED
    assert "re-routed" in (original.last_error or "")
    row = store.incidents.get(case)
    assert row is not None and (row.channel, row.message_ts) == (DEFAULT, shown.ts)
    assert notifier.totals.rerouted == 1
    assert any("G05FINANCE" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


def test_an_archived_channel_is_rerouted_too(sb, store: Store, make_notifier):
    post(store, "old", "C06OLD")
    drain_all(make_notifier(), store)
    [shown] = sb.messages(DEFAULT)
    assert shown.text.startswith("⚠️ I couldn't post in <#C06OLD> (archived):")


def test_a_message_too_long_is_sent_as_plain_text(sb, store: Store, make_notifier):
    case = incident(store, "1")
    post(store, "long", incident_id=case, text="x" * 40_001, blocks=[SECTION])
    notifier = make_notifier()
    drain_all(notifier, store)
    [shown] = sb.messages(DEFAULT)
    assert len(shown.text) <= PLAIN_FALLBACK_CHARS and shown.blocks == []
    assert shown.text.startswith("xxx") and "msg_too_long" in shown.text
    long = store.outbox.find("long")
    assert long is not None and long.state is OutboxState.FAILED
    assert long.last_error == "msg_too_long"
    row = store.incidents.get(case)
    assert row is not None and row.message_ts == shown.ts  # the stand-in is the alert now
    assert notifier.totals.fallbacks == 1


def test_invalid_blocks_are_sent_as_plain_text_for_posts_and_updates(
    sb, store: Store, make_notifier
):
    bad = [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]
    case = incident(store, "1")
    post(store, "alert", incident_id=case, text="job failed", blocks=[SECTION])
    post(store, "up", kind=OutboxKind.UPDATE, incident_id=case, text="job acked", blocks=bad)
    post(store, "bad", "C01GENERAL", text="", blocks=[*bad, SECTION])
    drain_all(make_notifier(), store)
    [alert] = sb.messages(DEFAULT)
    assert alert.text.startswith("job acked") and alert.blocks == []  # old blocks gone too
    [general] = sb.messages("C01GENERAL")
    assert general.text.startswith("h" * 151 + "\n*nightly_sales failed*")
    assert "invalid_blocks" in general.text
    for key in ("up", "bad"):
        row = store.outbox.find(key)
        assert row is not None and row.state is OutboxState.FAILED


def test_permanent_errors_fail_the_row_with_a_log_line(sb, store: Store, make_notifier, caplog):
    post(store, "eph", kind=OutboxKind.EPHEMERAL, user="U99NOBODY")
    notifier = make_notifier()
    drain_all(notifier, store)
    row = store.outbox.find("eph")
    assert (
        row is not None and row.state is OutboxState.FAILED and "user_not_found" in row.last_error
    )
    assert notifier.totals.failed == 1
    assert any("giving up" in r.getMessage() for r in caplog.records)
    assert all(sb.bot_token not in r.getMessage() for r in caplog.records)
