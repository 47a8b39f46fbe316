"""CommandService on a generated demo account and on hand-built rows: what each /jobs answer
says, its edge cases, injection, the cache and a failing warehouse."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.actions import JOBS_RERUN, decode
from bot.render.limits import MAX_BLOCKS
from bot.slack.blocks_check import problems
from tests.service.conftest import EVIL
from tests.support.demo import END
from tests.support.system_rows import WS, job_row, run_row


def _all_text(answer) -> str:
    return json.dumps(answer.payload(), ensure_ascii=False)


def _valid(answer) -> None:
    assert problems(answer.payload()) == []
    assert answer.text.strip()


def test_failing_on_the_demo_account_names_the_designed_failures_worst_first(demo, demo_service):
    _, story = demo
    answer = demo_service().answer_text("failing 24h", user_id="U1")
    _valid(answer)
    body = _all_text(answer)
    designed = [
        f for f in story.failing_designed() if story.end - f.last_failure < timedelta(hours=24)
    ]
    assert designed, "the demo story should have a failing job in the last 24h"
    for f in designed:
        assert f.job.name in body
    worst = max(designed, key=lambda f: f.streak)
    assert f"worst: {worst.job.name}" in answer.text
    # One Rerun button per failing job, carrying that job's latest run.
    buttons = [b["accessory"] for b in answer.blocks if "accessory" in b]
    assert all(b["action_id"] == JOBS_RERUN and "confirm" in b for b in buttons)
    values = [decode(b["value"], JOBS_RERUN) for b in buttons]
    assert {(str(v.workspace_id), str(v.job_id)) for v in values} >= {
        (f.job.workspace_id, f.job.job_id) for f in designed
    }
    assert "Data as of" in body


def test_every_subcommand_answers_the_demo_account_validly(demo_service):
    service = demo_service()
    for text in [
        "",
        "help",
        "failing 7d",
        "failing today",
        "status nightly_sales",
        "running",
        "sla",
        "cost 7d",
        "cost 30d by sku",
        "cost 7d by workspace",
        "cost 7d by owner",
        "cost 7d by tag:team",
        "anomalies",
        "alerts",
        "mute nightly_sales 4h",
        "unmute nightly_sales",
    ]:
        answer = service.answer_text(text, user_id="U1")
        _valid(answer)
        assert "went wrong" not in answer.text, (text, answer.text)
        assert len(answer.blocks) <= MAX_BLOCKS


def test_status_shows_runs_rates_trend_sla_and_cost(demo_service):
    answer = demo_service().answer_text("status nightly_sales", user_id="U1")
    body = _all_text(answer)
    assert (
        answer.blocks[0]["type"] == "header" and "nightly_sales" in answer.blocks[0]["text"]["text"]
    )
    for word in ("Success 7d", "Success 30d", "p50 / p90", "Trend", "Cost 7d", "Cost 30d", "SLA"):
        assert word in body
    assert "Latest runs" in body and "/runs/" in body  # links to the runs in Databricks


def test_status_with_an_ambiguous_name_offers_the_closest_five(hand_service):
    jobs = [job_row(str(100 + i), f"sales_export_{i}") for i in range(7)]
    service, _ = hand_service(jobs, [])
    answer = service.answer_text("status sales_export", user_id="U1")
    _valid(answer)
    items = [b for b in answer.blocks if b.get("block_id", "").startswith("item-")]
    assert len(items) == 5
    assert "matches more than one job" in answer.text


def test_status_of_an_unknown_job_and_an_sql_injection_name_match_nothing(hand_service):
    service, wh = hand_service([job_row("1", "nightly_sales")], [])
    for text in ["status no_such_job_at_all", "status '; DROP TABLE x; --"]:
        answer = service.answer_text(text, user_id="U1")
        _valid(answer)
        assert "No job matches" in answer.text
    assert "'; DROP TABLE x; --" in _all_text(answer)
    # The tables are still there: the name was a bound parameter, not SQL.
    assert service.answer_text("status nightly_sales", user_id="U1").blocks[0]["type"] == "header"
    assert wh.calls.count("job_lookup") == 3


def test_a_fuzzy_unique_name_and_a_job_id_find_the_job(hand_service):
    service, _ = hand_service(
        [job_row("42", "nightly_sales"), job_row("43", "hourly_events")],
        [run_row("42", "9001", ended_ago=timedelta(hours=3))],
    )
    for text in ["status nightly_sals", "status 42", f"status {WS}/42"]:
        answer = service.answer_text(text, user_id="U1")
        assert answer.blocks[0]["type"] == "header", text
        assert "nightly_sales" in answer.blocks[0]["text"]["text"]


def test_bad_window_and_unknown_subcommand_get_help_with_a_suggestion(demo_service):
    service = demo_service()
    bad = service.answer_text("failing 3x", user_id="U1")
    _valid(bad)
    assert "`3x` is not a time window" in bad.text
    body = json.dumps(bad.blocks)
    assert "/jobs help" in body and "/jobs cost 7d" not in body  # a pointer, not the catalogue
    typo = service.answer_text("stauts nightly_sales", user_id="U1")
    assert "Did you mean `/jobs status nightly_sales`?" in typo.text
    # A job name typed straight after /jobs is suggested as a status; plain words are not.
    assert (
        "try `/jobs status nightly_sales`"
        in service.answer_text("nightly_sales", user_id="U1").text
    )
    words = service.answer_text("make me a sandwich", user_id="U1")
    assert "status" not in words.text and "/jobs help" in json.dumps(words.blocks)


def test_empty_results_say_so_in_a_friendly_line(hand_service):
    service, _ = hand_service(
        [job_row("1", "fine_job")], [run_row("1", "10", ended_ago=timedelta(hours=1))]
    )
    failing = service.answer_text("failing", user_id="U1")
    assert failing.text == "✅ No failing jobs in the last 24h."
    running = service.answer_text("running", user_id="U1")
    assert "Nothing is running" in running.text
    for answer in (failing, running):
        _valid(answer)


def test_a_short_empty_window_is_not_an_all_clear_while_jobs_are_failing(hand_service):
    service, _ = hand_service(
        [job_row("1", "fine_job"), job_row("2", "broken_job")],
        [
            run_row("1", "10", ended_ago=timedelta(minutes=5)),
            run_row("2", "20", ended_ago=timedelta(hours=2), state="FAILED", code="DRIVER_ERROR"),
        ],
    )
    short = service.answer_text("failing 30m", user_id="U1")
    _valid(short)
    assert "✅" not in short.text
    assert "1 job is failing now" in short.text and "broken_job" in short.text
    assert short.blocks[0]["text"]["text"].startswith("🟠")
    assert "broken_job" in service.answer_text("failing 24h", user_id="U1").text


def test_a_window_that_ended_in_the_past_ends_there(hand_service):
    # END is Monday 09:00 UTC (10:00 Amsterdam). The job failed yesterday evening and
    # succeeded this morning: "yesterday" shows it failing then; "24h" shows it recovered.
    service, _ = hand_service(
        [job_row("3", "evening_job")],
        [
            run_row("3", "30", ended_ago=timedelta(hours=14), state="FAILED", code="DRIVER_ERROR"),
            run_row("3", "31", ended_ago=timedelta(hours=2)),
        ],
    )
    yesterday = service.answer_text("failing yesterday", user_id="U1")
    assert "evening_job" in yesterday.text
    assert "evening_job" not in service.answer_text("failing 24h", user_id="U1").text


def test_injection_in_a_job_name_renders_literally_and_pings_no_one(hand_service):
    service, _ = hand_service(
        [job_row("7", EVIL)],
        [
            run_row(
                "7", "70", ended_ago=timedelta(hours=2), state="FAILED", code="RUN_EXECUTION_ERROR"
            )
        ],
    )
    for text in ["failing", "status 7"]:
        answer = service.answer_text(text, user_id="U1")
        _valid(answer)
        body = _all_text(answer)
        assert "<!channel>" not in body and "<http://evil|click>" not in body
        assert "&lt;!channel&gt; *boom* &lt;http://evil|click&gt; &amp;amp;" in body


def test_two_hundred_failing_jobs_fit_in_fifty_blocks_with_and_n_more(hand_service):
    jobs = [job_row(str(1000 + i), f"ünïcødé_job_{i:03d} 🚀") for i in range(200)]
    runs = [
        run_row(str(1000 + i), str(5000 + i), ended_ago=timedelta(minutes=30 + i), state="FAILED")
        for i in range(200)
    ]
    service, _ = hand_service(jobs, runs)
    answer = service.answer_text("failing 24h", user_id="U1")
    _valid(answer)
    assert len(answer.blocks) <= MAX_BLOCKS
    assert answer.text.startswith("200 jobs failing")
    more = [b for b in answer.blocks if b.get("block_id") == "more"]
    assert len(more) == 1
    shown = len(
        {
            b["block_id"].split(".")[0]
            for b in answer.blocks
            if b.get("block_id", "").startswith("item-")
        }
    )
    assert more[0]["elements"][0]["text"] == f"…and {200 - shown} more"
    assert "ünïcødé_job_000 🚀" in _all_text(answer)


def test_second_identical_question_is_answered_from_the_cache(demo_service):
    service = demo_service()
    wh = service.reader.warehouse
    first = service.answer_text("failing 24h", user_id="U1", channel_id="C1")
    calls = len(wh.calls)
    assert calls > 0
    second = service.answer_text("failing  24h", user_id="U2", channel_id="C1")
    assert len(wh.calls) == calls
    assert second == first and first.cache_key is not None
    service.answer_text("failing 7d", user_id="U1")
    assert len(wh.calls) > calls


def test_the_cache_expires_after_its_ttl(demo_service):
    service = demo_service()
    wh = service.reader.warehouse
    service.answer_text("running", user_id="U1")
    calls = len(wh.calls)
    service.clock.set(service.clock.now() + timedelta(seconds=service.cache.ttl + 1))
    service.answer_text("running", user_id="U1")
    assert len(wh.calls) > calls


def test_a_failing_warehouse_gives_a_clear_message_and_no_traceback(demo_service, caplog):
    service = demo_service()
    service.reader.warehouse.fail_with = RuntimeError("connection reset by peer: secret detail")
    answer = service.answer_text("failing", user_id="U1")
    _valid(answer)
    assert "couldn't read the Databricks system tables" in answer.text
    assert "Traceback" not in _all_text(answer) and "secret detail" not in _all_text(answer)
    assert answer.cache_key is None
    assert any("secret detail" in r.getMessage() for r in caplog.records)
    # It recovers: the error was not cached.
    service.reader.warehouse.fail_with = None
    assert "couldn't read" not in service.answer_text("failing", user_id="U1").text


def test_alerts_and_mutes_say_honestly_that_they_are_not_there_yet(demo_service):
    for text in ["alerts", "mute nightly_sales 4h", "unmute nightly_sales"]:
        answer = demo_service().answer_text(text, user_id="U1")
        assert "arrives with the alerts feature" in answer.text


def test_sla_lists_every_configured_rule_with_its_state_and_seven_days(demo_service, demo):
    answer = demo_service().answer_text("sla", user_id="U1")
    _valid(answer)
    items = [b["text"]["text"] for b in answer.blocks if b.get("block_id", "").startswith("item-")]
    by_job = {text.split("*")[1]: text for text in items}
    assert set(by_job) == {"hourly_events_ingest", "nightly_etl", "nightly_sales"}
    # The story: hourly_events_ingest is failing now (no success for hours), so its freshness
    # rule is breached; nightly_etl ran well within 90 min; nightly_sales was on time today.
    failing = {f.job.name for f in demo.story.failing}
    assert "hourly_events_ingest" in failing
    assert "*Breached*" in by_job["hourly_events_ingest"]
    assert "*Met*" in by_job["nightly_etl"]
    assert "*Met*" in by_job["nightly_sales"]
    # Its last 7 days (Mon-Fri rule): late on the story's late weekdays, "·" at weekends.
    (late,) = [j for j in demo.story.late if j.job.name == "nightly_sales"]
    days = [END.date() - timedelta(days=6 - i) for i in range(7)]
    expected = " ".join(
        "·" if d.weekday() >= 5 else ("✗" if d in late.late_dates else "✓") for d in days
    )
    assert f"Last 7 days: {expected}" in by_job["nightly_sales"]


def test_cost_compares_with_the_previous_window_and_lists_the_top_ten(demo_service):
    answer = demo_service().answer_text("cost 7d", user_id="U1")
    body = _all_text(answer)
    assert "vs the previous 7d" in answer.text
    assert "Top 10 by job" in body
    assert "Failed runs" in body and "All-purpose" in body
