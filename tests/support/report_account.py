"""A small hand-built account for the report tests, with every number worked out by hand.

Time zone Europe/Amsterdam (UTC+1 in early March). The digest sent on Tue 3 Mar 2026 covers
Mon 2 Mar local = [2026-03-01 23:00, 2026-03-02 23:00) UTC. Prices: jobs compute 0.10 a DBU,
all-purpose 0.55.

| job | routes to | yesterday's runs (UTC end) | cost yesterday | the 7 days before |
| --- | --- | --- | --- | --- |
| 10 nightly_sales (team: finance-data) | #finance-data | r1 FAILED 05:00, r2 SUCCEEDED 05:50 | 10 + 5 = 15.00 | 5.00 a day = 35.00 |
| 20 ml_train (name ml_*) | #ml-platform | m1 SUCCEEDED 10:00 | 2.00 | 2.00 a day = 14.00 |
| 30 etl_core | default | e1, e2 FAILED 12:00, 13:00 | 3 + 3 = 6.00 | nothing |

Not yesterday: e0 (SUCCEEDED 2026-03-01 22:30 UTC = 23:30 on Sunday local) and e3 (SUCCEEDED
2026-03-02 23:30 UTC = 00:30 on Tuesday local). Cluster c1 (all-purpose, UI) bills 10 DBU
= 5.50 yesterday with no job id, at 2% CPU: an idle cluster.

Account: runs 5, 2 succeeded (40%), 3 failed in 2 jobs; cost 15 + 2 + 6 + 5.50 = 28.50 against
(35 + 14) / 7 = 7.00 a day (+307%); movers nightly_sales (+10.00, +200%) then etl_core
(+6.00, new); waste: failed runs 10 + 6 = 16.00 (3 runs), idle 5.50, total 21.50.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.support.wh_world import World

WS = "1"
JOBS = "PREMIUM_JOBS_COMPUTE"
AP = "PREMIUM_ALL_PURPOSE_COMPUTE"
DAY = date(2026, 3, 2)  # the day the digest covers
SENT = date(2026, 3, 3)
NINE = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam


def build(w: World) -> None:
    w.workspace(WS, "prod")
    w.price(JOBS, "0.10", "2025-01-01 00:00")
    w.price(AP, "0.55", "2025-01-01 00:00")
    w.job(WS, "10", "nightly_sales", "2026-01-01 00:00", tags={"team": "finance-data"})
    w.job(WS, "20", "ml_train", "2026-01-01 00:00")
    w.job(WS, "30", "etl_core", "2026-01-01 00:00")
    # Yesterday's runs.
    w.slice(WS, "10", "r1", "2026-03-02 04:00", "2026-03-02 05:00", "FAILED")
    w.slice(WS, "10", "r2", "2026-03-02 05:10", "2026-03-02 05:50", "SUCCEEDED")
    w.slice(WS, "20", "m1", "2026-03-02 09:00", "2026-03-02 10:00", "SUCCEEDED")
    w.slice(WS, "30", "e1", "2026-03-02 11:00", "2026-03-02 12:00", "FAILED")
    w.slice(WS, "30", "e2", "2026-03-02 12:10", "2026-03-02 13:00", "FAILED")
    # Just outside the local day, on either side.
    w.slice(WS, "30", "e0", "2026-03-01 22:00", "2026-03-01 22:30", "SUCCEEDED")
    w.slice(WS, "30", "e3", "2026-03-02 23:00", "2026-03-02 23:30", "SUCCEEDED")
    # Yesterday's billing (usage hours inside the local day).
    w.usage(WS, JOBS, "2026-03-02 04:00", "2026-03-02 05:00", "100", job_id="10", run_id="r1",
            tags={"team": "finance-data"})  # fmt: skip
    w.usage(WS, JOBS, "2026-03-02 05:00", "2026-03-02 06:00", "50", job_id="10", run_id="r2",
            tags={"team": "finance-data"})  # fmt: skip
    w.usage(WS, JOBS, "2026-03-02 09:00", "2026-03-02 10:00", "20", job_id="20", run_id="m1")
    w.usage(WS, JOBS, "2026-03-02 11:00", "2026-03-02 12:00", "30", job_id="30", run_id="e1")
    w.usage(WS, JOBS, "2026-03-02 12:00", "2026-03-02 13:00", "30", job_id="30", run_id="e2")
    w.cluster(WS, "c1", "adhoc-analysis", "UI", "2026-01-01 00:00")
    w.usage(WS, AP, "2026-03-02 14:00", "2026-03-02 15:00", "10", cluster_id="c1")
    for minute in range(0, 60, 10):
        w.node_minute(WS, "c1", f"2026-03-02 14:{minute:02d}", 1.5, 0.5)
    # The 7 days before: nightly_sales 5.00 and ml_train 2.00 a day, at 03:00 UTC.
    for back in range(1, 8):
        d = DAY - timedelta(days=back)
        at, end = f"{d.isoformat()} 03:00", f"{d.isoformat()} 04:00"
        w.usage(WS, JOBS, at, end, "50", job_id="10", run_id=f"b10-{back}",
                tags={"team": "finance-data"})  # fmt: skip
        w.usage(WS, JOBS, at, end, "20", job_id="20", run_id=f"b20-{back}")
