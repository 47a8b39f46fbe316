"""Edge cases through the whole stack: typos, bad windows, unknown jobs, hostile names, very long
and non-ASCII text, and the cost spike found once the minimum allows it."""

from __future__ import annotations

from collections.abc import Callable

from bot.actions import JOBS_FEEDBACK_EXPECTED
from tests.support.ask import ask
from tests.support.demo import Demo, demo_config
from tests.support.stack import Stack

EVIL = "<!channel> *boom* <http://evil|click> &amp;"


def test_unknown_subcommand_suggests_the_right_one(stack: Stack) -> None:
    shown = ask(stack.sb, "stauts x")
    assert "Did you mean `/jobs status x`?" in shown.text
    # A short pointer to the help, not the whole catalogue again.
    assert "`/jobs help`" in shown.body and "/jobs cost 7d" not in shown.body
    sandwich = ask(stack.sb, "make me a sandwich", user="U04DAVE")
    assert "I don't know `/jobs make me a sandwich`" in sandwich.text
    assert "status make" not in sandwich.body  # only plausible suggestions


def test_bad_window_explains_the_windows(stack: Stack) -> None:
    shown = ask(stack.sb, "failing 3x")
    assert "`3x` is not a time window" in shown.text
    assert "24h" in shown.text and "7d" in shown.text


def test_unknown_job_and_sql_text_match_nothing_and_tables_survive(stack: Stack) -> None:
    assert "No job matches `zzzz_no_such_job`" in ask(stack.sb, "status zzzz_no_such_job").text
    shown = ask(stack.sb, "status '; DROP TABLE x; --")
    assert "No job matches" in shown.text and "DROP TABLE x" in shown.text
    # The jobs and run tables are still there and still answer.
    assert ask(stack.sb, "status nightly_sales", user="U02BOB").blocks[0]["type"] == "header"
    assert "failing" in ask(stack.sb, "failing 24h", user="U02BOB").text


def test_a_typed_injection_is_shown_literally_and_pings_no_one(stack: Stack) -> None:
    shown = ask(stack.sb, f"status {EVIL}")
    assert "No job matches" in shown.text
    assert "<!channel>" not in shown.rendered and "<http://evil" not in shown.rendered
    # Slack sends the typed text with & < > escaped; the parser unescapes it once and the
    # answer escapes it again, so the asker sees exactly what they typed, as inert text.
    assert "`&lt;!channel&gt; *boom* &lt;http://evil|click&gt; &amp;amp;`" in shown.text
    # The sandbox shows it to the asker as text: no broadcast reached the channel.
    assert stack.sb.messages("C02ALERTS") == []


def test_a_job_name_with_mrkdwn_characters_renders_escaped(stack: Stack, demo: Demo) -> None:
    shown = ask(stack.sb, "status partner_feed_export")
    header = shown.blocks[0]["text"]
    # plain_text shows characters as they are; mrkdwn needs &lt; &amp; &gt;.
    assert header["type"] == "plain_text"
    assert "partner_feed_export &lt;acme &amp; co&gt;" in shown.text
    assert "<acme" not in shown.text


def test_very_long_and_unicode_text_get_a_valid_answer(stack: Stack) -> None:
    # Long names still get a real answer, up to the 500-character bound on command text.
    long = ask(stack.sb, "status " + "verylongname_" * 37)
    assert "No job matches" in long.text
    assert len(long.text) <= 4000
    # Past it the bot says so at once, in the ack, without doing any work.
    seen = stack.sb.command("/jobs status " + "verylongname_" * 300, user="U04DAVE")
    assert seen.status == "ok" and "I read at most 500" in (seen.ack_body or "")
    uni = ask(stack.sb, "status 日本語 ünï 🚀 sales")
    assert "日本語 ünï 🚀" in uni.text or uni.blocks[0]["type"] == "header"
    emoji = ask(stack.sb, "status 🚀🚀🚀")
    assert "No job matches `🚀🚀🚀`" in emoji.text


def test_cost_spike_job_is_the_top_anomaly_when_the_minimum_allows(
    make_stack: Callable[..., Stack], demo: Demo
) -> None:
    spike = demo.story.cost_spike
    assert spike is not None
    st = make_stack(config=demo_config(demo.story, min_daily_amount=5.0))
    shown = ask(st.sb, "anomalies")
    first = shown.items()[0]["text"]["text"]
    assert spike.job.name in first and spike.day.isoformat() in first
    assert spike.spike_node_type in first  # the likely cause names the bigger nodes
    assert f"biggest: *{spike.job.name}*" in shown.text
    feedback = st.sb.click(shown.message, JOBS_FEEDBACK_EXPECTED, block_id="item-1.actions")
    assert feedback.status == "ok" and feedback.http_status == 200
    assert any("not stored yet" in t for t in feedback.texts)
