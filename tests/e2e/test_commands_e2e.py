"""Every /jobs subcommand, typed in the sandbox, answered by the real Bolt app over signed HTTP
from the real service on a generated demo account: what the person sees is right for the
account's story, private to them, and accepted by Slack."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.actions import JOBS_SHARE, decode
from tests.support.ask import ask
from tests.support.demo import END, Demo
from tests.support.stack import Stack


def test_help_lists_the_subcommands(stack: Stack) -> None:
    shown = ask(stack.sb, "help")
    for sub in ("failing", "status", "running", "sla", "cost", "anomalies"):
        assert f"/jobs {sub}" in shown.body
    # Every answer can be shared; the button carries the command that made it.
    share = shown.blocks[-1]["elements"][0]
    assert share["action_id"] == JOBS_SHARE and decode(share["value"]).command == "help"


def test_failing_lists_the_storys_failures_worst_first_with_streaks(
    stack: Stack, demo: Demo
) -> None:
    for text, window in (("failing", timedelta(hours=24)), ("failing 7d", timedelta(days=7))):
        shown = ask(stack.sb, text)
        expected = {f.job.name: f for f in demo.story.failing if END - f.last_failure < window}
        assert expected, "the story has failures in the window"
        names = shown.linked_names()
        assert sorted(names) == sorted(expected)
        streaks = [expected[n].streak for n in names]
        assert streaks == sorted(streaks, reverse=True), names
        worst = max(expected.values(), key=lambda f: f.streak)
        assert names[0] == worst.job.name and f"worst: {worst.job.name}" in shown.text
        for item in shown.items():
            name = LINKED(item)
            n = expected[name].streak
            fields = " ".join(f["text"] for f in item["fields"])
            assert f"{n} failure{'s' if n > 1 else ''} in a row" in fields
            assert expected[name].termination_code in item["text"]["text"]
        # Links go to the run in the job's own workspace.
        hosts = {w.workspace_id: w.url for w in demo.story.workspaces}
        first = expected[names[0]]
        assert f"{hosts[first.job.workspace_id]}/jobs/{first.job.job_id}/runs/" in shown.body


def LINKED(item: dict) -> str:
    return re.search(r"\*<[^|>]+\|([^>]+)>\*", item["text"]["text"]).group(1)


def test_failing_in_a_quiet_window_says_what_is_failing_now(stack: Stack, demo: Demo) -> None:
    assert all(END - f.last_failure > timedelta(minutes=30) for f in demo.story.failing)
    shown = ask(stack.sb, "failing 30m")
    # Nothing failed in the last 30 minutes, but it is not an all-clear: jobs are failing.
    assert "✅" not in shown.text and shown.text.startswith("No job failed in the last 30m")
    assert f"{len(demo.story.failing)} jobs are failing now" in shown.text
    assert demo.story.failing[0].job.name in shown.text
    assert shown.items() == []


def test_status_by_name_shows_the_late_job_with_its_sla(stack: Stack, demo: Demo) -> None:
    late = demo.story.late[0].job
    shown = ask(stack.sb, f"status {late.name}")
    header = shown.blocks[0]
    assert header["type"] == "header" and late.name in header["text"]["text"]
    for word in ("Success 7d", "Duration p50 / p90", "Cost 7d", "SLA", "Latest runs"):
        assert word in shown.body
    host = next(w.url for w in demo.story.workspaces if w.workspace_id == late.workspace_id)
    assert f"{host}/jobs/{late.job_id}" in shown.body


def test_status_by_workspace_and_id_finds_the_failing_job(stack: Stack, demo: Demo) -> None:
    worst = demo.story.failing[0]
    shown = ask(stack.sb, f"status {worst.job.workspace_id}/{worst.job.job_id}")
    assert worst.job.name in shown.blocks[0]["text"]["text"]
    assert "Last run failed" in shown.text
    assert worst.termination_code in shown.body


def test_status_by_a_job_id_used_in_two_workspaces_asks_which_then_shows_it(
    stack: Stack, demo: Demo
) -> None:
    late = demo.story.late[0].job
    assert late.job_id in demo.story.shared_job_ids
    shown = ask(stack.sb, f"status {late.job_id}", user="U03CAROL")
    assert "matches more than one job" in shown.text
    assert 2 <= len(shown.items()) <= 5
    assert late.name in shown.body
    # "Show status" on the right one: its status replaces the list, still only for the asker.
    pick = next(b for b in shown.items() if late.name in b["text"]["text"])
    clicked = stack.sb.click(
        shown.message, pick["accessory"]["action_id"], block_id=pick["block_id"], user="U03CAROL"
    )
    assert clicked.status == "ok" and clicked.http_status == 200
    now = [m for m in stack.sb.ephemerals("U03CAROL", "C02ALERTS") if m.id == shown.message.id]
    assert now and now[0].blocks[0]["type"] == "header"
    assert late.name in now[0].blocks[0]["text"]["text"]
    assert all(p["status"] == 200 for p in clicked.responses)


def test_an_ambiguous_name_offers_at_most_five(stack: Stack) -> None:
    shown = ask(stack.sb, "status _")
    assert "matches more than one job" in shown.text
    assert len(shown.items()) == 5
    assert all(b["accessory"]["text"]["text"] == "Show status" for b in shown.items())


def test_running_lists_the_runs_in_progress(stack: Stack, demo: Demo) -> None:
    shown = ask(stack.sb, "running")
    assert shown.text.startswith(f"{len(demo.story.in_progress)} runs in progress")
    for run in demo.story.in_progress:
        assert run.job.name in shown.body and run.run_id in shown.body


def test_sla_shows_every_rule_and_the_breached_one_first(stack: Stack) -> None:
    shown = ask(stack.sb, "sla")
    items = shown.items()
    assert len(items) == 3
    assert "Breached" in items[0]["text"]["text"]
    assert "hourly_events_ingest" in items[0]["text"]["text"]
    one = ask(stack.sb, "sla nightly_sales")
    assert len(one.items()) == 1 and "nightly_sales" in one.items()[0]["text"]["text"]
    assert "Met" in one.items()[0]["text"]["text"]


def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def _ranked(shown) -> list[tuple[str, float]]:
    top = next(b for b in shown.blocks if b.get("text", {}).get("text", "").startswith("*Top"))
    return [
        (m.group(1), _money(m.group(2)))
        for m in re.finditer(r"^\d+\. (.+?) — (\$[\d,.]+)", top["text"]["text"], re.M)
    ]


def test_cost_by_workspace_adds_up_to_the_total(stack: Stack, demo: Demo) -> None:
    shown = ask(stack.sb, "cost 30d by workspace")
    total = _money(re.search(r"\*(\$[\d,.]+)\* in the last 30d", shown.body).group(1))
    ranked = _ranked(shown)
    assert {name for name, _ in ranked} == {w.name for w in demo.story.workspaces}
    assert abs(sum(v for _, v in ranked) - total) < 0.02 * len(ranked)
    assert [v for _, v in ranked] == sorted((v for _, v in ranked), reverse=True)


def test_cost_7d_by_job_sku_and_team(stack: Stack, demo: Demo) -> None:
    by_job = ask(stack.sb, "cost 7d")
    assert "vs the previous 7d" in by_job.text and "Top 10 by job" in by_job.body
    assert len(_ranked(by_job)) == 10
    by_sku = ask(stack.sb, "cost 7d by sku")
    skus = [name for name, _ in _ranked(by_sku)]
    assert skus and all(re.fullmatch(r"[A-Z0-9_]+", s) for s in skus)
    by_team = ask(stack.sb, "cost 7d by tag:team")
    teams = {name for name, _ in _ranked(by_team)}
    assert {"data-eng", "ml-platform", "analytics"} <= teams
    # The three ways of cutting it agree on the total.
    totals = {
        re.search(r"\*(\$[\d,.]+)\* in the last 7d", s.body).group(1)
        for s in (by_job, by_sku, by_team)
    }
    assert len(totals) == 1


def test_anomalies_with_the_demo_minimum_explain_what_stayed_under_it(stack: Stack) -> None:
    shown = ask(stack.sb, "anomalies")
    assert "Cost anomalies" in shown.blocks[0]["text"]["text"]
    assert "minimum" in shown.body


def test_alerts_and_mute_say_they_are_not_there_yet(stack: Stack) -> None:
    for text in ("alerts", "mute x 1h"):
        shown = ask(stack.sb, text)
        assert "arrives with the alerts feature" in shown.text
