"""The run feed against the local Databricks: every run that ends is reported exactly once,
across restarts (watermark through JSON), downtime, runs spanning many polls and repairs;
and a poll's calls do not grow with the number of jobs."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from bot.clock import FixedClock
from bot.jobs_api import JobsApi
from bot.models import ApiRun
from bot.run_feed import FeedWatermark, RunFeed
from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.world import to_ms
from tests.support.jobs_api import START, make_api

POLL = timedelta(minutes=10)


class FakeSource:
    """A scripted RunSource for the edge cases the server cannot stage on demand."""

    def __init__(self) -> None:
        self.window: list[ApiRun] = []
        self.active: list[ApiRun] = []
        self.runs: dict[str, ApiRun] = {}

    def list_runs(
        self, workspace_id: str, *, started_from: datetime | None = None, active_only: bool = False
    ) -> list[ApiRun]:
        return list(self.active if active_only else self.window)

    def get_run(self, workspace_id: str, run_id: str, *, include_history: bool = True) -> ApiRun:
        return self.runs[run_id]


def _poll_all(
    feed: RunFeed, mark: FeedWatermark | None, seen: Counter[tuple[str, int]]
) -> FeedWatermark:
    result = feed.poll(mark)
    for run in result.ended:
        assert run.end_time is not None
        seen[(run.run_id, to_ms(run.end_time))] += 1
    # What the store does: keep the watermark as text.
    return FeedWatermark.from_json(result.watermark.to_json())


def test_a_simulated_day_is_reported_exactly_once(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    rng = random.Random(7)
    ws = world.add_workspace("analytics")
    w = ws.workspace_id
    jobs = [world.add_job(w, f"job-{i}", max_concurrent_runs=100).job_id for i in range(25)]
    durations = [timedelta(minutes=m) for m in (1, 3, 9, 25, 70, 200, 420)]
    results = ["SUCCESS", "SUCCESS", "FAILED", "TIMEDOUT", "CANCEL"]
    # (time, order, kind, payload); runs begin from 3 h before the feed's first poll.
    events: list[tuple[datetime, int, str, dict[str, object]]] = []
    downtime = (START + timedelta(hours=10), START + timedelta(hours=12, minutes=30))
    for n in range(400):
        start = START - timedelta(hours=3) + timedelta(seconds=rng.randrange(27 * 3600))
        end = start + rng.choice(durations) + timedelta(seconds=rng.randrange(1, 50))
        result = rng.choice(results)
        spec = {"job": rng.choice(jobs), "n": n, "result": result}
        events.append((start, 0, "start", spec))
        events.append((end, 1, "end", spec))
        repair_at = end + timedelta(minutes=25)
        clear_of_gap = not (downtime[0] - POLL <= repair_at <= downtime[1] + POLL)
        if result == "FAILED" and n % 2 == 0 and end > START and clear_of_gap:
            events.append((repair_at, 2, "repair", spec))
            events.append(
                (repair_at + timedelta(minutes=15), 3, "end", {**spec, "result": "SUCCESS"})
            )
    events.sort(key=lambda e: (e[0], e[1]))

    run_ids: dict[int, int] = {}
    expected: set[tuple[str, int]] = set()

    def apply(upto: datetime) -> None:
        while events and events[0][0] <= upto:
            at, _, kind, spec = events.pop(0)
            clock.set(at)
            n = int(spec["n"])  # type: ignore[call-overload]
            if kind == "start":
                run_ids[n] = world.start_run(w, int(spec["job"])).run_id  # type: ignore[call-overload]
            elif kind == "repair":
                world.repair(w, run_ids[n], rerun_all_failed_tasks=True)
            else:
                if spec["result"] == "CANCEL":
                    world.cancel_run(w, run_ids[n])
                else:
                    world.finish_run(w, run_ids[n], str(spec["result"]))
                if at >= START:
                    expected.add((str(run_ids[n]), to_ms(at)))

    seen: Counter[tuple[str, int]] = Counter()
    mark: FeedWatermark | None = None
    api: JobsApi | None = None
    t = START
    polls = 0
    while t <= START + timedelta(hours=32):
        apply(t)
        clock.set(t)
        if not (downtime[0] < t < downtime[1]):
            if api is None or polls % 17 == 0:  # a restart: new client, new feed, stored mark
                api = make_api(server, w)
            feed = RunFeed(api, str(w), clock)
            mark = _poll_all(feed, mark, seen)
            polls += 1
        t += POLL
    assert not events
    repeated = {k: c for k, c in seen.items() if c > 1}
    assert repeated == {}
    assert set(seen) == expected
    assert len(expected) > 300
    assert mark is not None and mark.active == {}


def test_a_run_spanning_poll_boundaries_is_found_once(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    ws = world.add_workspace("analytics")
    w = ws.workspace_id
    job = world.add_job(w, "long", max_concurrent_runs=10).job_id
    before = world.start_run(w, job).run_id  # starts before the feed's first poll
    clock.set(START + timedelta(hours=1))
    api = make_api(server, w)
    feed = RunFeed(api, str(w), clock)
    first = feed.poll(None)
    assert first.ended == () and [r.run_id for r in first.active] == [str(before)]
    clock.set(START + timedelta(hours=1, minutes=10))
    during = world.start_run(w, job).run_id  # starts between two polls, runs for hours
    mark = first.watermark
    ended: list[str] = []
    for minutes in range(20, 300, 10):
        clock.set(START + timedelta(hours=1, minutes=minutes))
        if minutes == 150:
            world.finish_run(w, before, "FAILED")
        if minutes == 230:
            world.finish_run(w, during, "SUCCESS")
        result = RunFeed(api, str(w), clock).poll(FeedWatermark.from_json(mark.to_json()))
        ended += [r.run_id for r in result.ended]
        mark = result.watermark
    assert ended == [str(before), str(during)]


def test_first_poll_ignores_history_and_later_polls_never_report_it(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    ws = world.add_workspace("analytics")
    w = ws.workspace_id
    job = world.add_job(w, "quick", max_concurrent_runs=10).job_id
    old = world.start_run(w, job).run_id
    clock.set(START + timedelta(seconds=20))
    world.finish_run(w, old, "FAILED")
    clock.set(START + timedelta(seconds=30))
    api = make_api(server, w)
    feed = RunFeed(api, str(w), clock, lookback=timedelta(seconds=5))
    assert feed.poll(None).ended == ()  # ended 10 s ago: before the 5 s lookback
    with_lookback = RunFeed(api, str(w), clock, lookback=timedelta(minutes=1)).poll(None)
    assert [r.run_id for r in with_lookback.ended] == [str(old)]
    mark = feed.poll(None).watermark
    clock.set(START + timedelta(seconds=60))
    assert feed.poll(mark).ended == ()  # still inside the overlap window, still not news


def test_watched_run_repaired_between_polls_is_reported(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    ws = world.add_workspace("analytics")
    w = ws.workspace_id
    job = world.add_job(w, "nightly").job_id
    run = world.start_run(w, job).run_id
    clock.set(START + timedelta(minutes=1))
    world.finish_run(w, run, "FAILED")
    api = make_api(server, w)
    feed = RunFeed(api, str(w), clock, lookback=timedelta(hours=1))
    first = feed.poll(None)
    assert [r.state.state for r in first.ended] == ["FAILED"]
    clock.set(START + timedelta(hours=2))
    quiet = feed.poll(first.watermark)  # the window now starts past the run's start
    assert quiet.ended == ()
    clock.set(START + timedelta(hours=2, minutes=1))
    api.repair_failed_tasks(str(w), str(run))
    clock.set(START + timedelta(hours=2, minutes=2))
    world.finish_run(w, run, "SUCCESS")  # the repair ended before the next poll
    clock.set(START + timedelta(hours=2, minutes=3))
    assert feed.poll(quiet.watermark).ended == ()  # unseen without `watch`
    again = feed.poll(quiet.watermark, watch=[str(run)])
    assert [r.state.state for r in again.ended] == ["SUCCEEDED"]
    assert feed.poll(again.watermark, watch=[str(run)]).ended == ()


def test_calls_per_poll_do_not_grow_with_jobs(clock: FixedClock) -> None:
    counts = {n: _calls_for_a_poll(clock, n) for n in (50, 5000)}
    assert counts[50] == counts[5000]
    assert sum(counts[50].values()) <= 6


def _calls_for_a_poll(clock: FixedClock, jobs: int) -> dict[str, int]:
    clock.set(START - timedelta(days=1))
    world = World(clock)
    ws = world.add_workspace("big")
    w = ws.workspace_id
    ids = [world.add_job(w, f"job-{i}", max_concurrent_runs=5).job_id for i in range(jobs)]
    for job in ids:  # every job has history: what a per-job poll would have to wade through
        world.finish_run(w, world.start_run(w, job).run_id, "SUCCESS")
    clock.set(START)
    long = [world.start_run(w, ids[i]).run_id for i in range(3)]
    with LocalDatabricks(world) as server:
        clock.set(START + timedelta(minutes=30))
        api = make_api(server, w)
        feed = RunFeed(api, str(w), clock)
        mark = feed.poll(None).watermark
        # Between two polls: 5 runs start and end, 2 start and go on, the 3 long runs end.
        clock.set(START + timedelta(minutes=30, seconds=5))
        for i in range(5):
            world.finish_run(w, world.start_run(w, ids[10 + i]).run_id, "FAILED")
        for i in range(2):
            world.start_run(w, ids[20 + i])
        for run in long:
            world.finish_run(w, run, "SUCCESS")
        clock.set(START + timedelta(minutes=30, seconds=30))
        server.reset_calls(w)
        result = feed.poll(mark)
        assert len(result.ended) == 8 and len(result.active) == 2
        assert result.calls == sum(server.calls(w).values())
        return server.calls(w)


def _run(run_id: str, start: int, end: int | None) -> ApiRun:
    from bot.jobs_api import parse_run

    status = {"state": "TERMINATED" if end else "RUNNING"}
    raw = {"run_id": run_id, "start_time": start, "end_time": end or 0, "status": status}
    return parse_run("1", raw, tasks_complete=False)


def test_stale_active_listing_after_an_end_does_not_repeat_it() -> None:
    src = FakeSource()
    clock = FixedClock(START)
    t0 = to_ms(START)
    feed = RunFeed(src, "1", clock)
    src.active = [_run("7", t0 - 3_600_000, None)]
    mark = feed.poll(None).watermark
    clock.set(START + POLL)
    src.active, src.runs["7"] = [], _run("7", t0 - 3_600_000, t0 + 1000)
    first = feed.poll(mark)
    assert [r.run_id for r in first.ended] == ["7"]
    # A lagging replica lists it as active once more, then it is gone again.
    clock.set(START + POLL * 2)
    src.active = [_run("7", t0 - 3_600_000, None)]
    second = feed.poll(first.watermark)
    clock.set(START + POLL * 2 + timedelta(seconds=30))
    src.active = []
    assert second.ended == () and feed.poll(second.watermark).ended == ()


def test_watermark_json_round_trip() -> None:
    mark = FeedWatermark(1, 0, {"5": 3}, {"6": (4, 9)})
    assert FeedWatermark.from_json(mark.to_json()) == mark


def test_a_deleted_watched_run_is_reported_gone_and_can_be_dropped(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    ws = world.add_workspace("analytics")
    w = ws.workspace_id
    job = world.add_job(w, "nightly", max_concurrent_runs=5).job_id
    watched = world.start_run(w, job).run_id
    tracked = world.start_run(w, job).run_id
    clock.set(START + timedelta(minutes=1))
    world.finish_run(w, watched, "FAILED")
    api = make_api(server, w)
    feed = RunFeed(api, str(w), clock)
    first = feed.poll(None)
    assert [r.run_id for r in first.active] == [str(tracked)] and first.gone == ()
    # Hours later (both runs started before the window): the watched run (say, one the bot
    # repaired) is deleted; the tracked one ends and is deleted before the next poll sees it.
    clock.set(START + timedelta(hours=3))
    world.finish_run(w, tracked, "SUCCESS")
    world.delete_run(w, watched)
    world.delete_run(w, tracked)
    server.reset_calls(w)
    result = feed.poll(first.watermark, watch=[str(watched)])
    assert result.ended == ()
    assert sorted(result.gone) == sorted([str(watched), str(tracked)])
    assert server.calls(w)["jobs/runs/get"] == 2
    assert result.watermark.active == {}  # the feed itself tracks neither any more
    # The caller drops the gone ids from its watch list: no runs/get for them again.
    server.reset_calls(w)
    quiet = feed.poll(result.watermark, watch=set() - set(result.gone))
    assert quiet.gone == () and "jobs/runs/get" not in server.calls(w)


def test_calls_count_every_page_of_a_listing(
    world: World, clock: FixedClock, server: LocalDatabricks
) -> None:
    from bot.jobs_api.client import PAGE_SIZE

    ws = world.add_workspace("busy")
    w = ws.workspace_id
    job = world.add_job(w, "fan-out", max_concurrent_runs=500).job_id
    api = make_api(server, w)
    feed = RunFeed(api, str(w), clock)
    mark = feed.poll(None).watermark
    clock.set(START + timedelta(seconds=10))
    for _ in range(2 * PAGE_SIZE + 3):  # three pages of new runs, and of active runs
        world.start_run(w, job)
    clock.set(START + timedelta(seconds=30))
    server.reset_calls(w)
    result = feed.poll(mark)
    assert len(result.active) == 2 * PAGE_SIZE + 3
    assert server.calls(w) == {"jobs/runs/list": 6}
    assert result.calls == 6  # pages (HTTP requests), not the two listings
    # A source that cannot count requests: one per listing and per get, as before.
    src = FakeSource()
    assert RunFeed(src, "1", clock).poll(None).calls == 2
