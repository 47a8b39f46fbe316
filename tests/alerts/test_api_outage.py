"""A workspace whose Jobs API is down for ten minutes: nothing is lost. Its failures of the
outage are alerted once it answers again, each once, marked as found late; a job that only
succeeded meanwhile says nothing."""

from __future__ import annotations

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
