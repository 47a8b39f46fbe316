"""The sandbox page's mrkdwn renderer (static/mrkdwn.js), run in Debian's Chromium.

The renderer is loaded into a blank page on its own, so these checks need no server: they
assert what a person would see (bold text, a literal "<!channel>", a formatted date).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "sandbox" / "slack" / "static"

pytestmark = pytest.mark.browser

# A workspace for mentions; Maps are what app.js hands the renderer.
CTX_JS = """
  const ctx = {
    users: new Map([["U1", {id: "U1", name: "alice", real_name: "Alice Doe", display_name: "alice"}]]),
    channels: new Map([["C1", {id: "C1", name: "data-alerts"}]]),
    usergroups: new Map([["S1", {id: "S1", handle: "data-oncall"}]]),
    locale: "en-US",
    now: new Date(Date.UTC(2014, 1, 18, 20, 0, 0)),
  };
"""


@pytest.fixture(scope="module")
def page(browser) -> Iterator[object]:
    context = browser.new_context(locale="en-US", timezone_id="UTC")
    pg = context.new_page()
    pg.set_content("<!doctype html><html><body><div id='out'></div></body></html>")
    pg.add_script_tag(path=str(STATIC / "mrkdwn.js"))
    yield pg
    context.close()


def render(page, text: str) -> dict:
    """Renders text into #out and returns what is on screen plus a few structural facts."""
    return page.evaluate(
        """(text) => {"""
        + CTX_JS
        + """
          const out = document.getElementById("out");
          out.replaceChildren(SlackMrkdwn.render(text, ctx));
          const all = (sel) => [...out.querySelectorAll(sel)].map((e) => e.textContent);
          return {
            text: out.textContent.replace(/\\u202f/g, " "),
            bold: all("b"), italic: all("i"), strike: all("s"), code: all("code"),
            pre: all("pre"), quote: all("blockquote"), mention: all(".mention"),
            broadcast: all(".mention.broadcast"), br: out.querySelectorAll("br").length,
            links: [...out.querySelectorAll("a.link")].map((a) => [a.getAttribute("href"), a.textContent]),
            hrefs: [...out.querySelectorAll("[href]")].map((a) => a.getAttribute("href")),
            elements: [...out.querySelectorAll("*")].map((e) => e.tagName.toLowerCase()),
          };
        }""",
        text,
    )


def test_emphasis_renders_as_bold_italic_strike_and_code(page) -> None:
    r = render(page, "*Failed* _nightly_ ~old~ `exit 1`")
    assert r["bold"] == ["Failed"]
    assert r["italic"] == ["nightly"]
    assert r["strike"] == ["old"]
    assert r["code"] == ["exit 1"]
    assert r["text"] == "Failed nightly old exit 1"


def test_underscores_inside_job_names_stay_literal(page) -> None:
    r = render(page, "job nightly_sales_v2 and a*b*c")
    assert r["italic"] == [] and r["bold"] == []
    assert r["text"] == "job nightly_sales_v2 and a*b*c"


def test_escaped_broadcast_shows_literally_and_is_decoded_once(page) -> None:
    r = render(page, "&lt;!channel&gt; &amp;lt;b&amp;gt; A &amp; B")
    assert r["text"] == "<!channel> &lt;b&gt; A & B"
    assert r["broadcast"] == [] and r["mention"] == []
    assert r["elements"] == ["div", "span"]


def test_real_broadcasts_and_mentions_resolve_to_names(page) -> None:
    r = render(page, "<!here> <!channel> <@U1> <@U9|bob> <#C1> <!subteam^S1|@old-handle>")
    assert r["broadcast"] == ["@here", "@channel"]
    assert r["mention"] == ["@here", "@channel", "@alice", "@bob", "#data-alerts", "@data-oncall"]


def test_text_that_looks_like_html_never_becomes_markup(page) -> None:
    r = render(page, '&lt;img src=x onerror="alert(1)"&gt; <javascript:alert(1)|click me>')
    assert "img" not in r["elements"]
    assert r["hrefs"] == []
    assert r["text"] == '<img src=x onerror="alert(1)"> click me'


def test_links_keep_their_label_and_decoded_url(page) -> None:
    r = render(page, "<https://x.test/run?a=1&amp;b=2|run 42> and <https://x.test/plain>")
    assert r["links"] == [
        ["https://x.test/run?a=1&b=2", "run 42"],
        ["https://x.test/plain", "https://x.test/plain"],
    ]


def test_date_tokens_format_in_the_viewers_locale_and_zone(page) -> None:
    # 1392734382 is 2014-02-18 14:39:42 UTC; the page's zone is UTC and locale en-US.
    r = render(page, "<!date^1392734382^{date_num} {date_short} at {time}|Feb 18, 2014>")
    assert r["text"] == "2014-02-18 Feb 18, 2014 at 2:39 PM"
    r = render(page, "<!date^1392734382^{date_long} {time_secs}|x>")
    assert r["text"] == "Tuesday, February 18, 2014 2:39:42 PM"
    r = render(page, "<!date^1392734382^{date}|x>")
    assert r["text"] == "February 18, 2014"


def test_pretty_dates_say_today_and_yesterday(page) -> None:
    # ctx.now is 2014-02-18 20:00 UTC.
    # A token opening the format is capitalised, one inside a sentence is not.
    r = render(
        page, "<!date^1392734382^{date_pretty}|x>, <!date^1392648000^since {date_short_pretty}|x>"
    )
    assert r["text"] == "Today, since yesterday"
    r = render(page, "<!date^1300000000^{date_long_pretty}|x>")
    assert r["text"] == "Sunday, March 13, 2011"


def test_unknown_date_token_falls_back(page) -> None:
    r = render(page, "<!date^1392734382^{nonsense}|at some point>")
    assert r["text"] == "at some point"


def test_code_blocks_quotes_and_newlines(page) -> None:
    r = render(page, "first\nsecond\n> quoted *line*\n```\n*not bold* &lt;x&gt;\n```\nafter")
    assert r["pre"] == ["*not bold* <x>\n"]
    assert r["quote"] == ["quoted line"]
    assert r["bold"] == ["line"]
    assert r["br"] == 1
    assert r["text"].endswith("after")


def test_emoji_shortcodes_map_to_characters(page) -> None:
    r = render(page, ":white_check_mark: :x: :rotating_light: :no_such_emoji:")
    assert r["text"] == "\u2705 \u274c \U0001f6a8 :no_such_emoji:"
