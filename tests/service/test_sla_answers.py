"""`/jobs sla` (and the times in /jobs sla, failing, running and status) on small hand-built
rows: a rule met late today is not "all on track", and every time of day is either a Slack
date (shown in each reader's zone) whose fallback names the configured zone, or plain text
labelled with that zone — never a bare HH:MM of some zone the reader has to guess."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.config import load_config
from bot.render.text import readable
from bot.service import CommandService
from bot.service.answer import Answer
from bot.warehouse import Warehouse, open_warehouse
from tests.support.demo import END
from tests.support.system_rows import build_db, job_row, run_row

# END is Monday 2026-03-02 09:00 UTC, 10:00 in Amsterdam (CET, UTC+1).
CONFIG = """\
timezone: Europe/Amsterdam
warehouse:
  embedded: {path: ":memory:"}
slack:
  default_channel: "#data-alerts"
slas:
  - job: {name: nightly_sales}
    deadline: "07:00"
    days: Mon-Fri
  - job: {name: nightly_etl}
    max_duration: 90m
"""

Make = Callable[..., CommandService]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Make]:
    opened: list[Warehouse] = []

    def make(runs: list[dict[str, Any]], config: str = CONFIG) -> CommandService:
        jobs = [job_row("1", "nightly_sales"), job_row("2", "nightly_etl")]
        wh = open_warehouse(build_db(tmp_path, jobs, runs))
        opened.append(wh)
        path = tmp_path / "jobs-bot.yml"
        path.write_text(textwrap.dedent(config), encoding="utf-8")
        return CommandService(wh, load_config(str(path)), FixedClock(END))

    yield make
    for wh in opened:
        wh.close()


def _ended(hh: int, mm: int) -> timedelta:
    """How long before END a run ended at hh:mm UTC today."""
    return END - datetime(2026, 3, 2, hh, mm, tzinfo=UTC)


def _history() -> list[dict[str, Any]]:
    # Last week's runs, on time, so the rules have a p90 and a 7-day line.
    runs = []
    for day in range(1, 8):
        runs.append(run_row("1", f"s{day}", ended_ago=timedelta(days=day, hours=4)))
        runs.append(run_row("2", f"e{day}", ended_ago=timedelta(days=day, hours=5)))
    return runs


def _item(answer: Answer, name: str) -> str:
    items = [b["text"]["text"] for b in answer.blocks if b.get("block_id", "").startswith("item-")]
    (text,) = [str(t) for t in items if f"*{name}*" in t]
    return text


def _texts(value: Any) -> Iterator[str]:
    """Every "text" string in a Block Kit payload."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                yield inner
            else:
                yield from _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _texts(inner)


SLACK_DATE = re.compile(r"<!date\^(\d+)\^[^|>]*\|([^>]*)>")
CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")


def test_a_deadline_met_late_is_not_all_on_track(service: Make) -> None:
    # nightly_sales must succeed by 07:00 Amsterdam (06:00 UTC); today it ended 06:55 UTC.
    runs = [
        *_history(),
        run_row("1", "today", ended_ago=_ended(6, 55), took=timedelta(minutes=40)),
        run_row("2", "etl-today", ended_ago=_ended(4, 0), took=timedelta(minutes=30)),
    ]
    answer = service(runs).answer_text("sla", user_id="U1")
    assert "all on track" not in answer.text
    assert answer.text == "2 SLAs — 🟠 1 late today"
    assert answer.blocks[1]["text"]["text"] == answer.text  # the summary block says the same
    row = _item(answer, "nightly_sales")
    assert row.startswith("🟠 ") and "*Met late*" in row and "55m 00s late" in row


def test_rules_met_on_time_are_all_on_track(service: Make) -> None:
    runs = [
        *_history(),
        run_row("1", "today", ended_ago=_ended(5, 30)),
        run_row("2", "etl-today", ended_ago=_ended(4, 0), took=timedelta(minutes=30)),
    ]
    answer = service(runs).answer_text("sla", user_id="U1")
    assert answer.text == "2 SLAs — all on track"


def test_a_rule_whose_job_is_not_found_is_not_all_on_track(service: Make) -> None:
    config = CONFIG + "  - job: {name: ghost_job}\n    freshness: 6h\n"
    runs = [*_history(), run_row("1", "today", ended_ago=_ended(5, 30))]
    answer = service(runs, config).answer_text("sla", user_id="U1")
    assert "all on track" not in answer.text
    assert answer.text.endswith("❔ 1 job not found")


def test_sla_times_are_slack_dates_with_the_configured_zone_as_fallback(service: Make) -> None:
    # The rule is written in UTC, the bot speaks Amsterdam time: the answer must not print the
    # rule's 06:55 (UTC) bare next to the data-as-of time, which Slack shows in the reader's
    # zone. Each instant is a Slack date; its fallback is the Amsterdam time with its zone.
    config = CONFIG.replace('deadline: "07:00"', 'deadline: "06:00"\n    timezone: UTC')
    runs = [*_history(), run_row("1", "today", ended_ago=_ended(6, 55))]
    answer = service(runs, config).answer_text("sla", user_id="U1")
    row = _item(answer, "nightly_sales")
    done = int(datetime(2026, 3, 2, 6, 55, tzinfo=UTC).timestamp())
    due = int(datetime(2026, 3, 2, 6, 0, tzinfo=UTC).timestamp())
    assert (
        f"succeeded at <!date^{done}^{{time}}|07:55 CET>, 55m 00s late "
        f"(due <!date^{due}^{{time}}|07:00 CET>)"
    ) in row
    # Where Slack cannot format dates (notifications, the terminal), the fallback reads alone.
    assert "succeeded at 07:55 CET, 55m 00s late (due 07:00 CET)" in readable(row)


def test_an_sla_time_on_another_day_says_which_day(service: Make) -> None:
    # nightly_etl must succeed every 6 h; its last success was yesterday 20:00 UTC (21:00 in
    # Amsterdam): a bare "21:00" would read as tonight.
    config = CONFIG.replace("max_duration: 90m", "freshness: 6h")
    runs = [*_history(), run_row("2", "etl-last", ended_ago=_ended(9, 0) + timedelta(hours=13))]
    answer = service(runs, config).answer_text("sla", user_id="U1")
    row = _item(answer, "nightly_etl")
    last = int(datetime(2026, 3, 1, 20, 0, tzinfo=UTC).timestamp())
    assert (
        f"last success <!date^{last}^{{date_short_pretty}} at {{time}}|Sun 01 Mar 21:00 CET>" in row
    )
    assert "last success Sun 01 Mar 21:00 CET" in readable(row)


def test_the_status_answer_labels_its_sla_times(service: Make) -> None:
    runs = [*_history(), run_row("1", "today", ended_ago=_ended(6, 55))]
    answer = service(runs).answer_text("status nightly_sales", user_id="U1")
    body = "\n".join(_texts(answer.payload()))
    assert "succeeded at 07:55 CET, 55m 00s late (due 07:00 CET)" in body


@pytest.mark.parametrize("command", ["sla", "failing 24h", "running", "status nightly_sales"])
def test_no_bare_time_of_day_in_the_answers(service: Make, command: str) -> None:
    runs = [
        *_history(),
        run_row("1", "today", ended_ago=_ended(6, 55)),
        run_row(
            "2", "etl-fail", ended_ago=_ended(7, 10), state="FAILED", code="RUN_EXECUTION_ERROR"
        ),
        # A run still going: its last hourly slice ends now, with no final state yet.
        run_row("2", "etl-now", ended_ago=timedelta(0), took=timedelta(minutes=50), state=None),
    ]
    answer = service(runs).answer_text(command, user_id="U1")
    texts = [answer.text, *_texts(answer.payload())]
    assert any(SLACK_DATE.search(t) for t in texts), "expected Slack dates in the answer"
    for text in texts:
        # Every Slack date's fallback names the configured zone ("07:55 CET").
        for _, fallback in SLACK_DATE.findall(text):
            assert fallback.endswith(" CET"), (command, fallback)
        # Outside Slack dates, a time of day carries its zone; a rule's own definition
        # ("succeeded by 07:00 Mon-Fri (Europe/Amsterdam)") names it in parentheses.
        rest = SLACK_DATE.sub("", text)
        rest = re.sub(r"by \d{1,2}:\d{2}[^\n]*\([A-Za-z_]+(?:/[A-Za-z_]+)*\)", "", rest)
        for match in CLOCK.finditer(rest):
            after = rest[match.end() : match.end() + 4]
            assert re.match(r" [A-Z]{3}", after), (command, text)
