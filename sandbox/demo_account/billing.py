"""The demo account's bill: list prices that change once, usage per run-hour per SKU for job and
serverless compute, per cluster-hour for all-purpose clusters (no job ids there, as in the real
table), and a few RETRACTION/RESTATEMENT pairs.

Usage rows cover whole clock hours ([10:00, 11:00)) and the price change falls on midnight UTC,
so every usage row prices to exactly one list-price row with the documented window join."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from sandbox.demo_account import catalog as C
from sandbox.demo_account.plan import DAY, HOUR, ApCluster, JobSpec, Window, rand_uuid
from sandbox.demo_account.rows import PRICES, USAGE, Batch

if TYPE_CHECKING:
    from sandbox.demo_account.runs import Attempt

BILLING_LAG = HOUR  # an hour of usage shows up once it is an hour old (real lag is longer)
CORRECTION_RATE = 0.01
_CLASSIC = {"jobs_tier": "CLASSIC", "is_serverless": False, "is_photon": False}
_SERVERLESS = {"is_serverless": True, "is_photon": True, "performance_target": "STANDARD"}
_ALL_PURPOSE = {"is_serverless": False, "is_photon": False}


def price_change_time(w: Window) -> int:
    return w.start + (w.days // 2) * DAY


def price_rows(batch: Batch, w: Window) -> int:
    change = price_change_time(w)
    first = w.start - 400 * DAY
    for p in C.PRICES:
        for start, end, default, promo in (
            (first, change, p.before, p.promo_before),
            (change, None, p.after, None),
        ):
            effective = promo if promo is not None else default
            pricing = {
                "default": Decimal(default),
                "promotional": {"default": Decimal(promo)} if promo is not None else None,
                "effective_list": {"default": Decimal(effective)},
            }
            batch.rows[PRICES].append((start, end, p.sku, C.CLOUD, "USD", "DBU", pricing))
    return change


def _emit(
    batch: Batch, rng: random.Random, w: Window, ws: str, sku: str, hs: int, qty: float,
    tags: dict, meta: dict, identity: dict, product: str, features: dict,
) -> None:  # fmt: skip
    day = hs // DAY
    ingest = day + (1 if hs % DAY >= 20 * HOUR else 0)
    q = f"{qty:.6f}"
    rows = batch.rows[USAGE]
    rows.append((rand_uuid(rng), ws, sku, C.CLOUD, hs, hs + HOUR, day, tags, "DBU", q, meta,
                 identity, "ORIGINAL", ingest, product, features, "COMPUTE_TIME"))  # fmt: skip
    # Corrections arrive days later: the retraction cancels the original exactly, the
    # restatement carries the corrected quantity. Never in the last two days of data.
    if day < (w.end // DAY) - 2 and rng.random() < CORRECTION_RATE:
        fixed = f"{qty * rng.uniform(0.8, 1.2):.6f}"
        later = day + rng.randint(2, 4)
        for record_type, quantity in (("RETRACTION", "-" + q), ("RESTATEMENT", fixed)):
            rows.append((rand_uuid(rng), ws, sku, C.CLOUD, hs, hs + HOUR, day, tags, "DBU",
                         quantity, meta, identity, record_type, later, product, features,
                         "COMPUTE_TIME"))  # fmt: skip
        batch.corrections += 1


def _hours(start: int, end: int, w: Window) -> Iterator[tuple[int, int]]:
    """(hour start, seconds used in that hour) for hours already billed at the end time."""
    t = start
    limit = min(end, w.end)
    while t < limit:
        hs = t - t % HOUR
        b = min(limit, hs + HOUR)
        if hs + HOUR + BILLING_LAG > w.end:
            return
        yield hs, b - t
        t = b


def usage_rows(job: JobSpec, run_id: str, run_name: str, att: Attempt, batch: Batch,
               w: Window) -> None:  # fmt: skip
    from sandbox.demo_account.catalog import NODE

    identity = {"run_as": job.run_as_name}
    if job.compute == "serverless":
        sku, rate, features = C.SKU_SERVERLESS, job.serverless_dbu, _SERVERLESS
        meta = {"job_id": job.job_id, "job_run_id": run_id, "job_name": run_name,
                "run_name": run_name}  # fmt: skip
        tags = {"team": job.team, "owner": job.owner}
    else:
        sku, features = C.SKU_JOBS, _CLASSIC
        rate = (job.workers + 1) * NODE[att.node_type].dbu_per_hour
        meta = {"cluster_id": att.cluster, "job_id": job.job_id, "job_run_id": run_id,
                "node_type": att.node_type}  # fmt: skip
        tags = {"team": job.team, "owner": job.owner, "JobId": job.job_id, "RunName": run_name,
                "ClusterId": att.cluster or "", "Vendor": "Databricks"}  # fmt: skip
    for hs, secs in _hours(att.start - att.setup, att.end, w):
        _emit(batch, job.rng, w, job.ws.id, sku, hs, rate * secs / HOUR, tags, meta, identity,
              "JOBS", features)  # fmt: skip


def ap_usage_rows(c: ApCluster, uptime: list[tuple[int, int]], batch: Batch, w: Window,
                  rng: random.Random) -> None:  # fmt: skip
    """All-purpose clusters bill per cluster-hour; jobs that ran on them leave no job_id."""
    from sandbox.demo_account.catalog import NODE

    rate = (c.workers + 1) * NODE[c.node_type].dbu_per_hour
    meta = {"cluster_id": c.cluster_id, "node_type": c.node_type}
    tags = {"ClusterName": c.name, "ClusterId": c.cluster_id, "Creator": c.owner,
            "Vendor": "Databricks"}  # fmt: skip
    if c.team is not None:  # the cluster's custom tags reach its usage rows
        tags["team"] = c.team
    identity = {"run_as": c.owner}  # for all-purpose compute, run_as is the cluster creator
    for s, e in uptime:
        for hs, secs in _hours(s, e, w):
            _emit(batch, rng, w, c.ws.id, C.SKU_ALL_PURPOSE, hs, rate * secs / HOUR, tags, meta,
                  identity, "ALL_PURPOSE", _ALL_PURPOSE)  # fmt: skip
