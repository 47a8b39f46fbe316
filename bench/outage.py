"""Benchmark of the outage fault scenario at full size (run by hand; tests/faults runs it at
CI size): 200 jobs fail within five minutes across three workspaces while Slack refuses about
a third of the posts and edits (429 with Retry-After 1 s, 503) and drops the Socket Mode
connection twice; the notifier keeps Slack's real pace of 1 message/s per channel.

    .venv/bin/python bench/outage.py [--jobs 200] [--pace 1.0] [--postgres URL]

Prints what the sandbox counted: incidents, lost, duplicated, roll-ups per channel, the
smallest gap between two posts in one channel, Slack's refusals, and the wall time.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from datetime import timedelta
from pathlib import Path

from tests.support.outage import run_outage


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--pace", type=float, default=1.0, help="seconds between posts per channel")
    ap.add_argument("--minutes", type=float, default=5.0, help="the failures' span")
    ap.add_argument("--postgres", default=None, help="a PostgreSQL URL for the store")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    r = run_outage(
        Path(tempfile.mkdtemp(prefix="jobs-bot-outage-")),
        jobs=args.jobs,
        pace=args.pace,
        span=timedelta(minutes=args.minutes),
        store_url=args.postgres,
        max_steps=400,
    )
    print(f"jobs failed                 {r.jobs} over {args.minutes:g} min, 3 workspaces")
    print(f"incidents in the store      {r.incidents} (max per job {r.incidents_per_job_max})")
    print(f"lost / duplicated           {len(r.lost)} / {len(r.duplicated)}")
    print(f"roll-ups per channel        {r.rollups}")
    gaps = ", ".join(f"{c} {g:.2f} s" for c, g in sorted(r.min_gap.items()))
    print(f"smallest gap between posts  {gaps}  (pace {args.pace:g} s)")
    print(f"Slack refused               {dict(r.refused)}")
    print(f"socket drops / answered     {r.socket_drops} / {r.answered_after_drops}")
    print(f"outbox left                 {r.outbox_left}")
    print(f"wall time                   {r.seconds:.1f} s, {r.steps} polls of simulated time")


if __name__ == "__main__":
    main()
