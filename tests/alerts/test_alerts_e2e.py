"""A failure alert's whole life in the sandbox Slack: the bot built by bot.wiring (watch mode:
real JobsApi against the local Databricks, real store, real notifier and WebClient) posts the
alert in the routed channel, edits that same message and threads under it on the next
failure, and resolves it in place when the job succeeds."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bot.models import RunCost
from bot.slack.blocks_check import problems
from tests.alerts.conftest import WS, Live


def _fail(live: Live, job_id: int, error: str) -> None:
    run = live.world.start_run(WS, job_id)
    live.clock.set(live.clock.now() + timedelta(minutes=3))
    live.world.set_task_outcome(WS, run.run_id, "load", "FAILED", error, error=error)


def test_alert_is_posted_updated_in_place_threaded_and_resolved(live: Live) -> None:
    job = live.world.add_job(
        WS, "finance_gl_export", ("load",), tags={"team": "finance-data"},
        run_as_user_name="ben.carter@example.com",
    )  # fmt: skip
    live.tick()
    _fail(live, job.job_id, "Permission denied on s3://gl/2026")
    live.tick()
    channel = live.sb.workspace.channel_by_name("finance-data")
    posted = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    assert len(posted) == 1, "one alert in the routed channel"
    alert = posted[0]
    assert "finance_gl_export" in alert.text and "Permission denied" in str(alert.blocks)
    assert "<@U02BOB>" in str(alert.blocks)  # the owner, by the config's map
    assert problems({"text": alert.text, "blocks": alert.blocks}) == []
    # Slack has it under the channel id, and so does the incident (chat.update needs the id).
    (incident,) = live.bot.store.incidents.open_incidents()  # type: ignore[union-attr]
    assert incident.channel == channel.id and incident.message_ts == alert.ts

    _fail(live, job.job_id, "Permission denied on s3://gl/2026 (again)")
    live.tick()
    after = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    assert len(after) == 1, "a second failure edits the alert, it does not post another"
    assert "2nd failure in a row" in str(after[0].blocks)
    thread = live.sb.thread(channel.id, alert.ts)
    assert any("Failed again" in m.text for m in thread)

    run = live.world.start_run(WS, job.job_id)
    live.clock.set(live.clock.now() + timedelta(minutes=3))
    live.world.set_task_outcome(WS, run.run_id, "load", "SUCCESS")
    live.tick()
    final = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    assert len(final) == 1 and "recovered" in final[0].text
    assert not any(b.get("type") == "actions" for b in final[0].blocks)  # buttons gone
    thread = live.sb.thread(channel.id, alert.ts)
    assert any("Recovered" in m.text and "after 2 failures" in m.text for m in thread)


def test_owners_are_mentioned_by_map_by_slack_email_or_named(live: Live) -> None:
    channel = live.sb.workspace.channel_by_name("data-alerts")
    assert channel is not None
    owners = {
        "mapped": "ana.silva@example.com",  # the config's owners map → Alice
        "looked_up": "bob@example.com",  # not in the map: users.lookupByEmail → Bob
        "unknown": "nobody@example.com",  # no Slack user: named, not dropped
    }
    jobs = {k: live.world.add_job(WS, f"job_{k}", ("load",), run_as_user_name=v)
            for k, v in owners.items()}  # fmt: skip
    live.tick()
    for job in jobs.values():
        _fail(live, job.job_id, "boom")
    live.tick()
    shown = {m.text.split()[1]: str(m.blocks) for m in live.sb.messages(channel.id)
             if m.source != "user"}  # fmt: skip
    assert "<@U01ALICE>" in shown["job_mapped"]
    assert "<@U02BOB>" in shown["job_looked_up"]
    assert "nobody@example.com" in shown["job_unknown"] and "<@" not in shown["job_unknown"]


def test_a_repair_that_fails_again_bumps_the_same_alert(live: Live) -> None:
    job = live.world.add_job(WS, "flaky_export", ("load",))
    live.tick()
    run = live.world.start_run(WS, job.job_id)
    live.clock.set(live.clock.now() + timedelta(minutes=3))
    live.world.set_task_outcome(WS, run.run_id, "load", "FAILED", "disk full", error="disk full")
    live.tick()
    assert live.bot.jobs_api is not None and live.bot.alerts is not None
    # What a Rerun click does: repair the failed tasks, then watch the run.
    live.bot.jobs_api.repair_failed_tasks(str(WS), str(run.run_id))
    live.bot.alerts.watch(str(WS), str(run.run_id))
    live.clock.set(live.clock.now() + timedelta(minutes=2))
    live.world.set_task_outcome(WS, run.run_id, "load", "FAILED", "disk full", error="disk full")
    live.tick()
    (incident,) = live.bot.store.incidents.open_incidents()  # type: ignore[union-attr]
    assert incident.streak == 2  # the repair's failure counted, on the same incident
    channel = live.sb.workspace.channel_by_name("data-alerts")
    assert channel is not None
    alerts = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    assert len(alerts) == 1 and "2nd failure in a row" in str(alerts[0].blocks)
    # The run that failed is the repair: the alert says so, and so does the thread.
    facts = _fields(alerts[0].blocks)
    assert facts["Trigger"] == "repair"
    replies = live.sb.thread(channel.id, alerts[0].ts)
    assert any(m.text.startswith("🔴 Rerun failed: <") and f"|run {run.run_id}>" in m.text
               for m in replies)  # fmt: skip


def _fields(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """The alert's facts as a person reads them: label → value."""
    out: dict[str, str] = {}
    for block in blocks:
        for f in block.get("fields") or ():
            label, _, value = f["text"].partition("\n")
            out[label.strip("*")] = value
    return out


def test_the_alert_shows_every_fact_and_gets_its_cost_when_billing_has_it(live: Live) -> None:
    job = live.world.add_job(
        WS, "finance_gl_export", ({"task_key": "load", "max_retries": 2},),
        tags={"team": "finance-data"}, run_as_user_name="ben.carter@example.com",
    )  # fmt: skip
    alerts = live.bot.alerts
    assert alerts is not None
    # The job's usual duration, as the warehouse would say.
    alerts.facts.p90_seconds = lambda key: 600.0
    live.tick()
    run = live.world.start_run(WS, job.job_id)  # by its schedule
    # Two attempts fail and are retried; the third is the last.
    for _ in range(2):
        live.clock.set(live.clock.now() + timedelta(minutes=5))
        live.world.set_task_outcome(WS, run.run_id, "load", "FAILED", "transient", retry=True)
    live.clock.set(live.clock.now() + timedelta(minutes=10))
    live.world.set_task_outcome(
        WS, run.run_id, "load", "FAILED", "Permission denied", code="RUN_EXECUTION_ERROR",
        type="CLIENT_ERROR", error="AccessDenied: Permission denied on s3://gl/2026",
    )  # fmt: skip
    live.tick()
    channel = live.sb.workspace.channel_by_name("finance-data")
    assert channel is not None
    (alert,) = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    blocks = json.dumps(alert.blocks, ensure_ascii=False)
    facts = _fields(alert.blocks)
    host = live.bot.config.workspaces[0].host.rstrip("/")
    # Job (linked), workspace, and the notification text.
    assert f"<{host}/jobs/{job.job_id}|finance_gl_export>" in blocks
    assert "prod-emea" in alert.text and "finance_gl_export failed" in alert.text
    assert f"|run {run.run_id}>" in facts["Run"]
    # The failed task, its attempt, and its error in a code block.
    task = next(b["text"]["text"] for b in alert.blocks if b.get("block_id") == "alert-task-1")
    assert task.startswith("Task `load` failed on attempt 3")
    assert "```AccessDenied: Permission denied on s3://gl/2026```" in task.replace("\n", "")
    assert facts["Termination"] == "`RUN_EXECUTION_ERROR` · CLIENT_ERROR"
    assert facts["Duration"] == "20m 00s (usually ≤ 10m 00s, p90)"
    assert facts["Streak"] == "1 failure"
    assert facts["Owner"] == "<@U02BOB>"  # ben.carter@, by the config's owners map
    assert facts["Trigger"] == "schedule"
    assert facts["Cost of this run"].startswith("_pending")
    actions = next(b for b in alert.blocks if b["type"] == "actions")
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == ["jobs_rerun", "jobs_ack", "jobs_snooze", "jobs_open_run"]
    labels = [e.get("text", e.get("placeholder", {})).get("text") for e in actions["elements"]]
    assert labels == ["Rerun failed tasks", "Acknowledge", "Snooze", "Open run"]
    assert problems({"text": alert.text, "blocks": alert.blocks}) == []

    # Billing catches up hours later: the same message now shows what the run cost.
    end = live.clock.now()
    alerts.costs.run_cost = lambda ws, run_id: RunCost(
        True, Decimal("12.5"), Decimal("25"), 3, end - timedelta(minutes=30),
        end + timedelta(minutes=30), "USD",
    )  # fmt: skip
    live.clock.set(end + timedelta(hours=3))
    assert alerts.backfill_costs() == 1
    assert live.bot.notifier is not None
    live.bot.notifier.drain()
    (edited,) = [m for m in live.sb.messages(channel.id) if m.source != "user"]
    assert edited.ts == alert.ts
    assert _fields(edited.blocks)["Cost of this run"] == "$12.50"
