"""Rerun failed tasks, end to end: the click in the sandbox, the real Bolt app, the permission
rules (config groups through usergroups.users.list, databricks mode through the job's ACL),
the repair in the local Databricks (repair_history), the thread line, and the outcome posted
when the world finishes the repair."""

from __future__ import annotations

import threading
import time
from typing import Any

from bot import actions
from bot.config.sections import Grant
from bot.models import JobsApiUnavailable
from sandbox.slack.state import Message
from tests.interactions.conftest import ALERTS, ALICE, BOB, CAROL, WS, Stack


def _repairs(stack: Stack, run_id: int) -> list:
    with stack.world.lock:
        return [h for h in stack.world.run(WS, run_id).history if h.type == "REPAIR"]


def _finish(stack: Stack, run_id: int, result: str = "SUCCESS") -> None:
    stack.tick(minutes=3)
    stack.world.set_task_outcome(WS, run_id, "load", result, "boom" if result != "SUCCESS" else "")


def test_an_on_call_member_reruns_and_the_outcome_resolves_the_alert(alerted) -> None:
    stack, _, run, alert = alerted
    stack.click(alert, actions.JOBS_RERUN, BOB)
    assert len(_repairs(stack, run)) == 1  # repaired in Databricks
    line = next(t for t in stack.thread(alert) if "Rerun started" in t)
    assert "<@U02BOB>" in line and f"run {run}" in line and "repairing its failed tasks" in line
    (entry,) = stack.audit("rerun")
    assert (entry.result, entry.actor_email, entry.run_id) == ("ok", "bob@example.com", str(run))
    assert entry.detail["via"] == "group:S01ONCALL"
    _finish(stack, run)
    stack.poll()  # the watched run is seen ending
    assert stack.store.incidents.open_incidents() == []
    assert any("Recovered" in t for t in stack.thread(alert))
    assert "recovered" in stack.current(alert).text


def test_someone_outside_the_group_is_refused_and_nothing_happens(alerted) -> None:
    stack, _, run, alert = alerted
    calls = stack.server.calls(WS).get("jobs/runs/repair", 0)
    stack.click(alert, actions.JOBS_RERUN, CAROL, ephemeral=True)
    said = stack.said_to(CAROL)[-1]
    assert "not allowed" in said and "<!subteam^S01ONCALL>" in said and "<@U02BOB>" in said
    assert stack.sb.ephemerals(BOB, ALERTS) == []  # only Carol sees it
    assert _repairs(stack, run) == [] and stack.server.calls(WS).get("jobs/runs/repair", 0) == calls
    (entry,) = stack.audit("rerun")
    assert (entry.result, entry.actor_id) == ("refused", CAROL)
    assert not any("Rerun" in t for t in stack.thread(alert))


def test_a_second_rerun_names_the_latest_repair(alerted) -> None:
    stack, _, run, alert = alerted
    stack.click(alert, actions.JOBS_RERUN, BOB)
    _finish(stack, run, "FAILED")
    stack.poll()  # the repair failed; the incident stays open
    stack.click(stack.current(alert), actions.JOBS_RERUN, ALICE)
    repairs = _repairs(stack, run)
    assert len(repairs) == 2  # the local Databricks refuses a repair without latest_repair_id
    assert [e.result for e in stack.audit("rerun")] == ["ok", "ok"]


def test_a_double_click_makes_one_repair(alerted) -> None:
    stack, _, run, alert = alerted
    before = len(stack.audit())
    go = threading.Barrier(2)

    def click() -> None:
        go.wait()
        stack.sb.click(alert, actions.JOBS_RERUN, user=BOB, timeout=0)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stack.sb.wait_until(lambda: len(stack.audit()) >= before + 2, 10)
    assert len(_repairs(stack, run)) == 1
    results = sorted(e.result for e in stack.audit("rerun"))
    assert results[1] == "ok" and results[0] in ("duplicate", "already_running")
    assert stack.sb.wait_until(lambda: stack.said_to(BOB), 5)
    assert sum("Rerun started" in t for t in stack.thread(alert)) == 1


def test_a_click_on_a_run_being_repaired_says_so(alerted) -> None:
    stack, _, run, alert = alerted
    stack.click(alert, actions.JOBS_RERUN, BOB)
    stack.click(alert, actions.JOBS_RERUN, ALICE, ephemeral=True)
    assert "running right now" in stack.said_to(ALICE)[-1]
    assert len(_repairs(stack, run)) == 1


def test_the_click_is_acked_at_once_while_databricks_is_slow(alerted) -> None:
    stack, _, run, alert = alerted
    stack.server.faults(WS).slow(1.2)  # every API answer takes 1.2 s (three calls: ~3.6 s)
    before = len(stack.audit())
    started = time.monotonic()
    seen = stack.sb.click(alert, actions.JOBS_RERUN, user=BOB, timeout=0)
    acked_in = time.monotonic() - started
    assert seen.status == "ok" and acked_in < 1.0  # Slack's 3 s rule, with room to spare
    assert len(stack.audit()) == before  # the repair is still on its way
    assert stack.sb.wait_until(lambda: len(stack.audit()) > before, 15)
    stack.server.faults(WS).clear()
    assert len(_repairs(stack, run)) == 1
    assert any("Rerun started" in t for t in stack.thread(alert))


def test_databricks_unreachable_is_told_and_nothing_is_half_done(alerted) -> None:
    stack, _, run, alert = alerted
    stack.server.faults(WS).throttle(1000, retry_after=2)  # 429s past the call's bound
    stack.click(alert, actions.JOBS_RERUN, BOB, ephemeral=True)
    stack.server.faults(WS).clear()
    assert "did not start" in stack.said_to(BOB)[-1]
    assert any("did not start" in t and "<@U02BOB>" in t for t in stack.thread(alert))
    assert _repairs(stack, run) == []
    assert [e.result for e in stack.audit("rerun")] == ["failed"]
    # The claim was given back: the next click works.
    stack.click(alert, actions.JOBS_RERUN, BOB)
    assert len(_repairs(stack, run)) == 1


def test_permission_denied_in_databricks_is_told(make_stack) -> None:
    stack = make_stack(bot_user="jobs-bot@example.com")
    job = stack.job()
    # The bot's own Databricks identity may watch the job but not run it.
    stack.world.set_permissions(WS, job, users={"jobs-bot@example.com": "CAN_VIEW"})
    stack.poll()
    run = stack.fail(job)
    stack.poll()
    alert = stack.alert()
    stack.click(alert, actions.JOBS_RERUN, BOB, ephemeral=True)
    said = stack.said_to(BOB)[-1]
    assert "did not start" in said and "refused" in said
    assert _repairs(stack, run) == []


def test_a_run_databricks_no_longer_keeps_gets_a_new_run_once(alerted) -> None:
    stack, job, run, alert = alerted
    with stack.world.lock:  # runs are removed after 60 days
        del stack.world.workspace(WS).runs.runs[run]
    stack.click(alert, actions.JOBS_RERUN, BOB)
    line = next(t for t in stack.thread(alert) if "Rerun started" in t)
    assert "as a new run" in line and "no longer kept" in line
    with stack.world.lock:
        runs = [r for r in stack.world.workspace(WS).runs.runs.values() if r.job_id == job]
    assert len(runs) == 1
    new_run = runs[0].run_id
    stack.click(alert, actions.JOBS_RERUN, ALICE, ephemeral=True)  # a second click
    with stack.world.lock:
        assert (
            len([r for r in stack.world.workspace(WS).runs.runs.values() if r.job_id == job]) == 1
        )
    _finish(stack, new_run)
    stack.poll()
    assert stack.store.incidents.open_incidents() == []


def test_a_failing_list_rerun_goes_through_the_same_rules(alerted) -> None:
    stack, job, run, alert = alerted
    value = actions.encode(workspace_id=WS, job_id=job, run_id=run)  # no alert id
    client = stack.sb.client()
    posted = client.chat_postMessage(
        channel=ALERTS,
        text="failing",
        blocks=[
            {
                "type": "section",
                "block_id": "item-1",
                "text": {"type": "mrkdwn", "text": "nightly_sales"},
                "accessory": {
                    "type": "button",
                    "action_id": actions.JOBS_RERUN,
                    "text": {"type": "plain_text", "text": "Rerun failed tasks"},
                    "value": value,
                },
            }
        ],
    )
    row = Message(ALERTS, posted["ts"], "failing")
    stack.click(row, actions.JOBS_RERUN, CAROL, ephemeral=True)
    assert "not allowed" in stack.said_to(CAROL)[-1]
    stack.click(row, actions.JOBS_RERUN, BOB)
    assert len(_repairs(stack, run)) == 1
    # The job's open alert gets the thread line.
    assert any("Rerun started by <@U02BOB>" in t for t in stack.thread(alert))


def _databricks_stack(make_stack) -> tuple[Stack, int, int, Message]:
    stack = make_stack(rerun=Grant(mode="databricks"))
    for email in ("alice@example.com", "bob@example.com", "carol@example.com"):
        stack.world.add_user(WS, email)
    stack.world.add_group(WS, "data-oncall", ["bob@example.com"])
    job = stack.job()
    stack.world.set_permissions(
        WS,
        job,
        users={"alice@example.com": "CAN_MANAGE_RUN", "carol@example.com": "CAN_VIEW"},
        groups={"data-oncall": "CAN_MANAGE_RUN"},
    )
    stack.poll()
    run = stack.fail(job)
    stack.poll()
    return stack, job, run, stack.alert()


def test_databricks_mode_direct_group_and_no_permission(make_stack) -> None:
    stack, _, run, alert = _databricks_stack(make_stack)
    stack.click(alert, actions.JOBS_RERUN, CAROL, ephemeral=True)  # CAN_VIEW only
    said = stack.said_to(CAROL)[-1]
    assert "not allowed" in said and "CAN_MANAGE_RUN" in said and "CAN_VIEW" in said
    assert _repairs(stack, run) == []
    stack.click(alert, actions.JOBS_RERUN, ALICE)  # directly on the job's ACL
    assert len(_repairs(stack, run)) == 1
    entries = {e.actor_id: e for e in stack.audit("rerun")}
    assert entries[ALICE].detail["via"].startswith("databricks:user:CAN_MANAGE_RUN")
    assert entries[CAROL].result == "refused"
    _finish(stack, run, "FAILED")
    stack.poll()
    stack.click(stack.current(alert), actions.JOBS_RERUN, BOB)  # through the group
    assert len(_repairs(stack, run)) == 2
    bob = next(e for e in stack.audit("rerun") if e.actor_id == BOB)
    assert bob.result == "ok" and "group:data-oncall" in bob.detail["via"]


# -- a resolved alert, a failed permission check ------------------------------------------


def test_a_rerun_on_a_resolved_alert_is_refused_and_audited(alerted) -> None:
    stack, job, run, alert = alerted
    stack.succeed(job)
    stack.poll()
    stack.drain()
    # The resolved message has no Rerun button any more: the click comes from an old copy.
    with stack.sb.server.state.lock:
        stack.sb.server.state.find(alert.channel, alert.id).blocks = alert.blocks
    stack.click(alert, actions.JOBS_RERUN, BOB, ephemeral=True)
    said = stack.said_to(BOB)[-1]
    assert "already resolved" in said and "nothing left to rerun" in said
    assert _repairs(stack, run) == []
    (entry,) = stack.audit("rerun")
    assert (entry.result, entry.actor_id, entry.actor_email) == ("resolved", BOB, "bob@example.com")
    resolved = stack.store.incidents.get(entry.incident_id)
    assert resolved is not None and not resolved.is_open and entry.run_id == str(run)


def test_a_databricks_error_during_the_permission_check_is_a_failed_rerun(make_stack) -> None:
    stack, _, run, alert = _databricks_stack(make_stack)
    stack.server.faults(WS).throttle(1000, retry_after=2)  # 429s past the call's bound
    stack.click(alert, actions.JOBS_RERUN, ALICE, ephemeral=True)
    stack.server.faults(WS).clear()
    said = stack.said_to(ALICE)[-1]
    assert "did not start" in said and "permission" in said and "not allowed" not in said
    line = next(t for t in stack.thread(alert) if "did not start" in t)
    assert "<@U01ALICE>" in line and "permission" in line
    (entry,) = stack.audit("rerun")
    assert entry.result == "failed" and entry.detail["stage"] == "checking permission in Databricks"
    assert _repairs(stack, run) == []
    stack.click(alert, actions.JOBS_RERUN, ALICE)  # Databricks answers again: it works
    assert len(_repairs(stack, run)) == 1


# -- a repair whose answer is lost -------------------------------------------------------


class _LostAnswer:
    """The bot's Jobs API, except that the answer to the repair POST never arrives: with
    `reaches=True` Databricks got the request (and repaired), else it did not."""

    def __init__(self, api: Any, *, reaches: bool) -> None:
        self._api = api
        self._reaches = reaches
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    def repair_failed_tasks(self, workspace_id: str, run_id: str) -> Any:
        if self.lost == 0:
            self.lost += 1
            if self._reaches:
                self._api.repair_failed_tasks(workspace_id, run_id)
            raise JobsApiUnavailable("prod-emea", "no answer within 4 s")
        return self._api.repair_failed_tasks(workspace_id, run_id)


def _lose_the_answer(stack: Stack, *, reaches: bool) -> _LostAnswer:
    interactions = stack.bot.answers.interactions
    assert interactions is not None
    lossy = _LostAnswer(interactions.reruns.api, reaches=reaches)
    interactions.reruns.api = lossy
    return lossy


def test_a_lost_answer_says_it_may_have_started_and_the_next_click_does_not_repeat_it(
    alerted,
) -> None:
    stack, _, run, alert = alerted
    _lose_the_answer(stack, reaches=True)
    stack.click(alert, actions.JOBS_RERUN, BOB, ephemeral=True)
    said = stack.said_to(BOB)[-1]
    assert "may or may not have started" in said and "nothing was changed" not in said
    assert f"/run/{run}|run {run}>" in said  # where to check: the run's page
    assert len(_repairs(stack, run)) == 1  # Databricks did start it
    assert any("may or may not have started" in t and "<@U02BOB>" in t for t in stack.thread(alert))
    assert [e.result for e in stack.audit("rerun")] == ["unknown"]
    _finish(stack, run, "FAILED")  # the repair ends before anyone clicks again
    stack.poll()  # the run was watched: its outcome reaches the alert
    assert any(t.startswith("🔴") and f"run {run}" in t for t in stack.thread(alert))
    stack.click(stack.current(alert), actions.JOBS_RERUN, ALICE, ephemeral=True)
    said = stack.said_to(ALICE)[-1]
    assert "did start after all" in said and "Nothing new was started" in said
    assert len(_repairs(stack, run)) == 1  # no second repair, blind or not
    assert any("did start" in t for t in stack.thread(alert))
    stack.click(stack.current(alert), actions.JOBS_RERUN, ALICE)  # now it is a real rerun
    assert len(_repairs(stack, run)) == 2


def test_a_lost_answer_to_a_repair_that_never_arrived_lets_the_next_click_repair(alerted) -> None:
    stack, _, run, alert = alerted
    _lose_the_answer(stack, reaches=False)
    stack.click(alert, actions.JOBS_RERUN, BOB, ephemeral=True)
    assert "may or may not have started" in stack.said_to(BOB)[-1]
    assert _repairs(stack, run) == []
    stack.click(alert, actions.JOBS_RERUN, BOB)  # the history shows no repair: go ahead
    assert len(_repairs(stack, run)) == 1
    assert any("Rerun started by <@U02BOB>" in t for t in stack.thread(alert))
    assert [e.result for e in stack.audit("rerun")] == ["ok", "unknown"]


# -- a /jobs failing rerun of a job without an alert ---------------------------------------


def _failing_row(stack: Stack, job: int, run: int) -> Message:
    """A /jobs failing row with its Rerun button, as the clicker saw it."""
    value = actions.encode(workspace_id=WS, job_id=job, run_id=run)  # no alert id
    posted = stack.sb.client().chat_postMessage(
        channel=ALERTS,
        text="failing",
        blocks=[
            {
                "type": "section",
                "block_id": "item-1",
                "text": {"type": "mrkdwn", "text": "nightly_sales"},
                "accessory": {
                    "type": "button",
                    "action_id": actions.JOBS_RERUN,
                    "text": {"type": "plain_text", "text": "Rerun failed tasks"},
                    "value": value,
                },
            }
        ],
    )
    return Message(ALERTS, posted["ts"], "failing")


def test_a_failing_list_rerun_without_an_alert_sends_its_outcome_to_the_clicker(stack) -> None:
    job = stack.job()
    run = stack.fail(job)
    stack.tick(minutes=30)
    stack.poll()  # the bot's first poll: that failure is history, no alert
    assert stack.store.incidents.open_incidents() == []
    stack.click(_failing_row(stack, job, run), actions.JOBS_RERUN, BOB, ephemeral=True)
    said = stack.said_to(BOB)[-1]
    assert said.startswith("🔁 Rerun started by <@U02BOB>") and "direct message" in said
    assert len(_repairs(stack, run)) == 1
    interactions = stack.bot.answers.interactions
    assert interactions is not None
    assert interactions.follow_reruns() == 0  # still running: nothing to say yet
    _finish(stack, run)
    stack.poll()
    # The periodic job the scheduler already runs for the buttons' follow-ups sends it.
    interactions.remind_snoozes()
    stack.drain()
    dm = [m.text for m in stack.sb.messages("D02BOB")]
    assert len(dm) == 1 and "rerun of *nightly_sales* succeeded" in dm[0] and f"run {run}" in dm[0]
    assert interactions.follow_reruns() == 0  # told once
    stack.drain()
    assert len(stack.sb.messages("D02BOB")) == 1
