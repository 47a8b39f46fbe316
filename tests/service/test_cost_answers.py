"""`/jobs cost` and `/jobs anomalies` as a new user found them wrong (issue 12 §3), answered on
small hand-built system-table worlds (tests/support/worlds.py, the same rows the Spark
conformance suite runs on) through the real CommandService and the embedded warehouse."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.clock import FixedClock
from bot.config import Config, load_config
from bot.service import CommandService
from bot.service import cost as cost_answers
from bot.service.answer import Answer, Reader
from bot.slack.blocks_check import problems
from bot.warehouse import Warehouse, open_warehouse
from bot.warehouse.duckdb_backend import DuckDBWarehouse
from sandbox import DEMO_CONFIG
from tests.support import worlds
from tests.support.wh_world import World, utc

Build = Callable[[World], World]


def _config(**cost: Any) -> Config:
    cfg = load_config(DEMO_CONFIG)
    update: dict[str, Any] = {"timezone": "UTC", "workspaces": ()}
    if cost:
        update["cost"] = cfg.cost.model_copy(update=cost)
    return cfg.model_copy(update=update)


@pytest.fixture
def world_db(tmp_path: Path) -> Callable[[Build], str]:
    """A warehouse file holding one world of tests/support/worlds.py."""

    def make(build: Build) -> str:
        path = tmp_path / f"{build.__name__}.duckdb"
        if not path.exists():  # built once per test, asked as often as the test likes
            wh = DuckDBWarehouse.open(str(path))
            build(World(wh))
            wh.close()
        return str(path)

    return make


@pytest.fixture
def ask(world_db: Callable[[Build], str]) -> Iterator[Callable[..., Answer]]:
    """`ask(world, "cost today", at=…)`: the answer as Slack would get it."""
    opened: list[Warehouse] = []

    def answer(build: Build, text: str, *, at: datetime, **cost: Any) -> Answer:
        wh = open_warehouse(world_db(build))
        opened.append(wh)
        got = CommandService(wh, _config(**cost), FixedClock(at)).answer_text(text, user_id="U1")
        assert problems(got.payload()) == []
        assert "went wrong" not in got.text, got.text
        return got

    yield answer
    for wh in opened:
        wh.close()


def _section(answer: Answer, block_id: str) -> str:
    block = next(b for b in answer.blocks if b.get("block_id") == block_id)
    if block["type"] == "context":
        return str(block["elements"][0]["text"])
    return str(block["text"]["text"])


def _rows(answer: Answer) -> dict[str, str]:
    """The top list as {label: the rest of its line}."""
    lines = _section(answer, "top").splitlines()[1:]
    return dict(re.match(r"\d+\. (.+?) — (.*)$", line).groups() for line in lines)  # type: ignore[union-attr,misc]


def test_today_is_compared_with_the_same_hours_of_yesterday(ask: Callable[..., Answer]) -> None:
    # At 05:30 the old answer compared 00:00-05:30 with 18:30-24:00 the day before: the nightly
    # job was "new" and the total fell. Billing has today up to 04:00, so yesterday is read
    # from 00:00 to 04:00: the nightly job compares with its own run of yesterday.
    answer = ask(worlds.cost_today, "cost today", at=worlds.TODAY_AT)
    summary = _section(answer, "summary")
    assert "*$3.20* today, ▲ +6.7% vs yesterday 00:00–04:00 ($3.00)" in summary
    assert "vs yesterday 00:00–04:00" in answer.text
    rows = _rows(answer)
    assert rows["nightly"] == "$1.20 · ▲ +20%"
    assert rows["always_on"] == "$2.00 · • 0%"
    assert "evening" not in rows and "early" not in rows  # ran after 04:00 yesterday
    assert "the same hours as billed today" in _section(answer, "freshness")


def test_a_previous_window_without_data_gets_a_sentence_not_a_percentage(
    ask: Callable[..., Answer],
) -> None:
    # Billing starts on Feb 20: for 30d there is nothing before, for 7d a part. The old
    # answers were "▲ new" and "▲ +75%" (on the account of the issue: "+10,402%").
    at = worlds.NOW
    none = ask(worlds.cost_coverage, "cost 30d", at=at)
    assert "*$11.00* in the last 30d, no data for the previous 30d" in _section(none, "summary")
    assert "%" not in _section(none, "summary") and "new" not in _section(none, "top")
    assert _rows(none)["daily"] == "$11.00"
    partly = ask(worlds.cost_coverage, "cost 7d", at=at)
    assert (
        "*$7.00* in the last 7d, the previous 7d only partly covered (data from Fri 20 Feb 01:00)"
        in _section(partly, "summary")
    )
    assert "75%" not in json.dumps(partly.payload())
    assert _rows(partly)["daily"] == "$7.00"
    covered = ask(worlds.cost_coverage, "cost 3d", at=at)
    assert "• 0% vs the previous 3d ($3.00)" in _section(covered, "summary")
    assert "changes vs the previous 3d, to the same point" in _section(covered, "freshness")


def test_jobs_on_all_purpose_compute_are_named_with_why_they_have_no_cost(
    ask: Callable[..., Answer],
) -> None:
    # Job 12 ran 1.5 task hours on the all-purpose cluster ap-1: billing charges ap-1, with no
    # job id. The answer names the job and says why its cost is in the no-job-id row.
    answer = ask(worlds.waste_world, "cost 24h", at=utc("2026-03-02 00:00"))
    note = _section(answer, "all-purpose")
    assert "1 job ran on all-purpose clusters: on_all_purpose." in note
    assert "not attributable per job" in note and "no job id" in note
    assert "about $0.82 by task hours" in note  # 1.65 x 1.5 h / 3 h billed
    rows = _rows(answer)
    no_job = rows["(no job id: all-purpose and other compute)"]
    assert no_job.startswith("$1.65") and "holds the 1 job on all-purpose clusters" in no_job


def test_an_unknown_tag_is_said_and_the_known_ones_listed(ask: Callable[..., Answer]) -> None:
    # `by colour` grouped everything as "(untagged)" without a word.
    answer = ask(worlds.cost_tags, "cost 24h by colour", at=utc("2026-03-02 00:00"))
    text = _section(answer, "top")
    assert "has the tag `colour`" in text and "(untagged)" not in text
    assert "Did you mean `Colour`?" in text  # tags are case-sensitive
    assert "Job tags: `team`, `Colour`, `env`." in text
    assert "Try `/jobs cost 24h by tag:Colour`." in text
    # A tag that exists groups as before (ap-9's own tag too).
    team = ask(worlds.cost_tags, "cost 24h by team", at=utc("2026-03-02 00:00"))
    assert set(_rows(team)) == {"a", "b", "c", "(untagged)"}


def test_slack_and_the_query_show_one_anomaly_score(
    ask: Callable[..., Answer],
    world_db: Callable[[Build], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The issue: Slack said 35.8 where `jobs-bot query cost_anomaly_candidates` said 68.24.
    # Both now read one definition; "flat" (MAD 0) had no score at all in the query.
    path = world_db(worlds.anomaly_scores)
    day = worlds.ANOMALY_DAY.isoformat()
    assert main(["query", "cost_anomaly_candidates", "--param", f"day={day}", "--db", path,
                 "--format", "json"]) == 0  # fmt: skip
    queried = {r["name"]: r["robust_z"] for r in json.loads(capsys.readouterr().out)}
    assert set(queried) == {"noisy", "flat", "tiny"}
    at = utc("2026-03-02 08:00")  # Mar 1 is "yesterday": both days are checked
    wh = open_warehouse(path)
    try:
        view = cost_answers.anomalies_view(Reader(wh), _config(min_daily_amount=1), at)
    finally:
        wh.close()
    shown = {a.name: a.z for a in view.anomalies}
    assert shown == {"noisy": round(queried["noisy"], 1), "flat": round(queried["flat"], 1)}
    assert shown == {"noisy": 11.5, "flat": 27.0}  # "tiny" scores 2.0: under the threshold
    answer = ask(worlds.anomaly_scores, "anomalies", at=at, min_daily_amount=1)
    body = json.dumps(answer.payload(), ensure_ascii=False)
    assert "robust z 27.0" in body and "robust z 11.5" in body


def test_status_of_a_job_on_all_purpose_compute_says_why_its_cost_is_zero(
    ask: Callable[..., Answer],
) -> None:
    # `/jobs status on_all_purpose` showed "Cost 30d $0.00" and nothing else.
    answer = ask(worlds.waste_world, "status on_all_purpose", at=utc("2026-03-02 00:00"))
    note = _section(answer, "all-purpose")
    assert note.startswith("💡 1h 30m of its task time in 30 days ran on all-purpose clusters")
    assert "not attributable per job" in note
    other = ask(worlds.waste_world, "status on_job_cluster", at=utc("2026-03-02 00:00"))
    assert all(b.get("block_id") != "all-purpose" for b in other.blocks)
