"""SLA and missed-run alerts go through the roll-up like failures (PRODUCT §5): more than
`monitoring.rollup_after_alerts` first posts in one channel within `rollup_window_seconds`
become one roll-up message, every alert in its thread once; each still resolves by itself,
its later news editing its own entry in that thread rather than posting again. Told by
`jobs-bot replay` over a hand-built account (the bot's own use cases, store and roll-up)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bot.warehouse import open_warehouse
from bot.wiring import build_replay
from tests.support.proactive import CONFIG, make_config
from tests.support.wh_world import Rows

WS = "1001"
DAY = date(2026, 3, 2)
NAMES = [f"export_{i}" for i in range(1, 8)]


def _account(path: Path) -> Path:
    """Seven jobs scheduled 03:00 Amsterdam (02:00 UTC) that all miss their start (their
    scheduler was down); export_6 is started by hand at 04:20 (ends 04:30)."""
    wh = open_warehouse(str(path))
    w = Rows(wh)  # type: ignore[arg-type]
    for i, name in enumerate(NAMES, start=1):
        w.scheduled_job(WS, str(100 + i), name, "2026-03-01 20:00", "0 0 3 * * ?",
                        "Europe/Amsterdam")  # fmt: skip
    w.slice(WS, "106", "r6", f"{DAY} 04:20", f"{DAY} 04:30", "SUCCEEDED", "SUCCESS")
    wh.close()
    return path


def _t(hhmm: str) -> str:
    return f"{DAY}T{hhmm}:00Z"


def test_a_burst_of_missed_runs_becomes_one_rollup_and_each_still_resolves(
    tmp_path: Path,
) -> None:
    db = _account(tmp_path / "account.duckdb")
    config = make_config(tmp_path, CONFIG + "schedules: {sla_check_seconds: 300}\n")
    start, end = datetime(2026, 3, 2, 3, 0, tzinfo=UTC), datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    with build_replay(config, str(db), start=start) as replay:
        got = [m.to_json() for m in replay.run(start, end).messages]
    summary = [
        (m["at"], m["channel"], m["kind"], m["job"]["name"] if m["job"] else None, m["update_of"])
        for m in got
    ]
    alone = [(_t("04:00"), "#data-alerts", "missed_run", name, None) for name in NAMES[:5]]
    assert summary[:5] == alone  # the limit (5): posted alone
    # The 6th and 7th: one roll-up, listing the five above and holding the two in its thread.
    assert summary[5:13] == [
        (_t("04:00"), "#data-alerts", "rollup", None, None),
        *[(_t("04:00"), "#data-alerts", "rollup", None, None) for _ in NAMES[:5]],
        (_t("04:00"), "#data-alerts", "missed_run", "export_6", None),
        (_t("04:00"), "#data-alerts", "missed_run", "export_7", None),
    ]
    head = got[5]["text"]
    assert head.startswith("🔥 6 alerts in prod-emea since"), head
    assert "6 missed runs" in str(got[5]["blocks"])
    rest = summary[13:]
    counted = [m for m in got[13:] if m["kind"] == "rollup" and m["update_of"] == _t("04:00")]
    assert counted and counted[0]["text"].startswith("🔥 7 alerts"), counted
    # export_6 started by hand (seen at the next quarter-hourly read of the jobs table): its
    # own entry in the thread is edited and a line added — nothing posted again.
    started = [r for r in rest if r[3] == "export_6"]
    assert started == [
        (_t("04:35"), "#data-alerts", "missed_run", "export_6", _t("04:00")),
        (_t("04:35"), "#data-alerts", "missed_run", "export_6", None),
    ]
    line = next(m for m in got if m["at"] == _t("04:35") and m["job"] and m["update_of"] is None)
    assert "A run started at" in line["text"]
    # Nothing else about the seven but the roll-up's own count and close.
    assert all(r[2] == "rollup" for r in rest if r[3] != "export_6"), rest
    assert sum(1 for r in summary if r[2] == "missed_run" and r[4] is None and
               r[0] == _t("04:00")) == 7  # fmt: skip
