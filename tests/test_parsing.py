"""`/jobs` command text → typed requests: windows, job arguments, Slack escapes, typos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UserError
from bot.grammar import (
    AlertsRequest,
    AnomaliesRequest,
    CostRequest,
    FailingRequest,
    Grouping,
    HelpRequest,
    JobArg,
    MuteRequest,
    ParseError,
    RunningRequest,
    SlaRequest,
    StatusRequest,
    UnmuteRequest,
    clean_slack_text,
    help_text,
    parse_command,
    parse_window,
)

# Monday 2 March 2026, 09:30 in Amsterdam (CET, UTC+1).
NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
AMS = "Europe/Amsterdam"


def parse(text: str, tz: str = AMS):
    return parse_command(text, now=NOW, tz=tz)


def test_empty_and_help():
    assert parse("") == HelpRequest()
    assert parse("   ") == HelpRequest()
    assert parse("help") == HelpRequest()
    assert parse("HELP cost") == HelpRequest("cost")
    assert parse("?") == HelpRequest()


def test_help_lists_every_subcommand_with_an_example():
    text = help_text()
    for sub in ("help", "failing", "status", "running", "sla", "cost", "anomalies", "alerts"):
        assert f"`/jobs {sub}" in text
    assert "`/jobs mute " in text and "`/jobs unmute " in text


def test_failing_defaults_to_24h_and_takes_a_window():
    req = parse("failing")
    assert isinstance(req, FailingRequest)
    assert req.window.label == "24h"
    assert req.window.since == NOW - timedelta(hours=24) and req.window.until == NOW
    assert parse("failing 7d").window.since == NOW - timedelta(days=7)
    assert parse("Failing 30m").window.since == NOW - timedelta(minutes=30)


@pytest.mark.parametrize(
    ("word", "hours"),
    [("30m", 0.5), ("6h", 6), ("24h", 24), ("7d", 168), ("30d", 720), ("2w", 336)],
)
def test_relative_windows(word, hours):
    window = parse_window(word, now=NOW, tz=AMS)
    assert window.until == NOW
    assert window.length == timedelta(hours=hours)
    assert window.label == word


def test_today_starts_at_local_midnight():
    window = parse_window("today", now=NOW, tz=AMS)
    assert window.since == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)  # 00:00 CET
    assert window.until == NOW


def test_yesterday_is_the_whole_local_day():
    window = parse_window("yesterday", now=NOW, tz=AMS)
    assert window.since == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert window.until == datetime(2026, 3, 1, 23, 0, tzinfo=UTC)


def test_yesterday_across_the_spring_dst_change_is_23_hours():
    # 29 March 2026: Amsterdam goes from CET to CEST; that local day has 23 hours.
    now = datetime(2026, 3, 30, 10, 0, tzinfo=UTC)
    window = parse_window("yesterday", now=now, tz=AMS)
    assert window.since == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert window.until == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert window.length == timedelta(hours=23)


def test_today_in_utc_and_far_timezones():
    assert parse_window("today", now=NOW, tz="UTC").since == datetime(2026, 3, 2, tzinfo=UTC)
    # 08:30 UTC is still 1 March in Los Angeles (PST, UTC-8): midnight there is 08:00 UTC.
    la = parse_window("today", now=NOW, tz="America/Los_Angeles")
    assert la.since == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("word", ["0h", "7x", "fortnight", "-3d", "1.5h", "400d"])
def test_bad_windows_explain_with_examples(word):
    with pytest.raises(ParseError) as err:
        parse(f"failing {word}")
    assert f"`{word}`" in err.value.message
    if word != "400d":
        assert "`24h`" in err.value.message and "`today`" in err.value.message


def test_status_by_id_pair_url_and_name():
    assert parse("status 123") == StatusRequest(JobArg("123", job_id=123))
    assert parse("status 1234567890/42") == StatusRequest(
        JobArg("1234567890/42", job_id=42, workspace_id=1234567890)
    )
    url = parse("status <https://adb-1.azuredatabricks.net/jobs/77/runs/9?o=555>")
    assert url.job.job_id == 77 and url.job.workspace_id == 555
    assert parse("status nightly sales load") == StatusRequest(JobArg("nightly sales load"))
    assert parse("status   nightly   sales ").job.name == "nightly sales"


@pytest.mark.parametrize(
    "text",
    [
        'status "nightly sales"',
        "status 'nightly sales'",
        "status “nightly sales”",
    ],
)
def test_quotes_are_tolerated(text):
    assert parse(text).job == JobArg("nightly sales")


def test_status_needs_a_job():
    with pytest.raises(ParseError, match="Which job"):
        parse("status")


def test_slack_escapes_are_undone():
    assert clean_slack_text("status <@U012AB3CD|ana>") == "status @ana"
    assert clean_slack_text("status <#C012AB3CD|data-eng>") == "status #data-eng"
    assert clean_slack_text("status <!subteam^S1|@oncall>") == "status @oncall"
    assert clean_slack_text("status <http://etl.daily|etl.daily>") == "status etl.daily"
    assert clean_slack_text("status sales &amp; marketing") == "status sales & marketing"
    assert clean_slack_text("status a&lt;b&gt;") == "status a<b>"
    assert parse("status <http://etl.daily|etl.daily>").job.name == "etl.daily"


def test_injection_looking_names_are_just_strings():
    req = parse("status '; DROP TABLE x; --")
    assert req.job == JobArg("'; DROP TABLE x; --")
    evil = parse("status &lt;!channel&gt; *boom* &amp;amp;")
    assert evil.job.name == "<!channel> *boom* &amp;"


def test_unicode_names():
    assert parse("status nächtlicher Export 📈").job.name == "nächtlicher Export 📈"


def test_running_anomalies_alerts():
    assert parse("running") == RunningRequest()
    assert parse("anomalies") == AnomaliesRequest()
    assert parse("anomaly") == AnomaliesRequest()
    assert parse("alerts") == AlertsRequest()
    with pytest.raises(ParseError, match="Usage: `/jobs running`"):
        parse("running now please")


def test_sla_with_and_without_job():
    assert parse("sla") == SlaRequest(None)
    assert parse("sla nightly sales") == SlaRequest(JobArg("nightly sales"))


@pytest.mark.parametrize(
    ("text", "label", "grouping"),
    [
        ("cost", "7d", Grouping("job")),
        ("cost 30d", "30d", Grouping("job")),
        ("cost 7d by workspace", "7d", Grouping("workspace")),
        ("cost by sku 30d", "30d", Grouping("sku")),
        ("cost yesterday by owner", "yesterday", Grouping("owner")),
        ("cost 7d by tag:team", "7d", Grouping("tag", "team")),
        ("cost 7d by tag:Cost-Center", "7d", Grouping("tag", "Cost-Center")),
        ("cost 7d sku", "7d", Grouping("sku")),
        ("cost 7d by team", "7d", Grouping("tag", "team")),  # unknown grouping = tag key
    ],
)
def test_cost(text, label, grouping):
    req = parse(text)
    assert isinstance(req, CostRequest)
    assert req.window.label == label and req.group_by == grouping


def test_cost_grouping_typo_suggests_the_right_one():
    with pytest.raises(ParseError) as err:
        parse("cost 7d by workspce")
    assert err.value.suggestion == "by workspace"
    with pytest.raises(ParseError, match="Which tag"):
        parse("cost by tag:")
    with pytest.raises(ParseError, match="more than one window"):
        parse("cost 7d 30d")


def test_mute_and_unmute():
    req = parse("mute nightly sales 4h")
    assert req == MuteRequest(JobArg("nightly sales"), timedelta(hours=4), NOW + timedelta(hours=4))
    assert parse("mute 123 for 2d").duration == timedelta(days=2)
    assert parse("unmute nightly sales") == UnmuteRequest(JobArg("nightly sales"))
    for bad in ("mute", "mute nightly", "mute 4h", "mute nightly sales forever"):
        with pytest.raises(ParseError, match="how long"):
            parse(bad)
    with pytest.raises(ParseError, match="90 days"):
        parse("mute x 100d")


def test_unknown_subcommand_suggests_the_closest_with_help():
    with pytest.raises(ParseError) as err:
        parse("statsu nightly sales")
    assert err.value.suggestion == "/jobs status nightly sales"
    assert "did you mean `/jobs status nightly sales`?" in err.value.message.lower()
    assert "/jobs failing" in err.value.help
    with pytest.raises(ParseError) as err:
        parse("falling 7d")
    assert err.value.suggestion == "/jobs failing 7d"


def test_a_bare_job_name_suggests_status():
    with pytest.raises(ParseError) as err:
        parse("nightly_sales")
    assert err.value.suggestion == "/jobs status nightly_sales"


def test_parse_errors_are_user_errors():
    assert issubclass(ParseError, UserError)
