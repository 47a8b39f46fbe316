"""`jobs-bot replay` over a hand-built account: exactly the messages the bot would have sent
(kinds, jobs, channels, times, which message an update edits), from a warehouse seen as it
was at each moment, posting nothing. Two accounts: a Wednesday of failures, cost and a burst
(no SLA rules), and a Monday with SLA rules, a scheduled job that misses its run, the daily
digest and the weekly report with its chart."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Config
from bot.service.replay import KINDS
from bot.warehouse import open_warehouse
from bot.wiring import build_replay
from tests.support.proactive import CONFIG, DAY, JOBS_SKU, make_config, spend, usual_month
from tests.support.wh_world import Rows, World

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


def _replay(
    tmp_path: Path,
    db: Path,
    config: Config | None = None,
    start: datetime = START,
    end: datetime = END,
) -> list[dict]:
    config = config or make_config(tmp_path)
    with build_replay(config, str(db), start=start) as replay:  # as `jobs-bot replay` builds it
        return [m.to_json() for m in replay.run(start, end).messages]


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


# -- a Monday: SLA rules, a missed run, the digest and the weekly report -------------------

MONDAY = date(2026, 3, 2)  # CET: 09:00 Amsterdam is 08:00 UTC
MONDAY_CONFIG = (
    CONFIG
    + """
slas:
  - {job: {name: nightly_sales}, deadline: "07:00", days: Mon-Fri}
  - {job: {name: orders_refresh}, deadline: "10:00"}
schedules: {sla_check_seconds: 300}
"""
)


def _monday_account(path: Path) -> Path:
    """The story (UTC; the rules are in Amsterdam time, CET):
    - nightly_sales (finance team; usually 04:00-05:00, p90 1 h; due 07:00 = 06:00 UTC) has not
      started by 05:05: at risk; breached at 06:00; its run (05:30-06:20) makes it late;
    - orders_refresh (p90 1 h 40 m; due 10:00 = 09:00 UTC) is at risk from 07:25; its run started
      07:10 shows at 08:00 (its first hourly slice) and is back on track; it succeeds 08:30;
    - finance_gl_export is scheduled 03:00 Amsterdam (02:00 UTC) and does not run;
    - billing of the last two weeks for the Monday digest and weekly report."""
    wh = open_warehouse(str(path))
    w = Rows(wh)  # type: ignore[arg-type]
    w.price(JOBS_SKU, "1.00", "2025-01-01 00:00")
    w.job(WS, "7", "nightly_sales", "2026-01-01 00:00", tags={"team": "finance-data"})
    w.job(WS, "8", "orders_refresh", "2026-01-01 00:00")
    for back in range(1, 11):
        d = MONDAY - timedelta(days=back)
        w.slice(WS, "7", f"s{back}", f"{d} 04:00", f"{d} 05:00", "SUCCEEDED", "SUCCESS")
        w.slice(WS, "8", f"o{back}", f"{d} 05:00", f"{d} 06:40", "SUCCEEDED", "SUCCESS")
    w.slice(WS, "7", "s0", f"{MONDAY} 05:30", f"{MONDAY} 06:20", "SUCCEEDED", "SUCCESS")
    w.slice(WS, "8", "o0", f"{MONDAY} 07:10", f"{MONDAY} 08:00")  # still running
    w.slice(WS, "8", "o0", f"{MONDAY} 08:00", f"{MONDAY} 08:30", "SUCCEEDED", "SUCCESS")
    w.scheduled_job(WS, "40", "finance_gl_export", "2026-03-01 20:00", "0 0 3 * * ?",
                    "Europe/Amsterdam", tags={"team": "finance-data"})  # fmt: skip
    for back in range(1, 15):  # $10 a day the week before last, $20 a day last week
        spend(w, WS, "7", MONDAY - timedelta(days=back), 20 if back <= 7 else 10)
    wh.close()
    return path


def _m(hhmm: str) -> str:
    return f"{MONDAY}T{hhmm}:00Z"


def test_replay_of_a_monday_tells_sla_missed_run_digest_and_weekly_report_with_chart(
    tmp_path: Path,
) -> None:
    db = _monday_account(tmp_path / "monday.duckdb")
    config = make_config(tmp_path, MONDAY_CONFIG)
    got = _replay(tmp_path, db, config, datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
                  datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # fmt: skip
    summary = [
        (m["at"], m["channel"], m["kind"], m["job"]["name"] if m["job"] else None, m["update_of"])
        for m in got
    ]
    assert summary == [
        # 02:00 UTC due, 15 min grace, and an hour for the run's first slice to be written.
        (_m("04:00"), "#finance-data", "missed_run", "finance_gl_export", None),
        # At risk, breached, met late: one message, edited twice, a thread line each.
        (_m("05:05"), "#finance-data", "sla_at_risk", "nightly_sales", None),
        (_m("06:00"), "#finance-data", "sla_breached", "nightly_sales", _m("05:05")),
        (_m("06:00"), "#finance-data", "sla_breached", "nightly_sales", None),
        (_m("06:20"), "#finance-data", "sla_met_late", "nightly_sales", _m("05:05")),
        (_m("06:20"), "#finance-data", "sla_met_late", "nightly_sales", None),
        # At risk, then back on track, then met on time: the worry is gone (recovered).
        (_m("07:25"), "#data-alerts", "sla_at_risk", "orders_refresh", None),
        (_m("08:00"), "#data-alerts", "recovered", "orders_refresh", _m("07:25")),
        (_m("08:00"), "#data-alerts", "recovered", "orders_refresh", None),
        # Monday 09:00 Amsterdam: the digest (whole account, the finance team's part), the
        # weekly report, and its chart in the report's thread.
        (_m("08:00"), "#data-alerts", "digest", None, None),
        (_m("08:00"), "#finance-data", "digest", None, None),
        (_m("08:00"), "#data-alerts", "weekly_report", None, None),
        (_m("08:00"), "#data-alerts", "weekly_report", None, _m("08:00")),
        (_m("08:30"), "#data-alerts", "recovered", "orders_refresh", _m("07:25")),
        (_m("08:30"), "#data-alerts", "recovered", "orders_refresh", None),
    ]
    texts = [m["text"] for m in got]
    assert "finance_gl_export did not start" in texts[0]
    assert "at 03:00 Europe/Amsterdam, no run by 03:15" in texts[0]
    assert "at risk" in texts[1] and "breached" in texts[2]
    assert "met its SLA late by 20m" in texts[4] and texts[5].startswith("🟠 Met late")
    assert "back on track" in texts[7] and texts[8].startswith("⚪ Back on track")
    assert "Weekly cost report 23 Feb – 1 Mar 2026: $140.00" in texts[11]
    chart = texts[12]
    assert chart.startswith("📎 chart: cost-by-team-2026-02-23-2026-03-01.png (")
    size = int(chart.split("(")[1].split(" bytes")[0])
    assert size > 1000, chart  # a real PNG, not an empty upload
    assert "met its SLA" in texts[13] and texts[14].startswith("✅ Met")
    assert {m["kind"] for m in got} <= set(KINDS)
    assert got[1]["job"] == {"workspace_id": WS, "job_id": "7", "name": "nightly_sales"}


def test_the_cli_shows_the_weekly_chart_in_json_lines(tmp_path: Path, capsys) -> None:
    db = _monday_account(tmp_path / "monday.duckdb")
    cfg = tmp_path / "monday.yml"
    cfg.write_text(MONDAY_CONFIG, encoding="utf-8")
    args = ["replay", "--config", str(cfg), "--db", str(db),
            "--from", "2026-03-02T07:50Z", "--to", "2026-03-02T08:05Z", "--json"]  # fmt: skip
    assert main(args) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    reports = [r for r in rows if r["kind"] == "weekly_report"]
    assert [(r["at"], r["update_of"]) for r in reports] == [
        (_m("08:00"), None), (_m("08:00"), _m("08:00")),
    ]  # fmt: skip
    assert reports[1]["text"].startswith("📎 chart: cost-by-team-") and reports[1]["blocks"] == []


def test_a_breach_never_met_is_closed_as_breached_when_its_day_ends(tmp_path: Path) -> None:
    db = tmp_path / "closed.duckdb"
    wh = open_warehouse(str(db))
    w = World(wh)  # type: ignore[arg-type]
    w.job(WS, "7", "nightly_sales", "2026-01-01 00:00", tags={"team": "finance-data"})
    for back in range(1, 11):
        d = MONDAY - timedelta(days=back)
        w.slice(WS, "7", f"s{back}", f"{d} 04:00", f"{d} 05:00", "SUCCEEDED", "SUCCESS")
    wh.close()  # and no run on Monday at all
    config = make_config(
        tmp_path, MONDAY_CONFIG.replace("sla_check_seconds: 300", "sla_check_seconds: 600")
    )
    got = _replay(tmp_path, db, config, datetime(2026, 3, 2, 5, 30, tzinfo=UTC),
                  datetime(2026, 3, 2, 23, 30, tzinfo=UTC))  # fmt: skip
    summary = [(m["at"], m["kind"], m["update_of"]) for m in got if m["job"]]
    assert summary == [
        (_m("05:40"), "sla_at_risk", None),
        (_m("06:00"), "sla_breached", _m("05:40")),
        (_m("06:00"), "sla_breached", None),
        # Midnight in Amsterdam: the day is over, the SLA was not met — closed, still a breach.
        (_m("23:00"), "sla_breached", _m("05:40")),
        (_m("23:00"), "sla_breached", None),
    ]
    closing = [m for m in got if m["job"] and m["at"] == _m("23:00")]
    assert "did not meet its SLA" in closing[0]["text"] and "closed" in closing[1]["text"]
