"""A workspace whose Jobs API is down for ten minutes: nothing is lost. Its failures of the
outage are alerted once it answers again, each once, marked as found late; a job that only
succeeded meanwhile says nothing. And the bot says it is blind meanwhile: after
`monitoring.degraded_after_failures` failed polls in a row, one "monitoring degraded" message in
the default channel, turned "restored" (with a thread line) when the API answers again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from tests.alerts.conftest import WS, Live


def _alerts(live: Live, channel: str) -> list:
    return [m for m in live.sb.messages(channel) if m.source != "user"]


def test_failures_during_a_ten_minute_api_outage_are_alerted_after_it_late_and_once(
    live: Live,
) -> None:
    team = {"team": "finance-data"}
    a = live.world.add_job(WS, "gl_export", ("load",), tags=team)
    b = live.world.add_job(WS, "ap_ledger", ("load",), tags=team)
    ok = live.world.add_job(WS, "fx_rates", ("load",), tags=team)
    live.tick()
    channel = live.sb.workspace.channel_by_name("finance-data")
    assert channel is not None

    live.server.faults(WS).unavailable(100_000)  # every call answers 503 until cleared
    runs = {job.job_id: live.world.start_run(WS, job.job_id) for job in (a, b, ok)}
    for minute in range(10):
        if minute == 2:
            live.world.set_task_outcome(WS, runs[a.job_id].run_id, "load", "FAILED", "disk full")
        if minute == 5:
            live.world.set_task_outcome(WS, runs[b.job_id].run_id, "load", "FAILED", "no rows")
            live.world.set_task_outcome(WS, runs[ok.job_id].run_id, "load", "SUCCESS")
        live.tick()
        assert _alerts(live, channel.id) == [], "nothing can be known while the API is down"

    live.server.faults(WS).clear()
    live.tick()
    live.tick()  # and once more: nothing twice
    posted = _alerts(live, channel.id)
    assert sorted(m.text.split(" ")[1] for m in posted) == ["ap_ledger", "gl_export"]
    for m in posted:
        title = next(b for b in m.blocks if b.get("block_id") == "alert-title")
        assert "found late" in title["text"]["text"], title
    assert "fx_rates" not in " ".join(m.text for m in posted)


def _scheduled_poll(live: Live) -> Callable[[], object]:
    """The workspace's poll as the bot's scheduler runs it (under the leader lease, its
    outcome told to the health watch), so the test drives the real stack but the timer."""
    assert live.bot.scheduler is not None
    return next(j.call for j in live.bot.scheduler.jobs if j.name == f"failures:{WS}")


def test_a_workspace_api_down_says_degraded_once_and_restored_once(live: Live) -> None:
    poll = _scheduled_poll(live)
    assert live.bot.notifier is not None
    default = live.sb.workspace.channel_by_name("data-alerts")
    assert default is not None
    threshold = live.bot.config.monitoring.degraded_after_failures
    assert threshold == 3

    def minute() -> None:
        live.clock.set(live.clock.now() + timedelta(minutes=1))
        poll()
        live.bot.notifier.drain()

    def notices() -> list:
        return [m for m in live.sb.messages(default.id) if m.source != "user"]

    minute()  # a good poll: nothing to say
    assert notices() == []
    live.server.faults(WS).unavailable(100_000)  # every call answers 503 until cleared
    for _ in range(threshold - 1):
        minute()
    assert notices() == [], "two failed polls are not an outage yet"
    minute()
    (notice,) = notices()
    assert "monitoring degraded" in notice.text.lower(), notice.text
    assert "prod-emea" in notice.text  # which workspace's Jobs API
    for _ in range(10):  # still down: nothing repeats
        minute()
    assert [m.ts for m in notices()] == [notice.ts]

    live.server.faults(WS).clear()
    minute()
    minute()  # and once more: nothing twice
    (restored,) = notices()
    assert restored.ts == notice.ts  # the same message, turned "restored" in place
    assert "restored" in restored.text.lower(), restored.text
    thread = [m for m in live.sb.thread(default.id, notice.ts) if m.ts != notice.ts]
    assert len(thread) == 1 and "Restored" in thread[0].text and "answers again" in thread[0].text
