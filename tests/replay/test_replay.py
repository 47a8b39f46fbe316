"""`jobs-bot replay` over a hand-built account: exactly the messages the bot would have sent
(kinds, jobs, channels, times, which message an update edits), from a warehouse seen as it
was at each moment, posting nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import FixedClock
from bot.render import Renderer
from bot.service.replay import KINDS, Replay
from bot.store import Store
from bot.warehouse import open_warehouse
from bot.warehouse.as_of import AsOfWarehouse
from tests.costalerts.conftest import CONFIG, DAY, JOBS_SKU, make_config, spend, usual_month
from tests.warehouse.wh_world import World

WS = "1001"
START = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)
END = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def _account(path: Path) -> Path:
    """The story: nightly_sales fails at 02:10 and recovers at 03:10; ml_features' cost
    climbs through the morning; seven jobs fail together at 06:00; one run failed the
    evening before the period (already known: not announced again)."""
    wh = open_warehouse(str(path))
    w = World(wh)  # type: ignore[arg-type]
    w.price(JOBS_SKU, "1.00", "2025-01-01 00:00")
    w.job(WS, "7", "nightly_sales", "2026-01-01 00:00", tags={"team": "finance-data"})
    w.slice(WS, "7", "r1", f"{DAY} 02:00", f"{DAY} 02:10", "FAILED", "RUN_EXECUTION_ERROR")
    w.slice(WS, "7", "r2", f"{DAY} 03:00", f"{DAY} 03:10", "SUCCEEDED", "SUCCESS")
    w.job(WS, "9", "ml_features", "2026-01-01 00:00", run_as="ana@example.com")
    usual_month(w, WS, "9", DAY)
    spend(w, WS, "9", DAY, 240, runs=4)  # billed 01:50, 02:50, 03:50, 04:50
    for j in range(20, 27):
        w.job(WS, str(j), f"etl_{j}", "2026-01-01 00:00")
        w.slice(
            WS, str(j), f"o{j}", f"{DAY} 05:55", f"{DAY} 06:0{j - 20}", "FAILED", "CLOUD_FAILURE"
        )
    w.job(WS, "30", "old_failure", "2026-01-01 00:00")
    w.slice(WS, "30", "e1", "2026-03-03 22:00", "2026-03-03 22:30", "FAILED", "RUN_EXECUTION_ERROR")
    # A job renamed after the period: the replay must still call it by its old name.
    w.job(WS, "7", "nightly_sales_v2", "2026-03-05 00:00", tags={"team": "finance-data"})
    wh.close()
    return path


@pytest.fixture
def account(tmp_path: Path) -> Path:
    return _account(tmp_path / "account.duckdb")


def _replay(tmp_path: Path, db: Path) -> list[dict]:
    config = make_config(tmp_path)
    clock = FixedClock(START)
    wh = AsOfWarehouse.open(str(db))
    store = Store.open("sqlite://", clock)
    try:
        replay = Replay(config=config, clock=clock, renderer=Renderer(tz=config.timezone, clock=clock),
                        store=store, warehouse=wh)  # fmt: skip
        return [m.to_json() for m in replay.run(START, END).messages]
    finally:
        store.close()
        wh.close()


def _t(hhmm: str) -> str:
    return f"{DAY}T{hhmm}:00Z"


def test_replay_gives_exactly_the_expected_messages(tmp_path: Path, account: Path) -> None:
    got = _replay(tmp_path, account)
    summary = [
        (m["at"], m["channel"], m["kind"], m["job"]["name"] if m["job"] else None, m["update_of"])
        for m in got
    ]
    etl = [f"etl_{j}" for j in range(20, 27)]
    expected = [
        # The failure, found at the first 5-minute poll after its run ended.
        (_t("02:15"), "#finance-data", "failure", "nightly_sales", None),
        # Recovery: the alert edited in place, and a line in its thread.
        (_t("03:15"), "#finance-data", "recovered", "nightly_sales", _t("02:15")),
        (_t("03:15"), "#finance-data", "recovered", "nightly_sales", None),
        # Cost: 180 by 04:30 (z 5.4 over a usual 100 ± 10), 240 by 05:30: one alert, grown.
        (_t("04:30"), "#data-alerts", "cost_anomaly", "ml_features", None),
        (_t("05:30"), "#data-alerts", "cost_anomaly", "ml_features", _t("04:30")),
        (_t("05:30"), "#data-alerts", "cost_anomaly", "ml_features", None),
        # Seven failures ending 06:00-06:06: the five ending before 06:05 are posted alone
        # (the limit); the 06:10 poll starts the roll-up with them listed in its thread, then
        # the two new alerts in the thread, and the count updated at the roll-up's tick.
        *[(_t("06:05"), "#data-alerts", "failure", name, None) for name in etl[:5]],
        (_t("06:10"), "#data-alerts", "rollup", None, None),
        *[(_t("06:10"), "#data-alerts", "rollup", None, None) for _ in etl[:5]],
        *[(_t("06:10"), "#data-alerts", "failure", name, None) for name in etl[5:]],
        (_t("06:10"), "#data-alerts", "rollup", None, _t("06:10")),
        # A quiet window (300 s) after the last alert, the roll-up closes.
        (f"{DAY}T06:15:01Z", "#data-alerts", "rollup", None, _t("06:10")),
        # The daily digest at 09:00 Amsterdam: the whole account, and the finance team's part.
        (_t("08:00"), "#data-alerts", "digest", None, None),
        (_t("08:00"), "#finance-data", "digest", None, None),
    ]
    assert summary == expected
    by_kind = {m["kind"] for m in got}
    assert by_kind <= set(KINDS)
    first = got[0]
    assert first["job"] == {"workspace_id": WS, "job_id": "7", "name": "nightly_sales"}
    assert "RUN_EXECUTION_ERROR" in json.dumps(first["blocks"])
    cost = next(m for m in got if m["kind"] == "cost_anomaly")
    assert "$180.00" in cost["text"] and "more runs: 3 vs usually 1" in json.dumps(cost["blocks"])
    head = next(m for m in got if m["kind"] == "rollup")
    assert head["text"].startswith("🔥 6 jobs failed in prod-emea since")
    closed = next(m for m in reversed(got) if m["kind"] == "rollup")
    assert "Burst over" in json.dumps(closed["blocks"]) and "7 jobs failed" in closed["text"]
    digest = next(m for m in got if m["kind"] == "digest" and m["channel"] == "#data-alerts")
    assert "Daily digest" in digest["text"]


def test_the_cli_prints_json_lines_and_readable_lines(
    tmp_path: Path, account: Path, capsys
) -> None:
    cfg = tmp_path / "jobs-bot.yml"
    cfg.write_text(CONFIG, encoding="utf-8")
    args = ["replay", "--config", str(cfg), "--db", str(account),
            "--from", "2026-03-04T00:00Z", "--to", "2026-03-04T04:00Z"]  # fmt: skip
    assert main([*args, "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["at"], r["kind"]) for r in rows] == [
        (_t("02:15"), "failure"), (_t("03:15"), "recovered"), (_t("03:15"), "recovered"),
    ]  # fmt: skip
    assert set(rows[0]) == {"at", "channel", "kind", "job", "update_of", "text", "blocks"}
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "2026-03-04 02:15:00Z #finance-data failure nightly_sales:" in text
    assert "(edits 02:15:00Z)" in text and "3 message(s)" in text


def test_the_cli_says_what_is_wrong_in_one_line(tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "jobs-bot.yml"
    cfg.write_text(CONFIG, encoding="utf-8")
    base = ["replay", "--config", str(cfg), "--db", str(tmp_path / "none.duckdb")]
    assert main([*base, "--from", "2026-03-04T00:00Z", "--to", "2026-03-04T01:00Z"]) == 2
    assert "no such warehouse file" in capsys.readouterr().err
    assert main([*base, "--from", "2026-03-04T02:00Z", "--to", "2026-03-04T01:00Z"]) == 2
    assert "--to must be after --from" in capsys.readouterr().err
