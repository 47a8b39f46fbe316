"""`jobs-bot ask` end to end in-process through `bot.cli.main`: readable text, --json payload,
--at replay, and a missing warehouse file."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.slack.blocks_check import problems
from sandbox import DEMO_CONFIG


def test_ask_prints_a_readable_answer(demo, capsys):
    db, story = demo
    assert (
        main(
            [
                "ask",
                "/jobs failing 24h",
                "--db",
                db,
                "--config",
                DEMO_CONFIG,
                "--at",
                "2026-03-02T09:00Z",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Failing jobs · last 24h" in out
    assert story.failing_designed()[0].job.name in out
    # mrkdwn made readable: dates show their fallback, no raw control sequences
    assert "<!date^" not in out and "CET" in out
    assert "[Rerun failed tasks]" in out


def test_ask_json_prints_the_block_kit_payload(demo, capsys):
    db, _ = demo
    assert (
        main(
            [
                "ask",
                "/jobs status nightly_sales",
                "--db",
                db,
                "--config",
                DEMO_CONFIG,
                "--at",
                "2026-03-02T09:00Z",
                "--json",
            ]
        )
        == 0
    )
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"text", "blocks"}
    assert problems(payload) == []
    assert payload["blocks"][0]["text"]["text"] == "📋 nightly_sales"


def test_ask_at_replays_a_past_moment(demo, capsys):
    db, _ = demo
    main(
        [
            "ask",
            "/jobs failing 24h",
            "--db",
            db,
            "--config",
            DEMO_CONFIG,
            "--at",
            "2026-02-20T09:00Z",
            "--json",
        ]
    )
    earlier = json.loads(capsys.readouterr().out)
    main(
        [
            "ask",
            "/jobs failing 24h",
            "--db",
            db,
            "--config",
            DEMO_CONFIG,
            "--at",
            "2026-03-02T09:00Z",
            "--json",
        ]
    )
    now = json.loads(capsys.readouterr().out)
    assert earlier["text"] != now["text"]


def test_ask_without_a_warehouse_file_says_how_to_make_one(tmp_path, capsys):
    missing = str(tmp_path / "nope.duckdb")
    code = main(["ask", "/jobs failing", "--db", missing])
    err = capsys.readouterr().err
    assert code != 0
    assert f"jobs-bot seed --db {missing}" in err
    assert "Traceback" not in err


def test_ask_with_a_bad_at_time_is_a_clear_error(demo, capsys):
    code = main(
        ["ask", "/jobs failing", "--db", demo[0], "--config", DEMO_CONFIG, "--at", "yesterday-ish"]
    )
    assert code != 0
    assert "ISO 8601" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["/jobs", "/jobs bogus words", "/jobs cost 7d by sku"])
def test_ask_handles_help_typos_and_cost(demo, capsys, text):
    assert (
        main(["ask", text, "--db", demo[0], "--config", DEMO_CONFIG, "--at", "2026-03-02T09:00Z"])
        == 0
    )
    assert capsys.readouterr().out.strip()
