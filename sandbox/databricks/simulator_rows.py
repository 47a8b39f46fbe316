"""Ledger: the system-table rows of the world's runs, written through a `Sink` only once each
row would exist on Databricks.

The rows are read off the world's own runs (their repair history and task attempts), so the
tables can only ever say what the Jobs API says, in the tables' spelling. Timeline rows are
clock-hour slices: a slice is written `timeline_lag` after it closes (at the end of its clock
hour, or when its run, repair or task attempt ends if sooner), and only the slice that ends a
segment carries result_state. Usage rows cover whole clock hours of a run and are written
`billing_lag` after the hour ends.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.databricks.model import Outcome, Run
from sandbox.databricks.simulator_catalog import SimAccount, SimJob
from sandbox.databricks.sink import Sink
from sandbox.databricks.world import World

JOB_RUNS = "system.lakeflow.job_run_timeline"
TASK_RUNS = "system.lakeflow.job_task_run_timeline"
USAGE = "system.billing.usage"
HOUR = 3600
DAY = 86_400

# API trigger -> system-table trigger_type.
TRIGGER_TYPES = {"PERIODIC": "CRON", "ONE_TIME": "ONETIME", "RETRY": "ONETIME_RETRY",
                 "CONTINUOUS": "CONTINUOUS", "FILE_ARRIVAL": "FILE_ARRIVAL", "TABLE": "TABLE"}  # fmt: skip
# Platform failures: the API says FAILED, the tables say ERROR.
_ERROR_CODES = frozenset({"CLUSTER_ERROR", "DRIVER_ERROR", "LIBRARY_INSTALLATION_ERROR",
                          "INTERNAL_ERROR", "CLOUD_FAILURE"})  # fmt: skip


def table_result(how: Outcome) -> str:
    """The system-table result_state of an API outcome (SUCCESS -> SUCCEEDED, ...)."""
    state = how.result_state
    if state in ("SUCCESS", "SUCCESS_WITH_FAILURES"):
        return "SUCCEEDED"
    if state == "TIMEDOUT":
        return "TIMED_OUT"
    if state in ("CANCELED", "UPSTREAM_CANCELED"):
        return "CANCELLED"
    if state in ("FAILED", "INTERNAL_ERROR") and (
        how.code in _ERROR_CODES or how.type in ("INTERNAL_ERROR", "CLOUD_FAILURE")
    ):
        return "ERROR"
    return state  # FAILED, UPSTREAM_FAILED


def cluster_id(seed: int, workspace_id: int, run_id: int, start_s: int) -> str:
    """A job cluster id in Databricks' MMDD-HHMMSS-xxxxxxxx shape, fixed by seed and run."""
    tm = time.gmtime(start_s)
    tail = hashlib.sha256(f"{seed}/{workspace_id}/{run_id}".encode()).hexdigest()[:8]
    return f"{tm.tm_mon:02d}{tm.tm_mday:02d}-{tm.tm_hour:02d}{tm.tm_min:02d}{tm.tm_sec:02d}-{tail}"


SETTLED_KEPT = 100_000  # settled runs remembered for repairs (a few days of a big account)


@dataclass
class _Segment:
    """One run entry (original or repair) or one task attempt, and how far it is written."""

    written: int | None = None  # seconds: slices before this are written
    final: bool = False


@dataclass
class _Cursor:
    workspace_id: int
    run_id: int
    segments: dict[tuple[str, int], _Segment] = field(default_factory=dict)
    billed_to: int | None = None  # start of the next clock hour to bill


class Ledger:
    def __init__(
        self,
        sink: Sink,
        account: SimAccount,
        *,
        seed: int,
        timeline_lag_s: int = 300,
        billing_lag_s: int = HOUR,
    ) -> None:
        self.sink = sink
        self.account = account
        self.seed = seed
        self.timeline_lag = timeline_lag_s
        self.billing_lag = billing_lag_s
        self._open: dict[tuple[int, int], _Cursor] = {}
        # Runs whose rows are all written, kept so that a repair (which reopens the run)
        # writes only its new rows and bills only its new hours, not the whole run again.
        self._settled: dict[tuple[int, int], _Cursor] = {}
        self.written: dict[str, int] = {JOB_RUNS: 0, TASK_RUNS: 0, USAGE: 0}

    def track(self, run: Run) -> None:
        """Follow a run until its last row is written (again, after a repair reopens it)."""
        key = (run.workspace_id, run.run_id)
        if key not in self._open:
            self._open[key] = self._settled.pop(key, None) or _Cursor(run.workspace_id, run.run_id)

    @property
    def open_runs(self) -> int:
        return len(self._open)

    def flush(self, world: World, now_s: int) -> dict[str, int]:
        """Write every row visible at `now_s`; returns rows written per table."""
        out: dict[str, list[dict[str, Any]]] = {JOB_RUNS: [], TASK_RUNS: [], USAGE: []}
        with world.lock:
            for key, cur in list(self._open.items()):
                run = world.run(cur.workspace_id, cur.run_id)
                job = self.account.job(run.workspace_id, run.job_id)
                settled = self._timeline(run, job, cur, now_s, out)
                settled = self._usage(run, job, cur, now_s, out[USAGE]) and settled
                if settled and not run.active:
                    self._settled[key] = self._open.pop(key)
                    if len(self._settled) > SETTLED_KEPT:
                        del self._settled[next(iter(self._settled))]  # the oldest
        counts = {}
        for table, rows in out.items():
            counts[table] = self.sink.append(table, rows) if rows else 0
            self.written[table] += counts[table]
        return counts

    # -- timelines ---------------------------------------------------------------------------
    def _timeline(
        self,
        run: Run,
        job: SimJob | None,
        cur: _Cursor,
        now: int,
        out: dict[str, list[dict[str, Any]]],
    ) -> bool:
        base = {
            "account_id": self.account.account_id,
            "workspace_id": str(run.workspace_id),
            "job_id": str(run.job_id),
        }
        compute = self._compute_ids(run, job)
        settled = True
        for i, entry in enumerate(run.history):
            start = (run.start_time if i == 0 else entry.start_time) // 1000
            end = entry.end_time // 1000 if entry.end_time else None
            seg = cur.segments.setdefault(("run", entry.id), _Segment())
            queue = run.queue_duration // 1000 if i == 0 else 0
            for a, b, final in self._slices(seg, start, end, now):
                row = {**base, "run_id": str(run.run_id), "period_start_time": a,
                       "period_end_time": b, "trigger_type": TRIGGER_TYPES.get(run.trigger, run.trigger),
                       "run_type": run.run_type, "run_name": run.run_name, "compute_ids": compute}  # fmt: skip
                if final and entry.outcome is not None and end is not None:
                    row.update(self._final(entry.outcome, end - start, queue))
                out[JOB_RUNS].append(row)
            settled = settled and seg.final
        for attempts in run.tasks.values():
            for att in attempts:
                if att.state in ("PENDING", "BLOCKED") or att.start_time == 0:
                    continue
                if att.outcome and att.outcome.result_state.startswith("UPSTREAM_"):
                    continue  # never ran: it has no slices, as in the generated history
                start = att.start_time // 1000
                end = att.end_time // 1000 if att.state == "TERMINATED" else None
                seg = cur.segments.setdefault(("task", att.run_id), _Segment())
                for a, b, final in self._slices(seg, start, end, now):
                    row = {**base, "run_id": str(att.run_id), "job_run_id": str(run.run_id),
                           "parent_run_id": str(run.run_id), "period_start_time": a,
                           "period_end_time": b, "task_key": att.task_key, "compute_ids": compute}  # fmt: skip
                    if final and att.outcome is not None and end is not None:
                        row.update(self._final(att.outcome, end - start, None))
                    out[TASK_RUNS].append(row)
                settled = settled and seg.final
        return settled

    def _slices(
        self, seg: _Segment, start: int, end: int | None, now: int
    ) -> list[tuple[int, int, bool]]:
        """The slices of [start, end) that became visible by `now`; moves the segment on."""
        found: list[tuple[int, int, bool]] = []
        s = start if seg.written is None else seg.written
        while not seg.final:
            boundary = s - s % HOUR + HOUR
            if end is not None and end <= boundary:
                if end + self.timeline_lag > now:
                    break
                found.append((s, max(end, s), True))
                seg.final = True
            else:
                if boundary + self.timeline_lag > now:
                    break
                found.append((s, boundary, False))
                s = boundary
            seg.written = s
        return found

    @staticmethod
    def _final(how: Outcome, duration: int, queue: int | None) -> dict[str, Any]:
        row: dict[str, Any] = {
            "result_state": table_result(how),
            "termination_code": how.code,
            "termination_type": how.type,
            "setup_duration_seconds": 0,
            "cleanup_duration_seconds": 0,
            "execution_duration_seconds": max(0, duration - (queue or 0)),
        }
        if queue is not None:  # the run timeline has queue and total run time; tasks do not
            row["queue_duration_seconds"] = queue
            row["run_duration_seconds"] = duration
        return row

    def _compute_ids(self, run: Run, job: SimJob | None) -> list[str]:
        if job is None or job.compute.kind != "job_cluster":
            return []
        return [cluster_id(self.seed, run.workspace_id, run.run_id, run.start_time // 1000)]

    # -- billing -----------------------------------------------------------------------------
    def _usage(
        self, run: Run, job: SimJob | None, cur: _Cursor, now: int, out: list[dict[str, Any]]
    ) -> bool:
        if job is None or job.compute.sku is None:
            return True  # all-purpose compute is billed per cluster, never per job run
        spans = []
        for i, entry in enumerate(run.history):
            start = (run.start_time + (run.queue_duration if i == 0 else 0)) // 1000
            if i > 0:
                start = entry.start_time // 1000
            end = entry.end_time // 1000 if entry.end_time else now
            spans.append((start, end))
        first = spans[0][0]
        hour = cur.billed_to if cur.billed_to is not None else first - first % HOUR
        last_end = max(e for _, e in spans)
        while hour + HOUR + self.billing_lag <= now and (run.active or hour < last_end):
            used = sum(max(0, min(e, hour + HOUR) - max(s, hour)) for s, e in spans)
            if used > 0:
                out.append(self._usage_row(run, job, hour, used))
            hour += HOUR
        cur.billed_to = hour
        return not run.active and hour >= last_end

    def _usage_row(self, run: Run, job: SimJob, hour: int, used: int) -> dict[str, Any]:
        c = job.compute
        rng = random.Random(f"{self.seed}/usage/{run.workspace_id}/{run.run_id}/{hour}")
        meta: dict[str, Any] = {"job_id": str(run.job_id), "job_run_id": str(run.run_id)}
        tags = dict(c.custom_tags) or {k: v for k, v in job.tags.items()}
        if c.kind == "job_cluster":
            cid = self._compute_ids(run, job)[0]
            meta.update(cluster_id=cid, node_type=c.node_type)
            tags.update(JobId=str(run.job_id), RunName=run.run_name, ClusterId=cid)
        else:
            meta.update(job_name=run.run_name, run_name=run.run_name)
        visible = hour + HOUR + self.billing_lag
        return {
            "account_id": self.account.account_id,
            "record_id": f"{rng.getrandbits(128):032x}",
            "workspace_id": str(run.workspace_id),
            "sku_name": c.sku,
            "cloud": "AZURE",
            "usage_start_time": hour,
            "usage_end_time": hour + HOUR,
            "usage_date": hour // DAY,
            "custom_tags": tags,
            "usage_unit": "DBU",
            "usage_quantity": f"{c.dbu_per_hour * used / HOUR:.6f}",
            "usage_metadata": meta,
            "identity_metadata": {"run_as": job.run_as or run.creator_user_name},
            "record_type": "ORIGINAL",
            "ingestion_date": visible // DAY,
            "billing_origin_product": "JOBS",
            "product_features": dict(c.product_features),
            "usage_type": "COMPUTE_TIME",
        }
