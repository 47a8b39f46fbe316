"""Stopping the scheduler is bounded: a tick stuck in a call (a dead Slack, a workspace that
never answers) cannot hold a shutdown past the supervisor's grace period, and the stop says
which work was left for the next start. A tick that ends in time is waited for."""

from __future__ import annotations

import threading
import time

from bot.scheduler import Every, Scheduler


def _started(job_started: threading.Event) -> None:
    assert job_started.wait(10), "the scheduler never ran the job"


def test_a_stuck_tick_is_left_behind_within_the_bound() -> None:
    began, release = threading.Event(), threading.Event()

    def stuck() -> None:
        began.set()
        release.wait(30)

    sched = Scheduler([Every("stuck-poll", 3600, stuck)])
    sched.start()
    try:
        _started(began)
        t0 = time.monotonic()
        assert sched.stop(timeout=0.5) is False
        assert time.monotonic() - t0 < 5  # generous: a guard against a hang, not a timing test
        assert sched.unfinished == ("stuck-poll",)
    finally:
        release.set()


def test_a_tick_that_ends_in_time_is_waited_for() -> None:
    began, finished = threading.Event(), threading.Event()

    def short() -> None:
        began.set()
        time.sleep(0.2)
        finished.set()

    sched = Scheduler([Every("short-poll", 3600, short)])
    sched.start()
    _started(began)
    assert sched.stop(timeout=10) is True
    assert finished.is_set()  # stop returned only after the tick was done
    assert sched.unfinished == ()
