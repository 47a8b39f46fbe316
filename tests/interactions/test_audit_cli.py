"""`jobs-bot audit`: the audit log of the real store as a table or JSON, filtered by --since and
--job; with no config in the folder it reads the demo's store there, else says what to do."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import FixedClock
from bot.store import Store
from sandbox import DEMO_CONFIG

NOW = datetime.now(UTC)


def _record(url: str) -> None:
    with Store.open(url, FixedClock(NOW)) as store:
        store.audit.record(
            "rerun", "ok", actor_id="U02BOB", actor_email="bob@example.com",
            workspace_id="1", job_id="101", run_id="9002", incident_id=1,
            detail={"job_name": "nightly_sales", "how": "repair"},
        )  # fmt: skip
        store.audit.record(
            "ack", "ok", actor_id="U01ALICE", actor_email="alice@example.com",
            workspace_id="1", job_id="202", incident_id=2, detail={"job_name": "ml_features"},
        )  # fmt: skip
        store.audit.record(
            "mute", "ok", actor_id="U03CAROL", workspace_id="1", job_id="101",
            at=NOW - timedelta(days=10),
        )  # fmt: skip


def test_json_and_table_from_the_demo_store_in_this_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _record("sqlite:///jobs-bot-demo-state.db")
    assert main(["audit", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["action"], r["actor_email"]) for r in rows] == [
        ("ack", "alice@example.com"),
        ("rerun", "bob@example.com"),
    ]  # newest first; the 10-day-old mute is outside the default 7d
    assert rows[1]["job_name"] == "nightly_sales" and rows[1]["run_id"] == "9002"
    assert main(["audit", "--since", "30d", "--job", "nightly"]) == 0
    table = capsys.readouterr().out
    lines = table.splitlines()
    assert lines[0].startswith("when (UTC)") and "rerun" in table and "ack" not in table
    assert "mute" in table  # the same job (by its ids), though that entry has no name
    assert main(["audit", "--job", "1/202", "--format", "json"]) == 0
    assert [r["action"] for r in json.loads(capsys.readouterr().out)] == ["ack"]


def test_a_config_names_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'prod-state.db'}"
    _record(url)
    config = tmp_path / "bot.yml"
    text = Path(DEMO_CONFIG).read_text(encoding="utf-8")
    config.write_text(text.replace("sqlite:///jobs-bot-demo-state.db", url), encoding="utf-8")
    assert main(["audit", "--config", str(config), "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_no_store_says_how_to_point_at_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["audit"]) == 2
    err = capsys.readouterr().err
    assert "--config" in err and "jobs-bot demo" in err
    assert not (tmp_path / "jobs-bot-demo-state.db").exists()  # nothing created


def test_a_bad_since_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    _record("sqlite:///jobs-bot-demo-state.db")
    assert main(["audit", "--since", "forever"]) == 2
    assert "is not a span" in capsys.readouterr().err
