"""Slack mrkdwn text: escaping untrusted text, safe truncation, code blocks, links and dates.

Everything that comes from Databricks (job names, error messages, tags) or from a user is
untrusted: it goes through `escape` so it cannot open a control sequence (`<!channel>`,
`<http://evil|click>`, `<@U…>`). The helpers that *build* control sequences (`link`,
`slack_date`, `user_mention`) escape the parts they are given.
"""

from __future__ import annotations

import re
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


def _escape_url(url: object) -> str:
    # Inside `<…>` a `>` or `|` would end the URL part; percent-encoding keeps it one link.
    return (
        str(url).replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    )
