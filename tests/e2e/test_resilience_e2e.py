"""Slow and failing warehouses, forged requests, Socket Mode and `jobs-bot run` start-up."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import pytest

from bot import wiring
from bot.actions import JOBS_SHARE
from bot.cli import main
from bot.clock import FixedClock
from bot.warehouse import open_warehouse
from sandbox import DEMO_CONFIG
from sandbox.slack.driver import SlackSandbox
from tests.support.ask import ask
from tests.support.demo import END, Demo, demo_config
from tests.support.stack import Stack
from tests.support.warehouse import ProbeWarehouse


def test_a_slow_warehouse_acks_at_once_shows_working_then_the_answer(
    make_stack: Callable[..., Stack],
) -> None:
    st = make_stack(lambda wh: ProbeWarehouse(wh, delay=4.0))
    started = time.monotonic()
    seen = st.sb.command("/jobs running", user="U02BOB", timeout=2.5)
    # The sandbox marks an ack later than Slack's 3 s as a timeout; this one is well inside.
    assert (seen.status, seen.http_status) == ("ok", 200)
    working = st.sb.wait_until(lambda: st.sb.ephemerals("U02BOB", "C02ALERTS"), timeout=3)
    assert working and "Working on `/jobs running`" in working[0].text
    assert time.monotonic() - started < 3.5  # shown while the query is still running
    done = st.sb.wait_until(
        lambda: [m for m in st.sb.ephemerals("U02BOB") if "runs in progress" in m.text],
        timeout=10,
    )
    assert done, "the answer arrives after the slow query"
    # It replaced the working notice in place: one message, now the answer.
    mine = st.sb.ephemerals("U02BOB", "C02ALERTS")
    assert [m.id for m in mine] == [working[0].id]
    last = json.loads(st.sb.hook_posts[-1]["body"])
    assert last["replace_original"] is True and st.sb.hook_posts[-1]["status"] == 200


def test_a_failing_warehouse_tells_the_user_logs_for_the_operator_and_recovers(
    make_stack: Callable[..., Stack], caplog: pytest.LogCaptureFixture
) -> None:
    flaky: list[ProbeWarehouse] = []

    def wrap(wh):
        flaky.append(ProbeWarehouse(wh))
        return flaky[0]

    st = make_stack(wrap)
    flaky[0].fail_with = ConnectionResetError(
        "[Errno 104] Connection reset by peer (token dapi-secret-e2e)"
    )
    with caplog.at_level(logging.INFO):
        shown = ask(st.sb, "failing")
    assert "couldn't read the Databricks system tables" in shown.text
    everything = json.dumps([p["body"] for p in st.sb.hook_posts]) + json.dumps(
        [c.params for c in st.sb.calls]
    )
    for leak in ("Traceback", "Connection reset", "dapi-secret", "ConnectionResetError"):
        assert leak not in everything
    error_id = shown.text.split("error id `")[1].split("`")[0]
    logged = [r for r in caplog.records if error_id in r.getMessage() or error_id in str(r.args)]
    assert logged and any("Connection reset" in (r.exc_text or r.getMessage()) for r in logged)
    flaky[0].fail_with = None
    again = ask(st.sb, "failing")
    assert "worst:" in again.text


def test_forged_and_stale_signatures_get_401_and_no_answer(stack: Stack) -> None:
    sb = stack.sb
    before = len(sb.hook_posts)
    for fault in ("forged_signature", "stale_signature"):
        sb.faults.add(fault, times=1)
        seen = sb.command("/jobs failing", user="U04DAVE", timeout=1.0)
        assert (seen.status, seen.http_status) == ("rejected", 401)
        assert seen.texts == []
    time.sleep(0.5)
    assert len(sb.hook_posts) == before and sb.ephemerals("U04DAVE", "C02ALERTS") == []
    assert ask(sb, "help", user="U04DAVE").text  # a good signature still works


def test_socket_mode_answers_a_command_and_a_share_click(demo: Demo) -> None:
    with SlackSandbox(signing_secret="unused") as sb:
        link = wiring.SlackLink(
            bot_token=sb.bot_token, api_url=sb.api_url, transport="socket", app_token=sb.app_token
        )
        bot = wiring.build(
            demo_config(demo.story),
            FixedClock(END),
            warehouse=open_warehouse(demo.path),
            slack=link,
        )
        bot.start()
        try:
            assert sb.wait_for_socket()
            seen = sb.command("/jobs failing", user="U02BOB")
            assert (seen.transport, seen.status) == ("socket", "ok")
            answer = [m for m in seen.ephemerals if "worst:" in m.text]
            assert answer and answer[0].to_user == "U02BOB"
            clicked = sb.click(answer[0], JOBS_SHARE, block_id="jobs_share", user="U02BOB")
            assert clicked.transport == "socket"
            shared = [m for m in sb.messages("C02ALERTS") if m.text == answer[0].text]
            assert len(shared) == 1 and "Shared by <@U02BOB>" in str(shared[0].blocks[-1])
        finally:
            bot.stop()


def test_run_refuses_to_start_without_slack_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    config = DEMO_CONFIG
    assert main(["run", "--config", config]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("jobs-bot: set these environment variables")
    assert "SLACK_BOT_TOKEN" in err[0]
    assert main(["run", "--config", config, "--http", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SLACK_SIGNING_SECRET" in err[0]
