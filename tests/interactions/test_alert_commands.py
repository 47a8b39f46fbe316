"""`/jobs alerts`, `/jobs mute <job> <duration>` and `/jobs unmute <job>` through the sandbox:
open alerts with who acknowledged and snoozed, muted jobs with who and until when, the
permission from `permissions.mute`, and every change in the audit log."""

from __future__ import annotations

from bot import actions
from bot.config.sections import Grant
from bot.models import JobKey
from tests.interactions.conftest import ALERTS, ALICE, CAROL, Stack
from tests.support.demo import Demo


def _ask(stack: Stack, text: str, user: str = ALICE) -> str:
    seen = stack.sb.command(f"/jobs {text}", user=user, channel=ALERTS)
    assert seen.status == "ok"
    return "\n".join(m.text + str(m.blocks) for m in seen.ephemerals)


def test_alerts_lists_open_incidents_with_ack_and_a_link(alerted) -> None:
    stack, _, _, alert = alerted
    assert "No open alerts" not in _ask(stack, "alerts")
    stack.click(alert, actions.JOBS_ACK, ALICE)
    shown = _ask(stack, "alerts")
    assert "1 open alert, 1 acknowledged" in shown
    assert "nightly_sales" in shown and "<@U01ALICE>" in shown and "2nd" not in shown
    assert f"archives/{ALERTS}/p{alert.ts.replace('.', '')}" in shown


def test_mute_then_alerts_then_unmute(stack: Stack, demo: Demo) -> None:
    job = demo.story.failing[0].job
    ref = f"{job.workspace_id}/{job.job_id}"
    said = _ask(stack, f"mute {ref} 2h")
    assert "Muted" in said and job.name in said and "<@U01ALICE>" in said and "until" in said
    mute = stack.store.mutes.active_mute(JobKey(job.workspace_id, job.job_id))
    assert mute is not None and mute.muted_by == ALICE
    listed = _ask(stack, "alerts", user=CAROL)
    assert "Muted jobs" in listed and job.name in listed and "Muted by <@U01ALICE>" in listed
    said = _ask(stack, f"unmute {ref}")
    assert "Unmuted" in said
    assert stack.store.mutes.active_mute(JobKey(job.workspace_id, job.job_id)) is None
    assert "not muted" in _ask(stack, f"unmute {ref}")
    results = [(e.action, e.result) for e in reversed(stack.audit())]
    assert results == [("mute", "ok"), ("unmute", "ok"), ("unmute", "not_muted")]
    assert stack.audit("mute")[0].detail["job_name"] == job.name


def test_the_unmute_button_on_the_list(stack: Stack, demo: Demo) -> None:
    job = demo.story.failing[0].job
    _ask(stack, f"mute {job.workspace_id}/{job.job_id} 1h")
    seen = stack.sb.command("/jobs alerts", user=ALICE, channel=ALERTS)
    listing = seen.ephemerals[-1]
    stack.click(listing, actions.JOBS_UNMUTE, ALICE, ephemeral=True)
    assert "Unmuted" in stack.said_to(ALICE)[-1]
    assert stack.store.mutes.active() == []


def test_mute_permission_comes_from_the_config(make_stack, demo: Demo) -> None:
    stack = make_stack(mute=Grant(mode="config", user_groups=("S01ONCALL",)))
    job = demo.story.failing[0].job
    said = _ask(stack, f"mute {job.workspace_id}/{job.job_id} 1h", user=CAROL)
    assert "not allowed to mute" in said and "<!subteam^S01ONCALL>" in said
    assert stack.store.mutes.active() == []
    assert [(e.action, e.result) for e in stack.audit()] == [("mute", "refused")]
    assert "Muted" in _ask(stack, f"mute {job.workspace_id}/{job.job_id} 1h", user=ALICE)


def test_an_unknown_job_gets_the_match_list(stack: Stack) -> None:
    assert "No job matches" in _ask(stack, "mute no_such_job_anywhere 1h")
    assert stack.audit() == []
