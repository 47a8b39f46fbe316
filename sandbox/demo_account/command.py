"""`jobs-bot seed`: generate the demo account into a warehouse file and tell its story."""

from __future__ import annotations

import sys
import time

from bot.clock import parse_instant
from bot.errors import UserError
from sandbox.demo_account.account import generate
from sandbox.demo_account.story import DemoStory

_BIG = 20_000  # jobs x days above which progress goes to stderr


def seed_command(*, db: str, jobs: int, days: int, workspaces: int, seed: int,
                 end: str | None) -> int:  # fmt: skip
    try:
        at = parse_instant(end) if end else None
    except ValueError as e:
        raise UserError(f"--end: {e}") from None
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        print(f"seed: {done}/{total} jobs, {time.monotonic() - started:.0f}s", file=sys.stderr)

    story = generate(db, jobs=jobs, days=days, workspaces=workspaces, seed=seed, end=at,
                     progress=progress if jobs * days >= _BIG else None)  # fmt: skip
    print(summary(story, db, time.monotonic() - started))
    return 0


def summary(story: DemoStory, db: str, seconds: float) -> str:
    lines = [
        f"Seeded {db} in {seconds:.1f}s: {story.jobs} jobs in {len(story.workspaces)} workspaces, "
        f"{story.start:%Y-%m-%d %H:%M} to {story.end:%Y-%m-%d %H:%M} UTC (seed {story.seed})",
        "Rows:",
    ]
    lines += [f"  {name:40} {n:>10}" for name, n in story.rows]
    lines.append("The story:")
    for f in story.failing[:8]:
        lines.append(
            f"  failing: {f.job.name} (workspace {f.job.workspace_id}, job {f.job.job_id}): "
            f"{f.streak} failed in a row, last {f.result_state}/{f.termination_code}"
        )
    if len(story.failing) > 8:
        lines.append(f"  ... and {len(story.failing) - 8} more failing jobs")
    for lj in story.late[:4]:
        dates = ", ".join(d.isoformat() for d in lj.late_dates)
        lines.append(f"  late: {lj.job.name} usually done by {lj.usual_end} UTC, late on {dates}")
    if story.cost_spike is not None:
        s = story.cost_spike
        lines.append(
            f"  cost spike: {s.job.name} on {s.day}: runs {s.duration_factor:g}x longer on "
            f"{s.spike_node_type} ({s.dbu_factor:g}x DBU/h) instead of {s.usual_node_type}"
        )
    lines.append(f"  in progress at the end: {len(story.in_progress)} runs")
    for h in story.hung:
        hours = (h.end - h.start).total_seconds() / 3600
        lines.append(f"  hung: {h.job.name} ran {hours:.0f}h from {h.start:%Y-%m-%d %H:%M} UTC "
                     "until a user cancelled it")  # fmt: skip
    if story.shared_job_ids:
        lines.append(f"  job ids used in two workspaces: {', '.join(story.shared_job_ids)}")
    lines.append(
        f"  on all-purpose clusters: {', '.join(j.name for j in story.all_purpose_jobs[:5])}"
    )
    lines.append(f"  idle clusters: {', '.join(c.cluster_name for c in story.idle_clusters)}")
    lines.append(
        f"  renamed {len(story.renamed)}, deleted {len(story.deleted)}, paused {len(story.paused)}"
        f" jobs; {story.repaired_runs} repaired runs; {story.corrections} billing corrections; "
        f"list prices change at {story.price_change:%Y-%m-%d %H:%M} UTC"
    )
    return "\n".join(lines)
