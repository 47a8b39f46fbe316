"""`/jobs status <job>` on hand-built system-table rows: it says how it found the job (the
closest match to a typo, a former name through the jobs table's SCD2 history) and what the
job is now (deleted, paused, a run in flight past its p90, flagged as `/jobs running` flags it)
instead of silently showing another job, nothing, or a green "success"."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import load_config
from bot.config.sections import WorkspaceConfig
from bot.service import CommandService
from bot.slack.blocks_check import problems
from bot.warehouse import Warehouse, open_warehouse
from sandbox import DEMO_CONFIG
from tests.support.demo import END
from tests.support.system_rows import WS, build_db, job_row, run_row

HOST = "https://adb-1111.11.azuredatabricks.net"


@pytest.fixture
def linked_service(tmp_path: Path) -> Iterator[Callable[..., CommandService]]:
    """hand_service with the workspace in the config, so answers carry Databricks links."""
    opened: list[Warehouse] = []
    ws = WorkspaceConfig(id=WS, name="prod", host=HOST, jobs_api=False)
    config = load_config(DEMO_CONFIG).model_copy(update={"workspaces": (ws,)})

    def make(jobs: list[dict], runs: list[dict]) -> CommandService:
        wh = open_warehouse(build_db(tmp_path, jobs, runs))
        opened.append(wh)
        return CommandService(wh, config, FixedClock(END))

    yield make
    for wh in opened:
        wh.close()


def _all_text(answer) -> str:
    return json.dumps(answer.payload(), ensure_ascii=False)


def _block(answer, block_id: str) -> str:
    (block,) = [b for b in answer.blocks if b.get("block_id") == block_id]
    return block["text"]["text"]


def _header(answer) -> str:
    assert answer.blocks[0]["type"] == "header", answer.text
    return answer.blocks[0]["text"]["text"]


def _date(ago: timedelta) -> str:
    """The start of a Slack date placeholder for the instant `ago` before END."""
    return f"<!date^{int((END - ago).timestamp())}^"


def _ask(service, text: str):
    answer = service.answer_text(text, user_id="U1")
    assert problems(answer.payload()) == []
    assert "went wrong" not in answer.text, answer.text
    return answer


def _row(job_id: str, name: str, changed_ago: timedelta, **cols) -> dict:
    return {**job_row(job_id, name), "change_time": (END - changed_ago).isoformat(), **cols}


def test_a_typo_says_it_shows_the_closest_match_and_an_exact_name_does_not(hand_service):
    service, _ = hand_service(
        [job_row("42", "nightly_sales"), job_row("43", "hourly_events")],
        [run_row("42", "9001", ended_ago=timedelta(hours=3))],
    )
    typo = _ask(service, "status nightly_sals")
    assert "nightly_sales" in _header(typo)
    note = "Showing *nightly_sales*, the closest match to `nightly_sals`"
    assert note in _block(typo, "found") and note in typo.text
    # Part of the name is not the name either.
    assert "the closest match to `nightly`" in _ask(service, "status nightly").text
    for exact in ("status nightly_sales", "status NIGHTLY_SALES", "status 42"):
        answer = _ask(service, exact)
        assert "nightly_sales" in _header(answer)
        assert "closest match" not in _all_text(answer), exact


def test_a_former_name_finds_the_renamed_job_and_says_since_when(hand_service):
    jobs = [
        _row("42", "sales_old", timedelta(days=40)),
        _row("42", "sales_old", timedelta(days=30)),  # another edit, same name
        _row("42", "nightly_sales", timedelta(days=10)),
        _row("42", "nightly_sales", timedelta(days=2), tags={"owner": "bo@example.com"}),
    ]
    service, _ = hand_service(jobs, [run_row("42", "9001", ended_ago=timedelta(hours=3))])
    answer = _ask(service, "status sales_old")
    assert "nightly_sales" in _header(answer)
    found = _block(answer, "found")
    assert found.startswith("↪️ `sales_old` was renamed to *nightly_sales* on ")
    # The rename is the change after the last row with the old name, not the later edit.
    assert _date(timedelta(days=10)) in found
    assert "bo@example.com" in _block(answer, "summary")  # the job as it is now
    assert "renamed" not in _all_text(_ask(service, "status nightly_sales"))


def test_a_job_named_so_now_wins_over_one_that_was_named_so_before(hand_service):
    jobs = [
        _row("42", "sales_old", timedelta(days=40)),
        _row("42", "nightly_sales", timedelta(days=10)),
        _row("77", "sales_old", timedelta(days=5)),  # the name, reused by a new job
    ]
    service, _ = hand_service(jobs, [])
    answer = _ask(service, "status sales_old")
    assert "job 77" in _block(answer, "summary")
    assert "renamed" not in _all_text(answer)


def test_jobs_that_had_the_name_are_a_pick_list_saying_so(hand_service):
    gone = (END - timedelta(days=1)).isoformat()
    jobs = [
        _row("42", "etl", timedelta(days=40)),
        _row("42", "etl_orders", timedelta(days=10)),
        _row("43", "etl", timedelta(days=40)),
        _row("43", "etl_refunds", timedelta(days=9)),
        _row("44", "etl", timedelta(days=40)),
        _row("44", "etl_archive", timedelta(days=9), delete_time=gone),
    ]
    service, _ = hand_service(jobs, [])
    answer = _ask(service, "status etl")
    assert "matches more than one job" in answer.text
    items = [b["text"]["text"] for b in answer.blocks if b.get("block_id", "").startswith("item-")]
    assert [i.split("\n")[0] for i in items] == [
        "*etl_orders* · was `etl`",
        "*etl_refunds* · was `etl`",
        "*etl_archive* · was `etl` · 🗑️ deleted",  # live ones first
    ]


def test_a_deleted_job_is_found_and_says_when_it_was_deleted(linked_service):
    gone = (END - timedelta(days=3)).isoformat()
    jobs = [
        _row("7", "legacy_sync", timedelta(days=40)),
        _row("7", "legacy_sync", timedelta(days=3), delete_time=gone),
        _row("8", "still_here", timedelta(days=40)),
    ]
    runs = [run_row(j, f"{j}01", ended_ago=timedelta(days=4)) for j in ("7", "8")]
    service = linked_service(jobs, runs)
    answer = _ask(service, "status legacy_sync")
    assert "legacy_sync" in _header(answer)
    summary = _block(answer, "summary")
    assert summary.startswith("🗑️ Deleted " + _date(timedelta(days=3)))
    assert "last run succeeded" in summary and "✅" not in summary
    # Its pages are gone from the workspace: no links to them (a live job has them).
    assert HOST not in _all_text(answer) and "Open in Databricks" not in _all_text(answer)
    assert f"{HOST}/jobs/8/runs/801" in _all_text(_ask(service, "status still_here"))


def test_a_live_job_wins_over_a_deleted_one_of_the_same_name(hand_service):
    jobs = [
        _row("7", "legacy_sync", timedelta(days=3), delete_time=(END - timedelta(days=3))
             .isoformat()),
        _row("8", "legacy_sync", timedelta(days=2)),
    ]  # fmt: skip
    service, _ = hand_service(jobs, [])
    answer = _ask(service, "status legacy_sync")
    assert "job 8" in _block(answer, "summary") and "Deleted" not in _all_text(answer)


def _paused_rows(*, resumed: bool) -> list[dict]:
    rows = [
        _row("9", "weekly_rollup", timedelta(days=40), paused=False),
        _row("9", "weekly_rollup", timedelta(days=8), paused=True),
    ]
    if resumed:
        rows.append(_row("9", "weekly_rollup", timedelta(days=1), paused=False))
    return rows


def test_a_paused_job_says_paused_not_a_green_success(hand_service):
    runs = [run_row("9", "901", ended_ago=timedelta(days=9))]
    service, _ = hand_service(_paused_rows(resumed=False), runs)
    summary = _block(_ask(service, "status weekly_rollup"), "summary")
    assert summary.startswith("⏸️ Paused")
    assert "last run succeeded" in summary
    assert "✅" not in summary and "success no runs" not in summary


def test_a_job_resumed_after_a_pause_is_not_paused(hand_service):
    runs = [run_row("9", "901", ended_ago=timedelta(days=9))]
    service, _ = hand_service(_paused_rows(resumed=True), runs)
    summary = _block(_ask(service, "status weekly_rollup"), "summary")
    assert summary.startswith("✅ Last run succeeded") and "Paused" not in summary


def _in_flight(job_id: str, run_id: str, *, started_ago: timedelta, slice_ago: timedelta):
    """A run's slice without a final state (a run in flight, or lost if long ago)."""
    return {
        **run_row(job_id, run_id, ended_ago=slice_ago, took=started_ago - slice_ago, state=None),
        "termination_code": None,
    }


def test_a_run_past_its_p90_is_flagged_in_status_as_running_flags_it(hand_service):
    jobs = [job_row("1", "slow_job"), job_row("2", "quick_enough"), job_row("3", "lost_job")]
    history = [
        run_row(j, f"{j}0{i}", ended_ago=timedelta(days=i), took=timedelta(minutes=10))
        for j in ("1", "2", "3")
        for i in range(1, 6)
    ]
    runs = [
        *history,
        # 40 min in, usually 10: a long-runner. 5 min in: not. Slices that stopped 10 h ago
        # without a final state: lost data, not a run (neither answer flags it).
        _in_flight("1", "150", started_ago=timedelta(minutes=40), slice_ago=timedelta(minutes=5)),
        _in_flight("2", "250", started_ago=timedelta(minutes=5), slice_ago=timedelta(minutes=1)),
        _in_flight("3", "350", started_ago=timedelta(hours=11), slice_ago=timedelta(hours=10)),
    ]
    service, _ = hand_service(jobs, runs)

    running = _ask(service, "running")
    long_items = [
        b["text"]["text"]
        for b in running.blocks
        if b.get("block_id", "").startswith("item-") and "long-runner" in b["text"]["text"]
    ]
    assert len(long_items) == 1 and "slow_job" in long_items[0]
    assert "running 40m 00s vs usually ≤ 10m 00s (p90)" in long_items[0]

    slow = _ask(service, "status slow_job")
    summary = _block(slow, "summary")
    assert summary.startswith("⚠️ Running longer than usual: 40m 00s so far vs usually ≤ 10m 00s")
    runs_text = _block(slow, "runs")
    assert "running 40m 00s vs usually ≤ 10m 00s (p90) · *long-runner*" in runs_text
    for name in ("quick_enough", "lost_job"):
        answer = _ask(service, f"status {name}")
        assert "long-runner" not in _all_text(answer) and "longer than usual" not in answer.text
