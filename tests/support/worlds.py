"""The hand-built fixture worlds of the query tests, as plain builder functions, and the
query calls made on them (CASES). The DuckDB fixture tests build these worlds through their
fixtures; the Spark conformance suite (tests/spark) loads the very same rows into Spark and
runs every case on both engines, so "the answer worked out by hand" and "the answer Spark
gives" are checked against one set of stories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.support import report_account
from tests.support.wh_world import Rows, World, utc

JOBS = "PREMIUM_JOBS_COMPUTE"
SERVERLESS = "PREMIUM_JOBS_SERVERLESS_COMPUTE_US_EAST"
AP = "PREMIUM_ALL_PURPOSE_COMPUTE"

NOW = utc("2026-03-02 09:00")
SINCE = utc("2026-03-01 09:00")
PREV = utc("2026-02-28 09:00")
ANOMALY_DAY = date(2026, 3, 1)  # a Sunday


def runs_account(w: World) -> World:
    """Run history (now = 2026-03-02 09:00 UTC, window = the 24 h before):
    - workspace 1, job 100 "nightly_sales" (renamed from "sales_old"): r0 ok Feb 10 (30 min),
      r1 ok Mar 1 01-02, r2 FAILED Mar 1 09:00-09:30, r3 FAILED in three hourly slices across
      midnight (23:00 -> 01:30, state only on the last slice), r4 in progress since 08:00.
    - workspace 2 reuses job id 100 ("other_job"): ok Feb 25, TIMED_OUT Feb 28, FAILED Mar 2.
    - workspace 1 job 200: run r30 failed at 03:00, was repaired and succeeded at 04:00.
    - workspace 1 job 400 failed at 06:00 and was deleted at 07:00.
    - workspace 1 job 500: slices stopped Mar 1 20:00 with no terminal row (lost, not running).
    - workspace 1 job 600: ok at 08:00; a failure ending 10:00 lies after now.
    """
    w.workspace("1", "prod")
    w.workspace("2", "staging")
    w.job("1", "100", "sales_old", "2026-01-01 00:00", tags={"owner": "old@x.com"})
    w.job("1", "100", "nightly_sales", "2026-02-01 00:00", tags={"owner": "ana@x.com"},
          run_as="svc@x.com")  # fmt: skip
    w.job("2", "100", "other_job", "2026-01-05 00:00", run_as="svc2@x.com", creator="c@x.com")
    w.job("1", "200", "nightly_sales_backfill", "2026-01-01 00:00", creator="cre@x.com")
    w.job("1", "400", "gone", "2026-01-01 00:00")
    w.job("1", "400", "old_nightly_sales", "2026-03-02 07:00", deleted="2026-03-02 07:00")
    w.job("1", "500", "lost_job", "2026-01-01 00:00")
    w.job("1", "600", "future_job", "2026-01-01 00:00")

    w.slice("1", "100", "r0", "2026-02-10 00:00", "2026-02-10 00:30", "SUCCEEDED", "SUCCESS")
    w.slice("1", "100", "r1", "2026-03-01 01:00", "2026-03-01 02:00", "SUCCEEDED", "SUCCESS")
    w.slice("1", "100", "r2", "2026-03-01 09:00", "2026-03-01 09:30", "FAILED", "DRIVER_ERROR")
    w.slice("1", "100", "r3", "2026-03-01 23:00", "2026-03-02 00:00")
    w.slice("1", "100", "r3", "2026-03-02 00:00", "2026-03-02 01:00")
    w.slice("1", "100", "r3", "2026-03-02 01:00", "2026-03-02 01:30", "FAILED",
            "RUN_EXECUTION_ERROR")  # fmt: skip
    w.slice("1", "100", "r4", "2026-03-02 08:00", "2026-03-02 09:00")

    w.slice("2", "100", "r20", "2026-02-25 01:00", "2026-02-25 02:00", "SUCCEEDED")
    w.slice("2", "100", "r21", "2026-02-28 01:00", "2026-02-28 02:00", "TIMED_OUT", "TIMEOUT")
    w.slice("2", "100", "r22", "2026-03-02 04:00", "2026-03-02 05:00", "FAILED",
            "CLUSTER_ERROR")  # fmt: skip

    w.slice("1", "200", "r30", "2026-03-02 02:00", "2026-03-02 03:00", "FAILED", "DRIVER_ERROR")
    w.slice("1", "200", "r30", "2026-03-02 03:30", "2026-03-02 04:00", "SUCCEEDED", "SUCCESS")

    w.slice("1", "400", "r40", "2026-03-02 05:00", "2026-03-02 06:00", "FAILED", "DRIVER_ERROR")
    w.slice("1", "500", "r50", "2026-03-01 19:00", "2026-03-01 20:00")
    w.slice("1", "600", "r60", "2026-03-02 07:00", "2026-03-02 08:00", "SUCCEEDED")
    w.slice("1", "600", "r61", "2026-03-02 09:30", "2026-03-02 10:00", "FAILED", "DRIVER_ERROR")
    return w


def billing(w: World) -> World:
    """Billing rows. Prices (AWS): JOBS 0.15 until Mar 1 12:00, then 0.20 (the hour 11-12
    uses the old price, the hour 12-13 the new one); ALL_PURPOSE 0.55. Window = Mar 1 09:00 ..
    Mar 2 09:00, previous window = Feb 28 09:00 .. Mar 1 09:00.

      ws1 job 100 (owner tag ana, team finance)
        Feb 10 00-01  10 DBU x 0.15 = 1.50   (30-day only)
        Feb 28 10-11   5 DBU x 0.15 = 0.75   (previous window)
        Mar 1 01-02   10 DBU x 0.15 = 1.50   (previous window)
        Mar 1 11-12    4 DBU x 0.15 = 0.60
        Mar 1 12-13    4 DBU x 0.20 = 0.80
        Mar 2 00-01    8 - 8 + 6 DBU x 0.20 = 1.20  (ORIGINAL, RETRACTION, RESTATEMENT)
      ws2 job 100 (same id, team ops, run_as svc2): Mar 2 04-05  5 DBU x 0.20 = 1.00
      ws1 all-purpose cluster ap-1, no job id, run_as bob: Mar 1 10-11  2 DBU x 0.55 = 1.10
    """
    w.workspace("1", "prod")
    w.workspace("2", "staging")
    w.job("1", "100", "nightly_sales", "2026-01-01 00:00", tags={"owner": "ana@x.com"})
    w.job("2", "100", "other_job", "2026-01-01 00:00", run_as="svc2@x.com")
    w.price(JOBS, "0.15", "2025-01-01 00:00", "2026-03-01 12:00")
    w.price(JOBS, "0.20", "2026-03-01 12:00")
    w.price(AP, "0.55", "2025-01-01 00:00")
    fin = {"team": "finance"}
    w.usage("1", JOBS, "2026-02-10 00:00", "2026-02-10 01:00", "10", job_id="100", run_id="r0",
            tags=fin)  # fmt: skip
    w.usage("1", JOBS, "2026-02-28 10:00", "2026-02-28 11:00", "5", job_id="100", run_id="r-1",
            tags=fin)  # fmt: skip
    w.usage("1", JOBS, "2026-03-01 01:00", "2026-03-01 02:00", "10", job_id="100", run_id="r1",
            tags=fin)  # fmt: skip
    w.usage("1", JOBS, "2026-03-01 11:00", "2026-03-01 12:00", "4", job_id="100", run_id="r2",
            tags=fin)  # fmt: skip
    w.usage("1", JOBS, "2026-03-01 12:00", "2026-03-01 13:00", "4", job_id="100", run_id="r2",
            tags=fin)  # fmt: skip
    for qty, kind in (("8", "ORIGINAL"), ("-8", "RETRACTION"), ("6", "RESTATEMENT")):
        w.usage("1", JOBS, "2026-03-02 00:00", "2026-03-02 01:00", qty, job_id="100",
                run_id="r3", record_type=kind, tags=fin)  # fmt: skip
    w.usage("2", JOBS, "2026-03-02 04:00", "2026-03-02 05:00", "5", job_id="100", run_id="r3",
            tags={"team": "ops"})  # fmt: skip
    w.usage("1", AP, "2026-03-01 10:00", "2026-03-01 11:00", "2", cluster_id="ap-1",
            run_as="bob@x.com")  # fmt: skip
    return w


def digest_day(w: World) -> World:
    """The billing world plus digest_runs."""
    return digest_runs(billing(w))


def digest_runs(w: World) -> World:
    """The runs that ended on Mar 1: r1 ok, r2 failed twice (a repair that failed again), r9
    TIMED_OUT, r10 started Mar 1 but ended Mar 2."""
    w.slice("1", "100", "r1", "2026-03-01 01:00", "2026-03-01 02:00", "SUCCEEDED")
    w.slice("1", "100", "r2", "2026-03-01 11:00", "2026-03-01 12:00", "FAILED")
    w.slice("1", "100", "r2", "2026-03-01 12:00", "2026-03-01 13:00", "FAILED")  # a repair
    w.slice("2", "100", "r9", "2026-03-01 22:00", "2026-03-01 23:00", "TIMED_OUT")
    w.slice("2", "100", "r10", "2026-03-01 23:00", "2026-03-02 00:00")  # ends next day
    w.slice("2", "100", "r10", "2026-03-02 00:00", "2026-03-02 00:30", "SUCCEEDED")
    return w


def _at(day: date, hour: int) -> str:
    return f"{day.isoformat()} {hour:02d}:00"


def anomaly(w: World) -> World:
    """Job 700 spikes on Sunday Mar 1 (5.00 vs 1.00 a day, a new SKU and node type, one
    repaired run); 800 costs 3.00 every Sunday only; 900 is flat."""
    day = ANOMALY_DAY
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    w.price(SERVERLESS, "0.10", "2025-01-01 00:00")
    w.job("1", "700", "spiky", "2026-01-01 00:00", tags={"owner": "ana@x.com"})
    w.job("1", "800", "weekly", "2026-01-01 00:00")
    w.job("1", "900", "steady", "2026-01-01 00:00")
    for back in range(1, 15):  # 700 and 900: 1.00 a day for the 14 days before
        d = day - timedelta(days=back)
        w.usage("1", JOBS, _at(d, 1), _at(d, 2), "10", job_id="700", run_id=f"a{back}",
                node_type="m5.xlarge")  # fmt: skip
        w.usage("1", JOBS, _at(d, 1), _at(d, 2), "10", job_id="900", run_id=f"s{back}")
    w.usage("1", JOBS, _at(day, 1), _at(day, 2), "10", job_id="900", run_id="s0")
    for back in (0, 7, 14, 21, 28):  # 800: 3.00 every Sunday only
        d = day - timedelta(days=back)
        w.usage("1", JOBS, _at(d, 3), _at(d, 4), "30", job_id="800", run_id=f"w{back}")
    # 700 on the day: 3.00 on the usual SKU over two runs + 2.00 on a SKU it never used.
    w.usage("1", JOBS, _at(day, 1), _at(day, 2), "15", job_id="700", run_id="x1",
            node_type="m5.xlarge")  # fmt: skip
    w.usage("1", JOBS, _at(day, 5), _at(day, 6), "15", job_id="700", run_id="x2",
            node_type="m5.4xlarge")  # fmt: skip
    w.usage("1", SERVERLESS, _at(day, 5), _at(day, 6), "20", job_id="700", run_id="x2")
    # Timeline: baseline runs of 30 min; on the day two runs of an hour, one repaired.
    for back in (1, 2):
        d = day - timedelta(days=back)
        w.slice("1", "700", f"a{back}", _at(d, 1), f"{d.isoformat()} 01:30", "SUCCEEDED")
    w.slice("1", "700", "x1", _at(day, 1), _at(day, 2), "SUCCEEDED")
    w.slice("1", "700", "x2", "2026-03-01 03:00", "2026-03-01 03:30", "FAILED")
    w.slice("1", "700", "x2", "2026-03-01 04:30", "2026-03-01 05:00", "SUCCEEDED")
    return w


def waste_world(w: World) -> World:
    """Job 10 fails (2.00), 11 is repaired (the 02-03 hour redone, 1.00), 12 runs 1.5 h of
    tasks on all-purpose ap-1 (billed 3 h = 1.65 without job id), 13 on a job cluster; ap-1's
    driver idles at 3% CPU, busy-1 works hard."""
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    w.price(AP, "0.55", "2025-01-01 00:00")
    w.job("1", "10", "fails", "2026-01-01 00:00")
    w.job("1", "11", "repaired", "2026-01-01 00:00")
    w.job("1", "12", "on_all_purpose", "2026-01-01 00:00")
    w.job("1", "13", "on_job_cluster", "2026-01-01 00:00")
    w.slice("1", "10", "f1", "2026-03-01 03:00", "2026-03-01 05:00", "FAILED")
    w.usage("1", JOBS, "2026-03-01 03:00", "2026-03-01 04:00", "10", job_id="10", run_id="f1")
    w.usage("1", JOBS, "2026-03-01 04:00", "2026-03-01 05:00", "10", job_id="10", run_id="f1")
    w.slice("1", "11", "p1", "2026-03-01 02:00", "2026-03-01 03:00", "FAILED")
    w.slice("1", "11", "p1", "2026-03-01 05:00", "2026-03-01 06:00", "SUCCEEDED")
    w.usage("1", JOBS, "2026-03-01 02:00", "2026-03-01 03:00", "10", job_id="11", run_id="p1")
    w.usage("1", JOBS, "2026-03-01 05:00", "2026-03-01 06:00", "10", job_id="11", run_id="p1")
    w.cluster("1", "ap-1", "shared-analytics", "UI", "2026-01-01 00:00")
    w.cluster("1", "jc-1", "job-cluster", "JOB", "2026-01-01 00:00")
    w.task_slice("1", "12", "q1", "2026-03-01 10:00", "2026-03-01 11:00", ["ap-1"])
    w.task_slice("1", "12", "q1", "2026-03-01 11:00", "2026-03-01 11:30", ["ap-1"])
    w.task_slice("1", "13", "q2", "2026-03-01 10:00", "2026-03-01 11:00", ["jc-1"])
    for h in (10, 11, 12):
        w.usage("1", AP, f"2026-03-01 {h}:00", f"2026-03-01 {h + 1}:00", "1", cluster_id="ap-1")
    for m in range(3):
        w.node_minute("1", "ap-1", f"2026-03-01 10:0{m}", 2.0, 1.0)
        w.node_minute("1", "busy-1", f"2026-03-01 10:0{m}", 45.0, 5.0)
    return w


def reports(w: World) -> World:
    """The report tests' account (tests/support/report_account.py): three routed jobs, a day."""
    report_account.build(w)
    return w


STORAGE = "PREMIUM_DATABRICKS_STORAGE"


def prices(w: World) -> World:
    """list_prices holds the JOBS SKU twice more for the same window: in EUR, and in another
    unit; a usage row must meet one price (A1). Storage usage is priced in GB and is no DBU
    (A2). The JOBS quantity has nine decimals, so its cost has eleven: exact, not rounded to
    six (the DECIMAL(38,10) x DECIMAL(38,8) product Spark rounds).
      ws1 job 100: Mar 1 10-11  1.123456789 DBU x 0.15 = 0.16851851835
                   Mar 1 10-11  50 GB x 0.0001 = 0.005 (storage, not DBUs)
    """
    w.workspace("1", "prod")
    w.job("1", "100", "nightly_sales", "2026-01-01 00:00", tags={"owner": "ana@x.com"})
    w.price(JOBS, "0.15", "2025-01-01 00:00")
    w.price(JOBS, "0.14", "2025-01-01 00:00", currency="EUR")
    w.price(JOBS, "0.02", "2025-01-01 00:00", unit="GB")
    w.price(STORAGE, "0.0001", "2025-01-01 00:00", unit="GB")
    w.usage("1", JOBS, "2026-03-01 10:00", "2026-03-01 11:00", "1.123456789", job_id="100",
            run_id="r1")  # fmt: skip
    w.usage("1", STORAGE, "2026-03-01 10:00", "2026-03-01 11:00", "50", job_id="100",
            run_id="r1", unit="GB")  # fmt: skip
    return w


def semantics(w: World) -> World:
    """Run states and run types (now = Mar 2 09:00), owners from billing.
    - job 300 "flaky" (no owner in its jobs row, billed as sp-etl lately): r1 ok Mar 1 01:00,
      r2 FAILED 03:00, r3 CANCELLED 05:00, r4 FAILED 07:00, r5 SKIPPED Mar 2 08:00, r6 running.
      Neutral runs neither end the streak nor decide: failing, streak 2, success 1/3 (A11).
    - job 310 "parent": r10 JOB_RUN ok Mar 2 02:30; its notebook-workflow children w1 (FAILED,
      ends 02:40), w2 (ok, 10 min) and w3 (running) are WORKFLOW_RUN rows, not runs (A9).
    - job 320: a SUBMIT_RUN that failed, with no jobs row: not a failing job (A9).
    - job 330 "old_streak": failed 2025-11-01 and Mar 2 06:00: the streak reaches back 90 days
      only (A15).
    """
    w.workspace("1", "prod")
    w.job("1", "300", "flaky", "2025-06-01 00:00")
    w.job("1", "310", "parent", "2026-01-01 00:00", tags={"owner": "ana@x.com"})
    w.job("1", "330", "old_streak", "2025-06-01 00:00", creator="cre@x.com")
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    w.usage("1", JOBS, "2026-03-01 03:00", "2026-03-01 04:00", "1", job_id="300", run_id="r2",
            run_as="sp-old@x.com")  # fmt: skip
    w.usage("1", JOBS, "2026-03-01 07:00", "2026-03-01 08:00", "1", job_id="300", run_id="r4",
            run_as="sp-etl@x.com")  # fmt: skip
    w.slice("1", "300", "r1", "2026-03-01 01:00", "2026-03-01 01:10", "SUCCEEDED", "SUCCESS")
    w.slice("1", "300", "r2", "2026-03-01 03:00", "2026-03-01 03:10", "FAILED", "DRIVER_ERROR")
    w.slice("1", "300", "r3", "2026-03-01 05:00", "2026-03-01 05:10", "CANCELLED", "CANCELLED")
    w.slice("1", "300", "r4", "2026-03-01 07:00", "2026-03-01 07:10", "FAILED", "DRIVER_ERROR")
    w.slice("1", "300", "r5", "2026-03-02 08:00", "2026-03-02 08:01", "SKIPPED", "SKIPPED")
    w.slice("1", "300", "r6", "2026-03-02 08:30", "2026-03-02 09:00")
    w.slice("1", "310", "r10", "2026-03-02 02:00", "2026-03-02 02:30", "SUCCEEDED", "SUCCESS")
    w.slice("1", "310", "w1", "2026-03-02 02:10", "2026-03-02 02:40", "FAILED",
            "RUN_EXECUTION_ERROR", run_type="WORKFLOW_RUN")  # fmt: skip
    w.slice("1", "310", "w2", "2026-03-02 02:00", "2026-03-02 02:10", "SUCCEEDED", "SUCCESS",
            run_type="WORKFLOW_RUN")  # fmt: skip
    w.slice("1", "310", "w3", "2026-03-02 08:00", "2026-03-02 09:00", run_type="WORKFLOW_RUN")
    w.slice("1", "320", "s1", "2026-03-02 04:00", "2026-03-02 04:30", "FAILED", "DRIVER_ERROR",
            run_type="SUBMIT_RUN")  # fmt: skip
    w.slice("1", "330", "o1", "2025-11-01 04:00", "2025-11-01 04:30", "FAILED", "DRIVER_ERROR")
    w.slice("1", "330", "o2", "2026-03-02 05:00", "2026-03-02 06:00", "FAILED", "DRIVER_ERROR")
    return w


def scheduled(w: World) -> World:
    """Two scheduled jobs (one paused, one with tags) and their run slices around Mar 2."""
    rows = Rows(w.wh)
    rows.con = w.con
    rows.scheduled_job("1", "10", "nightly", "2026-02-01 00:00", "0 0 2 * * ?",
                       "Europe/Amsterdam", tags={"team": "finance", "owner": "ana@x.com"})  # fmt: skip
    rows.scheduled_job("1", "11", "paused_one", "2026-02-01 00:00", "0 0 3 * * ?", paused=True)
    w.slice("1", "10", "r1", "2026-02-28 23:00", "2026-03-01 23:00")
    w.slice("1", "10", "r1", "2026-03-01 23:00", "2026-03-02 00:00", "SUCCEEDED")
    w.slice("1", "10", "r2", "2026-03-02 01:05", "2026-03-02 02:00")
    return w


def status_jobs(w: World) -> World:
    """What `/jobs status` says besides runs (now = 2026-03-02 09:00 UTC), workspace 1:
    - job 700 "billing_export", called "invoice_export" (two rows) until 2026-02-15 10:00,
      edited again on Feb 20; job 750 "invoice_export_archive" has the old name inside its own.
    - job 710 "weekly_rollup": a cron schedule, paused on its latest row (not on the first).
    - job 720 "legacy_sync" was deleted on 2026-02-27 12:00 (delete_time on its latest row).
    - job 730 "ab" was renamed "ab_v2" and back: its name now, not a former one.
    - job 760 "usual_len": successful runs of 2 h (started 31 days ago, ended within 30 days),
      30 min (yesterday), and 1 h that ended 31 days ago (outside the 30 days).
    """
    w.workspace("1", "prod")
    w.job("1", "700", "invoice_export", "2026-01-01 00:00", tags={"owner": "ana@x.com"})
    w.job("1", "700", "invoice_export", "2026-01-10 00:00", tags={"owner": "ana@x.com"})
    w.job("1", "700", "billing_export", "2026-02-15 10:00", tags={"owner": "ana@x.com"})
    w.job("1", "700", "billing_export", "2026-02-20 00:00", tags={"owner": "bo@x.com"})
    w.job("1", "750", "invoice_export_archive", "2026-01-01 00:00")
    rows = Rows(w.wh)
    rows.con = w.con
    rows.scheduled_job("1", "710", "weekly_rollup", "2026-01-01 00:00", "0 0 6 ? * MON")
    rows.scheduled_job("1", "710", "weekly_rollup", "2026-02-25 00:00", "0 0 6 ? * MON",
                       paused=True)  # fmt: skip
    w.job("1", "720", "legacy_sync", "2026-01-01 00:00")
    w.job("1", "720", "legacy_sync", "2026-02-27 12:00", deleted="2026-02-27 12:00")
    w.job("1", "730", "ab", "2026-01-01 00:00")
    w.job("1", "730", "ab_v2", "2026-01-02 00:00")
    w.job("1", "730", "ab", "2026-01-03 00:00")
    w.job("1", "760", "usual_len", "2026-01-01 00:00")
    w.slice("1", "760", "u1", "2026-01-31 08:00", "2026-01-31 09:00")
    w.slice("1", "760", "u1", "2026-01-31 09:00", "2026-01-31 10:00", "SUCCEEDED", "SUCCESS")
    w.slice("1", "760", "u2", "2026-03-01 00:00", "2026-03-01 00:30", "SUCCEEDED", "SUCCESS")
    w.slice("1", "760", "u0", "2026-01-30 00:00", "2026-01-30 01:00", "SUCCEEDED", "SUCCESS")
    w.slice("1", "720", "d1", "2026-02-26 01:00", "2026-02-26 01:20", "SUCCEEDED", "SUCCESS")
    return w


def cost_today(w: World) -> World:
    """`/jobs cost today` at Mar 2 05:30 UTC, billing lagging (its last hour today is 03-04).
    JOBS 0.10 a DBU. Like with like: yesterday's same hours, 00:00-04:00.
      job 1 "nightly" (01-02 every night):  Mar 1 10 DBU = 1.00;  Mar 2 12 DBU = 1.20
      job 2 "always_on" (every hour, 5 DBU = 0.50): Mar 1 00-24; Mar 2 00-04 (billed so far)
      job 3 "evening" (20-21):  Mar 1 30 DBU = 3.00
      job 4 "early" (04-05):    Mar 1 20 DBU = 2.00 (today's 04-05 is not billed yet)
    Today 3.20 (1.20 + 4 x 0.50); yesterday 00:00-04:00 3.00 (1.00 + 4 x 0.50). The hours
    before midnight (the old comparison, 18:30-24:00) held 3.00 + 5 x 0.50 = 5.50 and no
    "nightly" at all.
    """
    w.workspace("1", "prod")
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    for job_id, name in (("1", "nightly"), ("2", "always_on"), ("3", "evening"), ("4", "early")):
        w.job("1", job_id, name, "2026-01-01 00:00")
    w.usage("1", JOBS, "2026-03-01 01:00", "2026-03-01 02:00", "10", job_id="1", run_id="n1")
    w.usage("1", JOBS, "2026-03-02 01:00", "2026-03-02 02:00", "12", job_id="1", run_id="n2")
    start = datetime(2026, 3, 1)
    for h in range(24 + 4):
        begin, end = start + timedelta(hours=h), start + timedelta(hours=h + 1)
        w.usage("1", JOBS, f"{begin:%Y-%m-%d %H:%M}", f"{end:%Y-%m-%d %H:%M}", "5",
                job_id="2", run_id=f"a{begin:%d}")  # fmt: skip
    w.usage("1", JOBS, "2026-03-01 20:00", "2026-03-01 21:00", "30", job_id="3", run_id="e1")
    w.usage("1", JOBS, "2026-03-01 04:00", "2026-03-01 05:00", "20", job_id="4", run_id="y1")
    return w


TODAY_AT = utc("2026-03-02 05:30")


def cost_coverage(w: World) -> World:
    """Billing that starts on Feb 20: job 1 "daily" costs 1.00 (10 DBU x 0.10) at 01-02 every
    day from Feb 20 to Mar 2. Now = Mar 2 09:00.
      3d:  previous window Feb 24 09:00 - Feb 27 09:00, billed from before it: compared.
      7d:  previous window Feb 16 09:00 - Feb 23 09:00, billed from Feb 20 01:00: partly.
      30d: previous window Jan 1 - Jan 31, nothing billed (the old answer called it "new").
    """
    w.workspace("1", "prod")
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    w.job("1", "1", "daily", "2026-01-01 00:00")
    day = date(2026, 2, 20)
    while day <= date(2026, 3, 2):
        w.usage("1", JOBS, _at(day, 1), _at(day, 2), "10", job_id="1", run_id=f"d{day:%m%d}")
        day += timedelta(days=1)
    return w


def cost_tags(w: World) -> World:
    """Tags on Mar 1 (JOBS 0.10), each usage row carrying its job's tags: job 1 {team: a,
    env: prod} twice, job 2 {team: b}, job 3 {Colour: blue}, job 4 {team: z} not billed at
    all; the all-purpose cluster ap-9 bills with its own tag {team: c} and no job id. Job tag
    keys by billed jobs: team 2, then Colour and env 1 each."""
    w.workspace("1", "prod")
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    w.price(AP, "0.55", "2025-01-01 00:00")
    both = {"team": "a", "env": "prod"}
    w.job("1", "1", "tagged", "2026-01-01 00:00", tags=both)
    w.job("1", "2", "other", "2026-01-01 00:00", tags={"team": "b"})
    w.job("1", "3", "painted", "2026-01-01 00:00", tags={"Colour": "blue"})
    w.job("1", "4", "idle_job", "2026-01-01 00:00", tags={"team": "z"})
    w.usage("1", JOBS, "2026-03-01 10:00", "2026-03-01 11:00", "10", job_id="1", run_id="t1",
            tags=both)  # fmt: skip
    w.usage("1", JOBS, "2026-03-01 11:00", "2026-03-01 12:00", "10", job_id="1", run_id="t1",
            tags=both)  # fmt: skip
    w.usage("1", JOBS, "2026-03-01 12:00", "2026-03-01 13:00", "10", job_id="2", run_id="t2",
            tags={"team": "b"})  # fmt: skip
    w.usage("1", JOBS, "2026-03-01 13:00", "2026-03-01 14:00", "10", job_id="3", run_id="t3",
            tags={"Colour": "blue"})  # fmt: skip
    w.usage("1", AP, "2026-03-01 12:00", "2026-03-01 13:00", "2", cluster_id="ap-9",
            tags={"team": "c"})  # fmt: skip
    return w


def anomaly_scores(w: World) -> World:
    """The three ways the anomaly score's spread is floored, on Sunday Mar 1 (JOBS 0.10):
    710 "noisy": 1.00 and 2.00 on alternate days (median 1.50, MAD 0.50: the MAD counts),
        10.00 on the day: z = 8.50 / (1.4826 x 0.50) = 11.47
    720 "flat": 1.00 every day (MAD 0: a tenth of the median counts), 5.00 on the day:
        z = 4.00 / (1.4826 x 0.10) = 26.98
    730 "tiny": 0.02 every day (MAD 0: the 0.01 minimum counts), 0.05 on the day:
        z = 0.03 / (1.4826 x 0.01) = 2.02, under the 3.5 alert threshold
    """
    day = ANOMALY_DAY
    w.workspace("1", "prod")
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    for job_id, name in (("710", "noisy"), ("720", "flat"), ("730", "tiny")):
        w.job("1", job_id, name, "2026-01-01 00:00")
    for back in range(1, 29):
        d = day - timedelta(days=back)
        w.usage("1", JOBS, _at(d, 1), _at(d, 2), "10" if back % 2 else "20", job_id="710",
                run_id=f"n{back}")  # fmt: skip
        w.usage("1", JOBS, _at(d, 2), _at(d, 3), "10", job_id="720", run_id=f"f{back}")
        w.usage("1", JOBS, _at(d, 3), _at(d, 4), "0.2", job_id="730", run_id=f"t{back}")
    w.usage("1", JOBS, _at(day, 1), _at(day, 2), "100", job_id="710", run_id="n0")
    w.usage("1", JOBS, _at(day, 2), _at(day, 3), "50", job_id="720", run_id="f0")
    w.usage("1", JOBS, _at(day, 3), _at(day, 4), "0.5", job_id="730", run_id="t0")
    return w


SCOPE_DAY = date(2026, 3, 4)  # a Wednesday


def cost_scopes(w: World) -> World:
    """Workspaces and SKUs on Wednesday Mar 4 (JOBS 0.10, SERVERLESS 0.20, AP 0.50 a DBU):
    ws 1 "prod", the 14 days before (and 21 and 28 back):
        job 500  JOBS  1.00 a day, one run; it is repaired every day (two terminal rows)
        job 510  JOBS  1.00 and 3.00 on alternate days (odd days back 1.00)
        no job   AP    2.00 a day (an all-purpose cluster)
      so ws 1: 4.00 / 6.00 alternate (median 5.00, MAD 1.00; weekday 7, 21 = 4, 14, 28 = 6)
    ws 2 "dev": job 600 JOBS 0.50 a day.
    On the day: 500 costs 2.00 (two runs, both repaired), 510 3.00, AP 2.00, and 500 bills
    1.00 on SERVERLESS, never seen before: ws 1 = 8.00 (z = 3 / (1.4826 x 1) = 2.02);
    600 costs 2.50 in ws 2 (0.50 usual: z = 2.00 / (1.4826 x 0.05) = 26.98).
    SKUs: JOBS 2.50 or 4.50 on alternate days (1 + 1|3 + 0.50: median 3.50, MAD 1.00), 7.50
    on the day (z = 4 / 1.4826 = 2.70); AP 2.00 flat; SERVERLESS new (1.00)."""
    day = SCOPE_DAY
    w.workspace("1", "prod")
    w.workspace("2", "dev")
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    w.price(SERVERLESS, "0.20", "2025-01-01 00:00")
    w.price(AP, "0.50", "2025-01-01 00:00")
    w.job("1", "500", "repaired_daily", "2026-01-01 00:00")
    w.job("1", "510", "zigzag", "2026-01-01 00:00")
    w.job("2", "600", "dev_job", "2026-01-01 00:00")
    for back in (*range(1, 15), 21, 28):
        d = day - timedelta(days=back)
        w.usage("1", JOBS, _at(d, 1), _at(d, 2), "10", job_id="500", run_id=f"r{back}")
        w.usage("1", JOBS, _at(d, 3), _at(d, 4), "10" if back % 2 else "30", job_id="510",
                run_id=f"z{back}")  # fmt: skip
        w.usage("1", AP, _at(d, 5), _at(d, 6), "4", cluster_id="ap-1")
        w.usage("2", JOBS, _at(d, 1), _at(d, 2), "5", job_id="600", run_id=f"d{back}")
        if back <= 14:
            w.slice("1", "500", f"r{back}", _at(d, 1), f"{d.isoformat()} 01:20", "FAILED")
            w.slice("1", "500", f"r{back}", f"{d.isoformat()} 01:30", _at(d, 2), "SUCCEEDED")
    for run, hour in (("r0a", 1), ("r0b", 3)):
        w.usage("1", JOBS, _at(day, hour), _at(day, hour + 1), "10", job_id="500", run_id=run)
        w.slice("1", "500", run, _at(day, hour), f"{day.isoformat()} {hour:02d}:20", "FAILED")
        w.slice("1", "500", run, f"{day.isoformat()} {hour:02d}:30", _at(day, hour + 1),
                "SUCCEEDED")  # fmt: skip
    w.usage("1", SERVERLESS, _at(day, 3), _at(day, 4), "5", job_id="500", run_id="r0b")
    w.usage("1", JOBS, _at(day, 3), _at(day, 4), "30", job_id="510", run_id="z0")
    w.usage("1", AP, _at(day, 5), _at(day, 6), "4", cluster_id="ap-1")
    w.usage("2", JOBS, _at(day, 1), _at(day, 2), "25", job_id="600", run_id="d0")
    return w


def failed_tasks(w: World) -> World:
    """The failed tasks of each failing job's latest run (now = 2026-03-02 09:00 UTC):
    - ws1 job 700 "orders_pipeline": 6901 failed Mar 1 20:30 (task extract); 7001 failed at 02:00,
      2 of its 3 tasks failed (load FAILED, publish TIMED_OUT; extract succeeded) -> load, publish.
    - ws1 job 710 "events_ingest": 7101 failed at 03:50; ingest failed at 03:10 (two slices) and
      succeeded on its retry at 03:30, report failed -> report.
    - ws1 job 720 "finance_close": 7201 failed at 04:00 (reconcile and post failed), was repaired
      at 06:00-06:30: the repair fixed reconcile, post failed again -> post (at 05:00: both).
    - ws1 job 730 "late_repair": 7301 failed at 07:00 (task x); its repair ends 10:00, after now.
    - ws2 job 700 "orders_pipeline_eu" reuses run id 7001: its eu_load failed, at 05:30.
    - ws1 job 740 "no_task_rows": 7401 failed at 04:30 with no task rows.
    """
    w.workspace("1", "prod")
    w.workspace("2", "staging")
    for ws, job, name in (
        ("1", "700", "orders_pipeline"),
        ("1", "710", "events_ingest"),
        ("1", "720", "finance_close"),
        ("1", "730", "late_repair"),
        ("2", "700", "orders_pipeline_eu"),
        ("1", "740", "no_task_rows"),
    ):
        w.job(ws, job, name, "2026-01-01 00:00")  # fmt: skip
    fail = "RUN_EXECUTION_ERROR"
    w.slice("1", "700", "6901", "2026-03-01 20:00", "2026-03-01 20:30", "FAILED", fail)
    w.task_run("1", "700", "6901", "extract", "t690", "2026-03-01 20:00", "2026-03-01 20:20",
               "FAILED")  # fmt: skip
    w.slice("1", "700", "7001", "2026-03-02 01:00", "2026-03-02 02:00", "FAILED", fail)
    for key, task_run, start, end, state in (
        ("extract", "t700", "01:00", "01:20", "SUCCEEDED"),
        ("load", "t701", "01:20", "01:40", "FAILED"),
        ("publish", "t702", "01:40", "01:55", "TIMED_OUT"),
    ):
        w.task_run("1", "700", "7001", key, task_run, f"2026-03-02 {start}", f"2026-03-02 {end}",
                   state)  # fmt: skip

    w.slice("1", "710", "7101", "2026-03-02 02:00", "2026-03-02 03:00")
    w.slice("1", "710", "7101", "2026-03-02 03:00", "2026-03-02 03:50", "FAILED", fail)
    for key, task_run, start, end, state in (
        ("ingest", "t710", "02:00", "03:00", None),
        ("ingest", "t710", "03:00", "03:10", "FAILED"),
        ("ingest", "t711", "03:12", "03:30", "SUCCEEDED"),  # the retry
        ("report", "t712", "03:30", "03:50", "FAILED"),
    ):
        w.task_run("1", "710", "7101", key, task_run, f"2026-03-02 {start}", f"2026-03-02 {end}",
                   state)  # fmt: skip

    w.slice("1", "720", "7201", "2026-03-02 03:00", "2026-03-02 04:00", "FAILED", fail)
    w.slice("1", "720", "7201", "2026-03-02 06:00", "2026-03-02 06:30", "FAILED", fail)
    for key, task_run, start, end, state in (
        ("prepare", "t720", "03:00", "03:20", "SUCCEEDED"),
        ("reconcile", "t721", "03:20", "03:50", "FAILED"),
        ("post", "t722", "03:20", "03:55", "FAILED"),
        ("reconcile", "t723", "06:00", "06:15", "SUCCEEDED"),  # the repair fixed it
        ("post", "t724", "06:00", "06:25", "FAILED"),
    ):
        w.task_run("1", "720", "7201", key, task_run, f"2026-03-02 {start}", f"2026-03-02 {end}",
                   state)  # fmt: skip

    w.slice("1", "730", "7301", "2026-03-02 06:00", "2026-03-02 07:00", "FAILED", fail)
    w.slice("1", "730", "7301", "2026-03-02 09:30", "2026-03-02 10:00", "SUCCEEDED", "SUCCESS")
    w.task_run("1", "730", "7301", "x", "t730", "2026-03-02 06:00", "2026-03-02 06:50", "FAILED")
    w.task_run("1", "730", "7301", "x", "t731", "2026-03-02 09:30", "2026-03-02 09:55",
               "SUCCEEDED")  # fmt: skip

    w.slice("2", "700", "7001", "2026-03-02 05:00", "2026-03-02 05:30", "FAILED", fail)
    w.task_run("2", "700", "7001", "eu_load", "t701", "2026-03-02 05:00", "2026-03-02 05:25",
               "FAILED")  # fmt: skip

    w.slice("1", "740", "7401", "2026-03-02 04:00", "2026-03-02 04:30", "FAILED", fail)
    return w


def empty(w: World) -> World:
    """No rows at all: every query must still bind its params and run."""
    return w


WORLDS: dict[str, Callable[[World], World]] = {
    "empty": empty,
    "scheduled": scheduled,
    "prices": prices,
    "semantics": semantics,
    "runs_account": runs_account,
    "billing": billing,
    "digest_day": digest_day,
    "anomaly": anomaly,
    "waste": waste_world,
    "reports": reports,
    "cost_today": cost_today,
    "cost_coverage": cost_coverage,
    "cost_tags": cost_tags,
    "anomaly_scores": anomaly_scores,
    "status_jobs": status_jobs,
    "cost_scopes": cost_scopes,
    "failed_tasks": failed_tasks,
}


@dataclass(frozen=True)
class Case:
    """One query call on one world; ``label`` names it in test ids and failure messages."""

    query: str
    world: str
    params: dict[str, Any] = field(hash=False)
    label: str = ""


def _cases() -> list[Case]:
    r, b = "runs_account", "billing"
    j100 = {"workspace_id": "1", "job_id": "100"}
    cases = [
        Case("failing_jobs", r, {"now": NOW, "since": SINCE}, "now"),
        Case(
            "failing_jobs",
            r,
            {"now": utc("2026-03-02 06:30"), "since": utc("2026-03-01 06:30")},
            "06:30",
        ),  # fmt: skip
        Case("failing_jobs", r, {"now": utc("2026-03-01 09:15"), "since": SINCE}, "09:15"),
        # Windows reaching before the last success, and past the 90 days a streak looks back.
        Case("failing_jobs", r, {"now": NOW, "since": NOW - timedelta(days=7)}, "7d"),
        Case("failing_jobs", r, {"now": NOW, "since": NOW - timedelta(days=120)}, "120d"),
        *(
            Case("job_lookup", r, {"needle": n, "include_deleted": d}, n)
            for n, d in (
                ("100", False),
                ("NIGHTLY_SALES", False),
                ("sales_old", False),
                ("nightly_sale", False),
                ("nigthly_sales", False),
                ("sales", False),
                ("old_nightly", True),
                ("", False),
            )
        ),  # fmt: skip
        Case("job_recent_runs", r, {**j100, "now": NOW, "limit": 3}, "100"),
        Case(
            "job_recent_runs",
            r,
            {"workspace_id": "1", "job_id": "200", "now": NOW, "limit": 10},
            "200",
        ),  # fmt: skip
        Case("job_run_stats", r, {**j100, "now": NOW}, "100"),
        Case("job_run_stats", r, {"workspace_id": "2", "job_id": "999", "now": NOW}, "none"),
        Case("job_duration_trend", r, {**j100, "now": NOW, "days": 3}, "3d"),
        Case("runs_in_progress", r, {"now": NOW}, "now"),
        Case("runs_in_progress", r, {"now": utc("2026-03-02 08:30")}, "08:30"),
        Case("job_durations", r, {"now": NOW}, "now"),
        Case("sla_inputs", r, {"now": NOW, "days": 2}, "2d"),
        Case(
            "cost_total",
            b,
            {"since": SINCE, "until": NOW, "prev_since": PREV, "cut_previous": None},
        ),
        *(
            Case(
                "cost_by",
                b,
                {
                    "since": SINCE,
                    "until": NOW,
                    "prev_since": PREV,
                    "prev_until": None,
                    "group_by": g,
                    "tag_key": k,
                    "limit": n,
                },
                f"{g}-{n}",
            )
            for g, k, n in (
                ("job", None, 10),
                ("job", None, 1),
                ("workspace", None, 10),
                ("sku", None, 10),
                ("owner", None, 10),
                ("tag", "team", 10),
            )
        ),  # fmt: skip
        Case(
            "cost_daily",
            b,
            {
                "since": utc("2026-02-28 00:00"),
                "until": utc("2026-03-03 00:00"),
                "workspace_id": None,
                "job_id": None,
            },
            "all",
        ),  # fmt: skip
        Case(
            "cost_daily",
            b,
            {
                "since": utc("2026-02-28 00:00"),
                "until": utc("2026-03-03 00:00"),
                "workspace_id": "1",
                "job_id": "100",
            },
            "job",
        ),  # fmt: skip
        *(
            Case("run_cost", b, {"workspace_id": ws, "job_run_id": run}, f"{ws}-{run}")
            for ws, run in (("1", "r3"), ("2", "r3"), ("1", "r4"))
        ),
        Case("job_cost", b, {**j100, "now": NOW}, "ws1"),
        Case("job_cost", b, {"workspace_id": "2", "job_id": "100", "now": NOW}, "ws2"),
        Case("digest_summary", "digest_day", {"day": date(2026, 3, 1)}),
        Case("cost_anomaly_candidates", "anomaly", {"day": ANOMALY_DAY, "min_z": None}),
        *(
            Case(
                "waste",
                "waste",
                {
                    "since": utc("2026-03-01 00:00"),
                    "until": utc("2026-03-02 00:00"),
                    "idle_cpu_percent": idle,
                },
                f"idle-{idle:g}",
            )
            for idle in (5.0, 2.0)
        ),
        Case(
            "report_jobs",
            "reports",
            {
                "since": utc("2026-03-01 23:00"),
                "until": utc("2026-03-02 23:00"),
                "prev_since": utc("2026-02-22 23:00"),
            },
            "day",
        ),
        Case("workspaces", r, {}),
        Case("job_routing", r, {**j100, "now": NOW}),
        Case("replay_moments", r, {"since": SINCE, "until": NOW}),
        Case("runs_ended", r, {"now": NOW, "since": SINCE, "until": NOW}),
        Case("scheduled_jobs", "scheduled", {"now": NOW, "since": SINCE}),
        Case("probe_access_workspaces_latest", r, {}),
        *(
            Case(f"probe_{t}", "waste", {})
            for t in (
                "billing_list_prices",
                "billing_usage",
                "compute_clusters",
                "compute_node_timeline",
                "lakeflow_job_run_timeline",
                "lakeflow_job_task_run_timeline",
                "lakeflow_jobs",
            )
        ),  # fmt: skip
        *_price_cases(),
        *_semantic_cases(),
        *_cost_answer_cases(),
        *_status_cases(),
        *_scope_cases(),
        Case("failing_jobs", "failed_tasks", {"now": NOW, "since": SINCE}, "tasks"),
        Case(
            "failing_jobs",
            "failed_tasks",
            {"now": utc("2026-03-02 05:00"), "since": SINCE},
            "tasks-05:00",
        ),  # fmt: skip
    ]
    return cases


def _scope_cases() -> list[Case]:
    """The workspace / SKU anomaly queries, and the job query's baseline repairs (the stories
    are told in tests/warehouse/test_wh_cost_scopes.py)."""
    w, day = "cost_scopes", SCOPE_DAY
    return [
        *(
            Case(
                "cost_scope_anomaly_candidates", w, {"day": day, "scope": s, "min_z": z}, f"{s}-{z}"
            )
            for s in ("workspace", "sku")
            for z in (None, 3.5)
        ),
        *(
            Case(
                "cost_scope_movers",
                w,
                {"day": day, "scope": s, "subject": sub, "limit": n},
                f"{s}-{sub}-{n}",
            )
            for s, sub, n in (
                ("workspace", "1", 5),
                ("workspace", "1", 1),
                ("sku", JOBS, 5),
                ("sku", SERVERLESS, 5),
            )
        ),
        Case("cost_anomaly_candidates", w, {"day": day, "min_z": None}, "repairs"),
    ]


def _cost_answer_cases() -> list[Case]:
    """/jobs cost and /jobs anomalies as issue 12 §3 found them wrong (the stories are told in
    tests/warehouse/test_wh_cost.py, test_wh_anomaly_waste.py and tests/service)."""
    day = {"since": utc("2026-03-01 00:00"), "until": utc("2026-03-02 00:00")}
    today = {
        "since": utc("2026-03-02 00:00"),
        "until": TODAY_AT,
        "prev_since": utc("2026-03-01 00:00"),
    }
    return [
        *(
            Case("cost_total", "cost_today", {**today, "cut_previous": cut}, f"cut-{cut}")
            for cut in (True, False)
        ),
        Case(
            "cost_by",
            "cost_today",
            {
                **today,
                "prev_until": utc("2026-03-01 04:00"),
                "group_by": "job",
                "tag_key": None,
                "limit": 10,
            },
            "today",
        ),
        *(
            Case(
                "cost_total",
                "cost_coverage",
                {
                    "since": NOW - span,
                    "until": NOW,
                    "prev_since": NOW - 2 * span,
                    "cut_previous": True,
                },
                f"{span.days}d",
            )
            for span in (timedelta(days=3), timedelta(days=7), timedelta(days=30))
        ),
        Case("cost_tag_keys", "cost_tags", {**day, "limit": 50}, "all"),
        Case("cost_tag_keys", "cost_tags", {**day, "limit": 1}, "one"),
        Case(
            "cost_by",
            "cost_tags",
            {
                **day,
                "prev_since": utc("2026-02-28 00:00"),
                "prev_until": None,
                "group_by": "tag",
                "tag_key": "colour",
                "limit": 10,
            },
            "colour",
        ),
        *(
            Case(
                "cost_anomaly_candidates",
                "anomaly_scores",
                {"day": ANOMALY_DAY, "min_z": z},
                f"min_z-{z}",
            )
            for z in (None, 3.5)
        ),
        Case("cost_anomaly_candidates", "anomaly", {"day": ANOMALY_DAY, "min_z": 3.5}, "min_z"),
        *(
            Case("job_cost", "waste", {"workspace_id": "1", "job_id": j, "now": NOW}, j)
            for j in ("12", "13")
        ),
    ]


def _price_cases() -> list[Case]:
    p, day = "prices", {"since": utc("2026-03-01 00:00"), "until": utc("2026-03-02 00:00")}
    prev = utc("2026-02-28 00:00")
    return [
        Case("cost_total", p, {**day, "prev_since": prev, "cut_previous": True}),
        Case(
            "cost_by",
            p,
            {
                **day,
                "prev_since": prev,
                "prev_until": None,
                "group_by": "sku",
                "tag_key": None,
                "limit": 10,
            },
        ),
        Case("cost_daily", p, {**day, "workspace_id": None, "job_id": None}),
        Case("job_cost", p, {"workspace_id": "1", "job_id": "100", "now": NOW}),
        Case("run_cost", p, {"workspace_id": "1", "job_run_id": "r1"}),
        Case("digest_summary", p, {"day": date(2026, 3, 1)}),
        Case("cost_anomaly_candidates", p, {"day": date(2026, 3, 1), "min_z": None}),
    ]


def _semantic_cases() -> list[Case]:
    s, j300, j310 = (
        "semantics",
        {"workspace_id": "1", "job_id": "300"},
        {"workspace_id": "1", "job_id": "310"},
    )
    return [
        Case("failing_jobs", s, {"now": NOW, "since": utc("2026-03-01 00:00")}),
        Case("job_run_stats", s, {**j300, "now": NOW}, "300"),
        Case("job_run_stats", s, {**j310, "now": NOW}, "310"),
        Case("job_recent_runs", s, {**j310, "now": NOW, "limit": 10}),
        Case("job_duration_trend", s, {**j310, "now": NOW, "days": 3}),
        Case("job_durations", s, {"now": NOW}),
        Case("runs_in_progress", s, {"now": NOW}),
        Case("sla_inputs", s, {"now": NOW, "days": 2}),
        Case("digest_summary", s, {"day": date(2026, 3, 1)}),
        Case("job_lookup", s, {"needle": "flaky", "include_deleted": False}),
    ]


def _status_cases() -> list[Case]:
    st = "status_jobs"
    j760 = {"workspace_id": "1", "job_id": "760", "now": NOW}
    return [
        *(
            Case("job_lookup", st, {"needle": n, "include_deleted": d}, f"{n}-{d}")
            for n, d in (
                ("invoice_export", False),
                ("Billing_Export", False),
                ("weekly_rollup", False),
                ("legacy_sync", True),
                ("legacy_sync", False),
                ("ab", False),
                ("ab_v2", False),
                ("730", True),
            )
        ),  # fmt: skip
        Case("job_durations", st, {"now": NOW}, "status"),
        Case("job_run_stats", st, j760, "760"),
        Case("job_recent_runs", st, {**j760, "limit": 10}, "760"),
    ]


SAMPLE = {
    "TIMESTAMP": datetime(2026, 3, 2, 9, tzinfo=UTC),
    "DATE": date(2026, 3, 1),
    "STRING": "1",
    "INT": 7,
    "DOUBLE": 1.0,
    "BOOLEAN": False,
}


def empty_case(query: str, params: dict[str, str]) -> Case:
    """The query on empty tables, every param a sample of its declared type."""
    values = {name: SAMPLE[kind] for name, kind in params.items()}
    if "group_by" in values:
        values["group_by"] = "job"
    return Case(query, "empty", values, "empty")


CASES: list[Case] = _cases()
