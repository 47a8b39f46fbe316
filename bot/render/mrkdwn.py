"""Slack mrkdwn text: escaping untrusted text, safe truncation, code blocks, links and dates.

Everything that comes from Databricks (job names, error messages, tags) or from a user is
untrusted: it goes through `escape` so it cannot open a control sequence (`<!channel>`,
`<http://evil|click>`, `<@U…>`). The helpers that *build* control sequences (`link`,
`slack_date`, `slack_time`, `user_mention`, `with_times`) escape the parts they are given.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import as_utc

ELLIPSIS = "…"

# Slack asks for exactly these three and nothing else: escaping more (quotes, apostrophes)
# would show up literally as `&quot;` in the message.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPE_RE = re.compile("[&<>]")

# A cut must not land inside an entity (`&am…`) or a control sequence (`<https://…`), which
# would leave a broken escape or an unterminated link in the message.
_ENTITY_TAIL_RE = re.compile(r"&[a-zA-Z#0-9]{0,8}$")


def escape(value: object) -> str:
    """Escape `&`, `<` and `>` for mrkdwn and plain_text; None becomes an empty string."""
    if value is None:
        return ""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], str(value))


def truncate_text(value: object, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """Cut `value` to at most `limit` characters, ending with `ellipsis` when cut.

    Never cuts inside an `&…;` entity or a `<…>` control sequence: the cut moves back to
    just before it, so an escaped name stays escaped and a link is dropped whole.
    """
    text = "" if value is None else str(value)
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[:limit]
    head = text[: limit - len(ellipsis)]
    opened, closed = head.rfind("<"), head.rfind(">")
    if opened > closed:
        head = head[:opened]
    entity = _ENTITY_TAIL_RE.search(head)
    if entity:
        head = head[: entity.start()]
    return head.rstrip() + ellipsis


def codeblock(value: object, limit: int = 1500) -> str:
    """Untrusted text as a ``` block: escaped, cut to `limit`, and unable to close the fence.

    mrkdwn has no escape for backticks; a zero-width space between them keeps an error
    message that contains ``` from ending the block early. Nothing else is changed.
    """
    body = truncate_text(escape(value), limit).replace("```", "`\u200b`\u200b`")
    if body.endswith("`"):
        body += "\u200b"
    return f"```{body}```" if body else ""


def link(url: object, label: object) -> str:
    """`<url|label>` with an escaped label; a missing url gives just the label."""
    text = escape(label).replace("|", "¦")
    if not url:
        return text
    return f"<{_escape_url(url)}|{text}>" if text else f"<{_escape_url(url)}>"


def user_mention(user_id: object) -> str:
    """`<@U…>` for a Slack user id; anything that is not an id is shown escaped instead."""
    text = "" if user_id is None else str(user_id)
    if re.fullmatch(r"[UW][A-Z0-9]{2,20}", text):
        return f"<@{text}>"
    return escape(text)


def slack_date(
    value: datetime | None,
    tz: str = "UTC",
    token: str = "{date_short_pretty} at {time}",
    fallback_format: str = "%Y-%m-%d %H:%M %Z",
) -> str:
    """`<!date^EPOCH^{date_short_pretty} at {time}|fallback>`: each reader's local time.

    The fallback (shown where Slack cannot format dates, e.g. notifications) is the
    instant in the configured timezone. Naive datetimes are UTC, like the system tables.
    """
    if value is None:
        return ""
    instant = as_utc(value)
    local = instant.astimezone(ZoneInfo(tz))
    fallback = escape(local.strftime(fallback_format)).replace("|", "¦")
    return f"<!date^{int(instant.timestamp())}^{token}|{fallback}>"


def slack_time(value: datetime | None, tz: str = "UTC", today: datetime | None = None) -> str:
    """A time of day for mrkdwn: `<!date^EPOCH^{time}|07:00 CET>`, shown in each reader's
    zone; the fallback is the time in `tz` with its zone, so it is never ambiguous. With
    `today` (an instant of the day meant), an instant on another day in `tz` also gets its
    date: `<!date^EPOCH^{date_short_pretty} at {time}|Sun 01 Mar 22:14 CET>`."""
    if value is None:
        return ""
    zone = ZoneInfo(tz)
    if today is not None and (
        as_utc(value).astimezone(zone).date() != as_utc(today).astimezone(zone).date()
    ):
        return slack_date(value, tz, "{date_short_pretty} at {time}", "%a %d %b %H:%M %Z")
    return slack_date(value, tz, "{time}", "%H:%M %Z")


def with_times(
    phrase: Callable[[Callable[[datetime], str]], str],
    tz: str = "UTC",
    today: datetime | None = None,
) -> str:
    """A sentence as mrkdwn whose instants are Slack times (`slack_time`) and the rest escaped.

    `phrase` builds the sentence, writing each instant with the function it is given. The
    instants go in as placeholders that `escape` leaves alone (a NUL, a per-call nonce and an
    index, which no text in the sentence can forge), so the sentence is escaped whole and
    only then gets its date sequences."""
    nonce = secrets.token_hex(8)
    times: list[str] = []

    def mark(instant: datetime) -> str:
        times.append(slack_time(instant, tz, today))
        return f"\x00{nonce}:{len(times) - 1}\x00"

    text = escape(phrase(mark))
    text = re.sub(f"\x00{nonce}:(\\d+)\x00", lambda m: times[int(m.group(1))], text)
    return text.replace("\x00", "")


def _escape_url(url: object) -> str:
    # Inside `<…>` a `>` or `|` would end the URL part; percent-encoding keeps it one link.
    return (
        str(url).replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    )
