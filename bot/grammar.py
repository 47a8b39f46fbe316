"""Parsing the text of `/jobs …` into a typed request. Pure: text, now and a timezone in;
a request (or a ParseError that says what to type instead) out.

Forgiving on purpose: names with spaces work unquoted (quotes, also curly ones, are
tolerated), Slack's escaped forms (`<@U…|name>`, `<#C…|name>`, auto-linked names,
`&amp;`) are turned back into what the user typed, and typos get "did you mean".
The result only ever holds strings and numbers: a job name reaches SQL as a bound
parameter, never as text pasted into a statement.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.clock import as_utc
from bot.errors import UserError


@dataclass(frozen=True)
class CommandHelp:
    name: str
    usage: str
    example: str
    summary: str


COMMANDS: tuple[CommandHelp, ...] = (
    CommandHelp("help", "help", "/jobs help", "this list"),
    CommandHelp("failing", "failing [window]", "/jobs failing 24h", "jobs whose latest run failed"),
    CommandHelp("status", "status <job>", "/jobs status nightly sales", "one job in detail"),
    CommandHelp("running", "running", "/jobs running", "runs in progress now"),
    CommandHelp("sla", "sla [job]", "/jobs sla", "SLA state today and the last 7 days"),
    CommandHelp(
        "cost",
        "cost [window] [by job|workspace|sku|owner|tag:KEY]",
        "/jobs cost 7d by workspace",
        "spend vs the previous window",
    ),
    CommandHelp("anomalies", "anomalies", "/jobs anomalies", "cost anomalies and likely causes"),
    CommandHelp("alerts", "alerts", "/jobs alerts", "open alerts, acks and snoozes"),
    CommandHelp("mute", "mute <job> <duration>", "/jobs mute nightly sales 4h", "silence a job"),
    CommandHelp("unmute", "unmute <job>", "/jobs unmute nightly sales", "end a mute"),
)
SUBCOMMANDS: tuple[str, ...] = tuple(c.name for c in COMMANDS)
_ALIASES = {
    "?": "help",
    "-h": "help",
    "--help": "help",
    "failures": "failing",
    "failed": "failing",
    "costs": "cost",
    "anomaly": "anomalies",
    "alert": "alerts",
}
GROUPINGS = ("job", "workspace", "sku", "owner")
WINDOW_EXAMPLES = "`30m`, `6h`, `24h`, `7d`, `30d`, `today` or `yesterday`"
MAX_WINDOW = timedelta(days=365)  # system tables keep about a year
MAX_MUTE = timedelta(days=90)
DEFAULT_WINDOWS = {"failing": "24h", "cost": "7d"}

# One grammar for every span of time in jobs-bot: command windows (`7d`), mute durations, the
# config's durations (`1h30m`) and `jobs-bot query --param window=24h`.
_SPAN_UNIT = r"s|secs?|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|wk|wks|weeks?"
_SPAN_PART_RE = re.compile(rf"(?P<n>\d{{1,5}})\s*(?P<unit>{_SPAN_UNIT})(?![a-z])")
_SPAN_RE = re.compile(rf"(?:\d{{1,5}}\s*(?:{_SPAN_UNIT})(?![a-z])\s*)+")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_QUOTES = "\"'“”‘’«»„"


class ParseError(UserError):
    """Bad command text. `suggestion` is the command we think was meant, if any."""

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion
        self.help = help_text()


@dataclass(frozen=True)
class Window:
    label: str  # as the user wrote it, normalised: "24h", "7d", "today"
    since: datetime  # UTC, inclusive
    until: datetime  # UTC, exclusive

    @property
    def length(self) -> timedelta:
        return self.until - self.since


@dataclass(frozen=True)
class JobArg:
    """A job as the user named it: by id, by workspace_id/job_id, or by (part of) its name."""

    text: str
    job_id: int | None = None
    workspace_id: int | None = None

    @property
    def name(self) -> str | None:
        return None if self.job_id is not None else self.text


@dataclass(frozen=True)
class Grouping:
    kind: str  # job | workspace | sku | owner | tag
    tag_key: str | None = None


@dataclass(frozen=True)
class HelpRequest:
    topic: str | None = None


@dataclass(frozen=True)
class FailingRequest:
    window: Window


@dataclass(frozen=True)
class StatusRequest:
    job: JobArg


@dataclass(frozen=True)
class RunningRequest:
    pass


@dataclass(frozen=True)
class SlaRequest:
    job: JobArg | None = None


@dataclass(frozen=True)
class CostRequest:
    window: Window
    group_by: Grouping = Grouping("job")


@dataclass(frozen=True)
class AnomaliesRequest:
    pass


@dataclass(frozen=True)
class AlertsRequest:
    pass


@dataclass(frozen=True)
class MuteRequest:
    job: JobArg
    duration: timedelta
    until: datetime  # UTC


@dataclass(frozen=True)
class UnmuteRequest:
    job: JobArg


Request = (
    HelpRequest
    | FailingRequest
    | StatusRequest
    | RunningRequest
    | SlaRequest
    | CostRequest
    | AnomaliesRequest
    | AlertsRequest
    | MuteRequest
    | UnmuteRequest
)


def help_text() -> str:
    """Every subcommand with one example, as mrkdwn lines."""
    return "\n".join(f"`{c.example}` — {c.summary}" for c in COMMANDS)


def parse_command(text: str, *, now: datetime, tz: str = "UTC") -> Request:
    """Parse what followed `/jobs` (Slack's `text` field) into a request."""
    cleaned = clean_slack_text(text)
    head, _, rest = cleaned.partition(" ")
    word = head.lower()
    rest = rest.strip()
    if not word:
        return HelpRequest()
    sub = _ALIASES.get(word, word)
    if sub not in SUBCOMMANDS:
        raise _unknown_subcommand(head, rest)
    args = rest.split()
    if sub == "help":
        topic = _ALIASES.get(args[0].lower(), args[0].lower()) if args else None
        return HelpRequest(topic if topic in SUBCOMMANDS else None)
    if sub == "failing":
        _at_most(sub, args, 1)
        return FailingRequest(parse_window(args[0] if args else "24h", now=now, tz=tz))
    if sub == "status":
        return StatusRequest(_required_job(sub, rest))
    if sub == "sla":
        return SlaRequest(parse_job(rest) if rest else None)
    if sub == "cost":
        return _parse_cost(args, now=now, tz=tz)
    if sub == "mute":
        return _parse_mute(rest, now=now)
    if sub == "unmute":
        return UnmuteRequest(_required_job(sub, rest))
    _at_most(sub, args, 0)
    bare: dict[str, type[RunningRequest | AnomaliesRequest | AlertsRequest]] = {
        "running": RunningRequest,
        "anomalies": AnomaliesRequest,
        "alerts": AlertsRequest,
    }
    return bare[sub]()


# Never echoed: C0/C1 control characters (NUL, ESC, backspace…) and the bidirectional marks,
# embeddings, overrides and isolates, which make the rest of a line display in an order other
# than its own (a "Trojan Source" name). Whitespace controls become spaces below instead.
_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def strip_controls(text: str) -> str:
    """`text` without control characters or bidirectional overrides (see _INVISIBLE_RE)."""
    return _INVISIBLE_RE.sub("", text)


def clean_slack_text(text: str | None) -> str:
    """Undo Slack's escaping of command text: mentions, channels, links and `& < >`; drop
    control characters and bidirectional overrides, which must never be echoed back."""
    value = strip_controls((text or "").replace("\u00a0", " ")).strip()

    def control(match: re.Match[str]) -> str:
        body, _, label = match.group(1).partition("|")
        if body.startswith("@"):
            return "@" + (label or body[1:])
        if body.startswith("#"):
            return "#" + (label or body[1:])
        if body.startswith("!"):
            return label or "@" + body[1:].split("^", 1)[0]
        # Slack auto-links words that look like domains (`etl.daily`): the label is what
        # the user typed. A pasted URL comes without a label and is kept whole.
        return label or body

    value = re.sub(r"<([^<>]*)>", control, value)
    value = value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"\s+", " ", value).strip()


def parse_job(text: str) -> JobArg:
    """A job argument: `123`, `1234567890/123`, a Databricks job URL, or a name."""
    value = _unquote(text.strip())
    if not value:
        raise ParseError("Which job? Give its name or id, e.g. `/jobs status nightly_sales`.")
    if value.isdigit():
        return JobArg(value, job_id=int(value))
    pair = re.fullmatch(r"(\d+)\s*/\s*(\d+)", value)
    if pair:
        return JobArg(value, job_id=int(pair.group(2)), workspace_id=int(pair.group(1)))
    url = re.match(r"https?://\S*?/jobs/(\d+)", value)
    if url:
        workspace = re.search(r"[?&]o=(\d+)", value)
        return JobArg(
            value,
            job_id=int(url.group(1)),
            workspace_id=int(workspace.group(1)) if workspace else None,
        )
    return JobArg(value)


def parse_window(text: str, *, now: datetime, tz: str = "UTC") -> Window:
    """`30m`, `6h`, `7d`, `2w`, `today` (since local midnight), `yesterday` (the local day)."""
    word = _unquote(text.strip()).lower()
    now = as_utc(now)
    zone = ZoneInfo(tz)
    if word == "today":
        return Window("today", _local_midnight(now.astimezone(zone).date(), zone), now)
    if word == "yesterday":
        today = now.astimezone(zone).date()
        return Window(
            "yesterday",
            _local_midnight(today - timedelta(days=1), zone),
            _local_midnight(today, zone),
        )
    span = parse_span(word)
    if span is None:
        raise ParseError(f"`{text}` is not a time window. Try {WINDOW_EXAMPLES}.")
    if span > MAX_WINDOW:
        raise ParseError(f"`{text}` is longer than the system tables keep (365 days).")
    return Window(span_label(word), now - span, now)


def parse_span(text: str) -> timedelta | None:
    """`30m`, `6h`, `7d`, `2w`, `1h30m` (also `6 hours`) as a positive timedelta, else None."""
    word = text.strip().lower()
    if not _SPAN_RE.fullmatch(word):
        return None
    seconds = sum(
        int(m.group("n")) * _UNIT_SECONDS[m.group("unit")[0]] for m in _SPAN_PART_RE.finditer(word)
    )
    return timedelta(seconds=seconds) if seconds > 0 else None


def span_label(text: str) -> str:
    """The normalised spelling of a span: `6 hours` → `6h`, `1 h 30 min` → `1h30m`."""
    return "".join(
        f"{int(m.group('n'))}{m.group('unit')[0]}"
        for m in _SPAN_PART_RE.finditer(text.strip().lower())
    )


def _parse_cost(args: list[str], *, now: datetime, tz: str) -> CostRequest:
    window_words: list[str] = []
    grouping: Grouping | None = None
    i = 0
    while i < len(args):
        word = args[i]
        if word.lower() == "by":
            if i + 1 >= len(args):
                raise ParseError("`by` what? Try `/jobs cost 7d by workspace`.")
            grouping = _parse_grouping(args[i + 1])
            i += 2
            continue
        if word.lower() in GROUPINGS or word.lower().startswith("tag:"):
            grouping = _parse_grouping(word)
        else:
            window_words.append(word)
        i += 1
    if len(window_words) > 1:
        raise ParseError(
            f"I read `{' '.join(window_words)}` as more than one window. "
            f"Give one, e.g. `/jobs cost 30d by sku`."
        )
    window = parse_window(window_words[0] if window_words else "7d", now=now, tz=tz)
    return CostRequest(window, grouping or Grouping("job"))


def _parse_grouping(word: str) -> Grouping:
    value = word.strip().lower()
    if value in GROUPINGS:
        return Grouping(value)
    if value.startswith("tag:"):
        key = word.strip()[4:]
        if not key:
            raise ParseError("Which tag? e.g. `/jobs cost 7d by tag:team`.")
        return Grouping("tag", key)
    close = difflib.get_close_matches(value, GROUPINGS, n=1, cutoff=0.75)
    if close:
        raise ParseError(
            f"I can't group by `{word}`. Did you mean `by {close[0]}`?",
            suggestion=f"by {close[0]}",
        )
    # Anything else is read as a tag key, so `by team` works like `by tag:team`.
    return Grouping("tag", word.strip())


def _parse_mute(rest: str, *, now: datetime) -> MuteRequest:
    words = rest.split()
    if len(words) >= 2 and words[-2].lower() == "for":
        words = [*words[:-2], words[-1]]
    span = parse_span(words[-1]) if words else None
    if span is None or len(words) < 2:
        raise ParseError(
            "Say which job and for how long, e.g. `/jobs mute nightly sales 4h` "
            "(durations like `30m`, `4h`, `2d`)."
        )
    if span > MAX_MUTE:
        raise ParseError("A mute can last at most 90 days; use `unmute` to end one early.")
    return MuteRequest(parse_job(" ".join(words[:-1])), span, as_utc(now) + span)


def _required_job(sub: str, rest: str) -> JobArg:
    if not rest:
        usage = next(c for c in COMMANDS if c.name == sub)
        raise ParseError(f"Which job? e.g. `{usage.example}`.")
    return parse_job(rest)


def _at_most(sub: str, args: list[str], count: int) -> None:
    if len(args) > count:
        usage = next(c for c in COMMANDS if c.name == sub)
        raise ParseError(
            f"I didn't understand `{' '.join(args[count:])}`. Usage: `/jobs {usage.usage}`, "
            f"e.g. `{usage.example}`.",
            suggestion=f"/jobs {sub}",
        )


def _unknown_subcommand(head: str, rest: str) -> ParseError:
    close = difflib.get_close_matches(head.lower(), [*SUBCOMMANDS, *_ALIASES], n=1, cutoff=0.6)
    tail = f" {rest}" if rest else ""
    if close:
        suggestion = f"/jobs {_ALIASES.get(close[0], close[0])}{tail}"
        return ParseError(
            f"I don't know `/jobs {head}`. Did you mean `{suggestion}`?", suggestion=suggestion
        )
    # No subcommand looks like it. One word that reads like a job name (snake_case, digits,
    # dashes) was most likely typed straight after /jobs; plain words ("make me a sandwich")
    # are not a job, and suggesting `status make me a sandwich` would be silly.
    if not rest and re.search(r"[_\-\d]", head):
        suggestion = f"/jobs status {head}"
        return ParseError(
            f"I don't know `/jobs {head}`. To look up a job, try `{suggestion}`.",
            suggestion=suggestion,
        )
    return ParseError(f"I don't know `/jobs {head}{tail}`.")


def _unquote(value: str) -> str:
    # Only a surrounding pair (straight or curly, as phones and macOS type them): a lone
    # quote may belong to the name, e.g. `'; DROP TABLE x; --` is looked up as it is.
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] in _QUOTES:
        return value[1:-1].strip()
    return value


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return as_utc(datetime.combine(day, time(0), tzinfo=zone))
