"""Compute in the demo account: workspaces, node types, all-purpose clusters (their SCD rows,
when they are up, their per-hour usage) and a per-minute node_timeline for a bounded set of those
clusters over the last days, where the forgotten ones sit idle (cpu < 5%).

node_timeline is one row per instance per minute in the real table; emitting it for every
cluster and day would dwarf everything else, so only recent days of a few clusters are kept."""

from __future__ import annotations

import random

from sandbox.demo_account import catalog as C
from sandbox.demo_account.billing import ap_usage_rows
from sandbox.demo_account.plan import DAY, HOUR, ApCluster, Window, WorkspacePlan
from sandbox.demo_account.rows import CLUSTERS, NODE_TIMELINE, NODE_TYPES, WORKSPACES, Batch

NODE_TIMELINE_CLUSTERS = 12
NODE_TIMELINE_DAYS = 2
_DISK = {"/": 30_000_000_000, "/local_disk0": 140_000_000_000}


def static_rows(batch: Batch, workspaces: list[WorkspacePlan]) -> None:
    for n in C.NODE_TYPES:
        batch.rows[NODE_TYPES].append((n.name, n.cores, n.memory_mb, n.gpus))
    for ws in workspaces:
        batch.rows[WORKSPACES].append((ws.id, ws.name, ws.url, ws.created, "RUNNING"))


def uptime(c: ApCluster, w: Window) -> list[tuple[int, int]]:
    first, last = max(w.start, c.created), min(w.end, c.deleted or w.end)
    if c.pattern != "business":
        return [(first, last)] if first < last else []
    out = []
    for day in range(w.start, w.end, DAY):
        if ((day // DAY) + 3) % 7 >= 5:  # weekend (1970-01-01 was a Thursday)
            continue
        s, e = max(first, day + 7 * HOUR), min(last, day + 19 * HOUR)
        if s < e:
            out.append((s, e))
    return out


def cluster_rows(c: ApCluster, batch: Batch) -> None:
    lo, hi = 1, c.workers + 2
    events = [(c.created, hi, None)]
    if c.resized is not None:
        events.append((c.resized, hi + 4, None))
    if c.deleted is not None:
        events.append((c.deleted, events[-1][1], c.deleted))
    source = "UI" if c.pattern != "always_on" else "API"
    tags = {"ResourceClass": "Default"} | ({"team": c.team} if c.team is not None else {})
    for change, max_workers, deleted in events:
        batch.rows[CLUSTERS].append((
            c.ws.id, c.cluster_id, c.name, c.owner, c.created, deleted, c.node_type,
            c.node_type, None, lo, max_workers, 0 if c.pattern == "idle" else 60, True, tags,
            source, {"availability": "ON_DEMAND_AZURE", "first_on_demand": 1}, "15.4.x-scala2.12",
            change, change // DAY, "USER_ISOLATION",
        ))  # fmt: skip


def node_timeline_rows(c: ApCluster, up: list[tuple[int, int]], batch: Batch, w: Window,
                       rng: random.Random, days: int) -> None:  # fmt: skip
    since = w.end - days * DAY
    rows = batch.rows[NODE_TIMELINE]
    instances = [(f"{c.cluster_id}-i{k}", k == 0) for k in range(c.workers + 1)]
    rand = rng.random
    for s, e in up:
        s = max(s, since)
        s -= s % 60
        for m in range(s, e - 59, 60):
            hour = (m % DAY) // HOUR
            if c.pattern == "idle":
                base = 0.3
            elif c.pattern == "always_on":
                base = 45.0 if 8 <= hour < 18 else 8.0
            else:
                base = 25.0
            for inst, driver in instances:
                rows.append((c.ws.id, c.cluster_id, inst, m, m + 60, driver,
                             base * (0.5 + rand()) + rand() * 1.5, 0.3 + rand(), rand() * 0.4,
                             20 + rand() * 10 + base * 0.6, 0.0,
                             int(rand() * 2e6 * (1 + base)), int(rand() * 4e6 * (1 + base)),
                             _DISK, c.node_type))  # fmt: skip


def all_purpose(clusters: list[ApCluster], batch: Batch, w: Window, seed: int, jobs: int) -> None:
    # The idle and the busy clusters tell the story; business-hours ones only if room is left.
    order = {"idle": 0, "always_on": 1, "business": 2}
    seen: dict[str, int] = {}
    keys = []
    for i, c in enumerate(clusters):
        seen[c.pattern] = seen.get(c.pattern, -1) + 1
        keys.append((c.pattern == "business", seen[c.pattern], order[c.pattern], i))
    ranked = [k[-1] for k in sorted(keys)]
    with_timeline = set(ranked[: min(NODE_TIMELINE_CLUSTERS, max(4, jobs // 20))])
    days = 1 if jobs < 500 else NODE_TIMELINE_DAYS
    for i, c in enumerate(clusters):
        rng = random.Random(f"{seed}/apuse/{c.ws.index}/{c.cluster_id}")
        cluster_rows(c, batch)
        up = uptime(c, w)
        ap_usage_rows(c, up, batch, w, rng)
        if i in with_timeline:
            c.timeline = True
            node_timeline_rows(c, up, batch, w, rng, days)
