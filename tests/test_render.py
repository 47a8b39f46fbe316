"""Renderer: filters, the injection rules, Block Kit limits and the "…and N more" cut."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2
import pytest

from bot.clock import FixedClock
from bot.render import Renderer, default_templates_dir, formatting, mrkdwn
from bot.render.limits import RenderError, cut_items, enforce
from bot.slack.blocks_check import problems

HERE = Path(__file__).parent / "templates"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EVIL = "<!channel> *boom* <http://evil|click> &amp;"


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(HERE, tz="Europe/Amsterdam", clock=FixedClock(NOW))


def _job(i: int, name: str | None = None, error: str = "boom") -> dict:
    return {
        "name": name or f"job_{i}",
        "when": NOW - timedelta(minutes=5),
        "error": error,
        "value": json.dumps({"v": 1, "j": i}),
    }


def _render_list(renderer: Renderer, jobs: list[dict]) -> dict:
    return renderer.render(
        "failing_list.json.j2",
        jobs=jobs,
        title="Failing",
        cost=1234.5,
        change=0.12,
        trend=[1, 2, None, 4],
    )


def _all_text(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


# --- injection -------------------------------------------------------------------------


def test_job_name_with_control_sequences_renders_literally_and_pings_no_one(renderer):
    msg = _render_list(renderer, [_job(1, name=EVIL)])
    section = msg["blocks"][1]["text"]["text"]
    assert section.startswith("*&lt;!channel&gt; *boom* &lt;http://evil|click&gt; &amp;amp;*")
    assert "<!channel>" not in _all_text(msg)
    assert "<http://evil" not in _all_text(msg)
    assert problems(msg) == []


def test_tojson_does_not_hide_angle_brackets_as_unicode_escapes(renderer):
    # Jinja's built-in tojson would emit \u003c!channel\u003e, which decodes to a live ping.
    out = renderer.env.from_string("{{ x | tojson }}").render(x="<!channel> & >")
    assert out == '"<!channel> & >"'
    builtin = jinja2.Environment().from_string("{{ x | tojson }}").render(x="<!channel>")
    assert "\\u003c" in builtin and json.loads(builtin) == "<!channel>"


def test_a_template_that_forgets_mrkdwn_still_pings_no_one(renderer):
    msg = renderer.render("raw.json.j2", message={"text": "hi <!here|here> and <!everyone>"})
    assert msg["text"] == "hi &lt;!here|here&gt; and &lt;!everyone&gt;"


def test_mrkdwn_text_objects_default_to_verbatim_so_plain_at_channel_stays_text(renderer):
    # "@channel" has no < > to escape; verbatim stops Slack's automatic parsing of it.
    msg = _render_list(renderer, [_job(1, name="@channel #general http://x.io")])
    assert msg["blocks"][1]["text"]["verbatim"] is True
    assert msg["blocks"][-1]["elements"][0]["verbatim"] is True
    opted_out = enforce(
        {
            "text": "x",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "a", "verbatim": False}}
            ],
        }
    )
    assert opted_out["blocks"][0]["text"]["verbatim"] is False
    assert problems(msg) == []


def test_backticks_in_an_error_cannot_close_the_code_block(renderer):
    error = "SyntaxError near ```DROP``` and `x` <@U123>"
    msg = _render_list(renderer, [_job(1, error=error)])
    text = msg["blocks"][1]["text"]["text"]
    code = text[text.index("```") :]
    assert code.startswith("```") and code.endswith("```")
    assert code.count("```") == 2  # only the opening and closing fences
    assert "`x`" in code and "&lt;@U123&gt;" in code and "<@U123>" not in code


def test_sql_looking_name_is_just_text(renderer):
    name = "'; DROP TABLE x; --"
    msg = _render_list(renderer, [_job(1, name=name)])
    assert msg["blocks"][1]["text"]["text"].startswith("*'; DROP TABLE x; --*")


# --- limits ----------------------------------------------------------------------------


def test_long_list_is_cut_to_50_blocks_with_and_n_more(renderer):
    msg = _render_list(renderer, [_job(i) for i in range(1, 61)])
    blocks = msg["blocks"]
    # header + footer are fixed; each job is 2 blocks; 49 leave room for 23 jobs (2+46=48).
    assert len(blocks) == 49
    assert blocks[-3]["block_id"] == "item-23.actions"
    assert blocks[-2]["elements"][0]["text"] == "…and 37 more"
    assert blocks[-1]["block_id"] == "footer"
    assert problems(msg) == []


def test_list_that_fits_is_untouched(renderer):
    msg = _render_list(renderer, [_job(i) for i in range(1, 25)])  # 2 + 48 = 50 blocks
    assert len(msg["blocks"]) == 50
    assert all("more" not in (b.get("block_id") or "") for b in msg["blocks"])


def test_fixed_blocks_beyond_the_limit_are_cut_rather_than_rejected():
    blocks = [{"type": "divider"} for _ in range(60)]
    out = cut_items(blocks)
    assert len(out) == 50 and out[-1]["elements"][0]["text"] == "…and 11 more"


def test_text_limits_are_applied():
    msg = enforce(
        {
            "text": "t" * 40_010,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "h" * 200}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "a &amp; " * 500},
                    "fields": [{"type": "mrkdwn", "text": "f" * 2500} for _ in range(12)],
                },
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 12},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": f"a{i}",
                            "text": {"type": "plain_text", "text": "b" * 90},
                            "value": "v",
                        }
                        for i in range(30)
                    ],
                },
            ],
        }
    )
    header, section, context, actions = msg["blocks"]
    assert len(msg["text"]) == 40_000 and msg["text"].endswith("…")
    assert len(header["text"]["text"]) == 150
    assert len(section["text"]["text"]) <= 3000
    assert section["text"]["text"].endswith("&amp;…")  # never half an entity
    assert len(section["fields"]) == 10 and all(len(f["text"]) == 2000 for f in section["fields"])
    assert len(context["elements"]) == 10
    assert len(actions["elements"]) == 25
    assert all(len(b["text"]["text"]) == 75 for b in actions["elements"])
    assert problems(msg) == []


def test_the_slack_sdk_check_catches_what_enforce_would_fix():
    raw = {
        "text": "x",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
    }
    assert problems(raw) and problems(enforce(raw)) == []
    assert problems({"blocks": []}) == ["missing top-level text fallback"]
    assert "unknown block" in problems({"text": "x", "blocks": [{"type": "nope"}]})[0]


def test_missing_fallback_text_is_a_render_error(renderer):
    with pytest.raises(RenderError, match="fallback"):
        renderer.render("raw.json.j2", message={"blocks": []})


def test_button_value_over_2000_is_an_error_not_a_silent_cut(renderer):
    with pytest.raises(RenderError, match="button value"):
        _render_list(renderer, [{**_job(1), "value": "x" * 2001}])


def test_undefined_variables_fail_loudly(renderer):
    with pytest.raises(jinja2.UndefinedError):
        renderer.render("missing_var.json.j2")


def test_invalid_json_names_the_template_and_line(renderer):
    with pytest.raises(RenderError, match=r"broken\.json\.j2.*line 3"):
        renderer.render("broken.json.j2")


def test_unknown_template_is_a_render_error(renderer):
    with pytest.raises(RenderError, match="no template"):
        renderer.render("nope.json.j2")


def test_default_templates_folder_is_the_repo_one():
    assert default_templates_dir() == Path(__file__).resolve().parents[1] / "templates"


# --- filters ---------------------------------------------------------------------------


def test_filters_in_a_rendered_message(renderer):
    msg = _render_list(renderer, [_job(1)])
    section = msg["blocks"][1]["text"]["text"]
    # Sparkline [1, 2, None, 4]: 2 sits at (2-1)/(4-1)·7 = 2.33 → index 2 (▃); None is a gap.
    # 07:55 UTC on 2 March 2026 is 08:55 CET in Amsterdam.
    assert "<!date^1772438100^{date_short_pretty} at {time}|2026-03-02 08:55 CET>" in section
    assert "(5m ago)" in section
    assert msg["blocks"][-1]["elements"][0]["text"] == "Cost $1,234.50 ▲ +12% ▁▃ █"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (42, "42s"),
        (59.6, "1m 00s"),
        (185, "3m 05s"),
        (3720, "1h 02m"),
        (86399, "23h 59m"),
        (2 * 86400 + 3 * 3600 + 59, "2d 3h"),
        (timedelta(minutes=90), "1h 30m"),
        (None, "—"),
        (-5, "0s"),
    ],
)
def test_duration(seconds, text):
    assert formatting.duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (1234.56, {}, "$1,234.56"),
        (0.42, {}, "$0.42"),
        (0.004, {}, "$0.00"),
        (-3, {}, "−$3.00"),
        (12, {"currency": "EUR"}, "€12.00"),
        (5, {"currency": "chf"}, "CHF 5.00"),
        (1234567.891, {"decimals": 0}, "$1,234,568"),
        (None, {}, "—"),
    ],
)
def test_money(value, kwargs, text):
    assert formatting.money(value, **kwargs) == text


@pytest.mark.parametrize(
    ("value", "arrow", "text"),
    [
        (0.12, False, "+12%"),
        (-0.08, False, "−8%"),
        (0.035, False, "+3.5%"),
        (0.0001, False, "0%"),
        (2.5, True, "▲ +250%"),
        (-0.5, True, "▼ −50%"),
        (0.0, True, "• 0%"),
        (None, False, "new"),
    ],
)
def test_pct(value, arrow, text):
    assert formatting.pct(value, arrow=arrow) == text


def test_ago_and_relative():
    assert formatting.ago(NOW - timedelta(seconds=10), NOW) == "just now"
    assert formatting.ago(NOW - timedelta(minutes=5, seconds=20), NOW) == "5m ago"
    assert formatting.ago(NOW - timedelta(hours=3, minutes=50), NOW) == "3h ago"
    assert formatting.ago(NOW - timedelta(days=2, hours=5), NOW) == "2d ago"
    assert formatting.ago(NOW + timedelta(hours=2), NOW) == "in 2h"
    assert formatting.ago(datetime(2026, 3, 2, 7, 0), NOW) == "1h ago"  # naive = UTC


def test_sparkline():
    assert formatting.sparkline([0, 7, 14]) == "▁▅█"
    assert formatting.sparkline([1, None, 8]) == "▁ █"
    assert formatting.sparkline([5, 5, 5]) == "▄▄▄"
    assert formatting.sparkline([0, 0]) == "▁▁"
    assert formatting.sparkline([]) == ""
    assert formatting.sparkline([None, None]) == "  "


def test_mrkdwn_escapes_exactly_three_characters():
    assert mrkdwn.escape("a & b < c > d \"q\" 'x' *b* _i_ `c`") == (
        "a &amp; b &lt; c &gt; d \"q\" 'x' *b* _i_ `c`"
    )
    assert mrkdwn.escape(None) == ""


def test_truncate_never_splits_an_entity_or_a_link():
    assert mrkdwn.truncate_text("short", 10) == "short"
    assert mrkdwn.truncate_text("a &amp; b", 5) == "a…"
    assert mrkdwn.truncate_text("see <http://x|y> now", 10) == "see…"
    assert mrkdwn.truncate_text("abcdef", 4) == "abc…"
    assert len(mrkdwn.truncate_text("x" * 5000, 3000)) == 3000


def test_link_and_mention_escape_their_parts():
    assert (
        mrkdwn.link("https://h/jobs/1?a=1&b=2", "<b>|x")
        == "<https://h/jobs/1?a=1&amp;b=2|&lt;b&gt;¦x>"
    )
    assert mrkdwn.link(None, "name") == "name"
    assert mrkdwn.user_mention("U012AB3CD") == "<@U012AB3CD>"
    assert mrkdwn.user_mention("<!channel>") == "&lt;!channel&gt;"


def test_slack_date_fallback_uses_the_configured_timezone_across_dst():
    summer = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
    assert mrkdwn.slack_date(summer, "Europe/Amsterdam").endswith("|2026-07-01 07:00 CEST>")
    assert mrkdwn.slack_date(None) == ""
