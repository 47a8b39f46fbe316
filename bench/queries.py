"""Benchmark of the query layer on the embedded warehouse (run by hand, not in CI).

Seeds the benchmark-scale demo account (5000 jobs, 90 days) unless the file exists, then
runs every query several times and prints, per query: the median time, the rows DuckDB
scanned (its profiler's total_rows_scanned), and the ratio to the engine's floor for that
query: a bare count(*) over the same tables and time ranges the query reads.

    .venv/bin/python bench/queries.py [--db PATH] [--jobs 5000] [--days 90] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.warehouse import sql
from bot.warehouse.duckdb_backend import DuckDBWarehouse

END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _ts(value: datetime) -> str:
    return f"TIMESTAMP '{value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=' ')}'"


def _date(value: Any) -> str:
    return f"DATE '{value.isoformat()}'"


def floors(p: dict[str, Any]) -> dict[str, list[str]]:
    """Per query: count(*) scans of the tables and ranges it reads (its engine floor)."""
    now = p["now"]
    tl, ttl, usage = "lakeflow.job_run_timeline", "lakeflow.job_task_run_timeline", "billing.usage"
    day = p["day"]
    return {
        "failing_jobs": [f"{tl} WHERE period_end_time <= {_ts(now)}", "lakeflow.jobs"],
        "job_lookup": ["lakeflow.jobs"],
        "job_recent_runs": [f"{tl} WHERE period_start_time >= {_ts(now - timedelta(days=90))}"],
        "job_run_stats": [f"{tl} WHERE period_end_time > {_ts(now - timedelta(days=32))}"],
        "job_duration_trend": [f"{tl} WHERE period_end_time >= {_ts(now - timedelta(days=31))}"],
        "job_cost": [f"{usage} WHERE usage_date >= {_date((now - timedelta(days=31)).date())}"],
        "runs_in_progress": [f"{tl} WHERE period_end_time > {_ts(now - timedelta(days=32))}"],
        "sla_inputs": [f"{tl} WHERE period_end_time >= {_ts(now - timedelta(days=9))}"],
        "cost_by": [f"{usage} WHERE usage_start_time >= {_ts(p['prev_since'])}", "lakeflow.jobs"],
        "cost_total": [f"{usage} WHERE usage_start_time >= {_ts(p['prev_since'])}"],
        "cost_daily": [f"{usage} WHERE usage_start_time >= {_ts(p['since'])}"],
        "run_cost": [usage],
        "cost_anomaly_candidates": [
            f"{usage} WHERE usage_date >= {_date(day - timedelta(days=28))}",
            f"{tl} WHERE period_start_time >= {_ts(datetime.combine(day, datetime.min.time()) - timedelta(days=15))}",
        ],
        "waste": [
            f"{usage} WHERE usage_start_time >= {_ts(p['since'])}",
            f"{tl} WHERE period_end_time >= {_ts(p['since'])}",
            f"{ttl} WHERE period_start_time >= {_ts(p['since'])}",
            f"compute.node_timeline WHERE start_time >= {_ts(p['since'])}",
        ],
        "digest_summary": [
            f"{tl} WHERE period_end_time >= {_ts(datetime.combine(day, datetime.min.time()))}",
            f"{usage} WHERE usage_date >= {_date(day - timedelta(days=7))}",
        ],
    }


def _scan(source: str) -> str:
    # A predicate statistics cannot decide, so DuckDB really reads the rows instead of
    # answering count(*) from row-group metadata (which would make the floor meaningless).
    glue = " AND " if " WHERE " in source else " WHERE "
    return f"{source}{glue}hash(workspace_id) <> 0"


def pick_params(wh: DuckDBWarehouse) -> dict[str, Any]:
    """Realistic values: the demo's end as now, a failing job and its last run."""
    now = END
    failing = wh.run("failing_jobs", {"now": now, "since": now - timedelta(days=1)})
    job = failing[0]
    return {
        "now": now,
        "since": now - timedelta(days=7),
        "until": now,
        "prev_since": now - timedelta(days=14),
        "day": (now - timedelta(days=1)).date(),
        "workspace_id": job["workspace_id"],
        "job_id": job["job_id"],
        "job_run_id": job["last_run_id"],
        "needle": str(job["name"])[:8],
        "include_deleted": False,
        "limit": 10,
        "days": 30,
        "group_by": "job",
        "tag_key": None,
    }


def profile(wh: DuckDBWarehouse, text: str, values: dict[str, Any]) -> int:
    """Rows DuckDB scanned for one execution, from its JSON profiler."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cur = wh.cursor()
        cur.execute("SET enable_profiling = 'json'")
        cur.execute(f"SET profiling_output = '{out.name}'")
        cur.execute(text, values).fetchall()
        cur.execute("SET enable_profiling = 'no_output'")  # flush before reading
        cur.close()
        text = Path(out.name).read_text()
        # DuckDB answers some counts from table statistics alone and then writes no profile.
        return int(json.loads(text)["query"]["total_rows_scanned"]) if text.strip() else 0


def timed(fn: Any, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "jobs-bot-bench.duckdb"))
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    if not Path(args.db).exists():
        from sandbox.demo_account import generate

        print(f"seeding {args.jobs} jobs x {args.days} days into {args.db} ...", flush=True)
        t0 = time.perf_counter()
        generate(args.db, jobs=args.jobs, days=args.days, end=END,
                 progress=lambda i, n: print(f"  {i}/{n} jobs", flush=True))  # fmt: skip
        print(f"seeded in {time.perf_counter() - t0:.1f}s")
    wh = DuckDBWarehouse.open(args.db)
    con = wh.connection
    sizes = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("lakeflow.job_run_timeline", "billing.usage", "lakeflow.jobs",
                  "compute.node_timeline", "lakeflow.job_task_run_timeline")
    }  # fmt: skip
    print("table rows:", ", ".join(f"{t}={n:,}" for t, n in sizes.items()))
    params = pick_params(wh)
    floor_sql = floors(params)
    header = f"{'query':26} {'median ms':>10} {'rows scanned':>13} {'floor ms':>9} {'floor rows':>11} {'x floor':>8} {'rows out':>9}"
    print(header)
    print("-" * len(header))
    for name in sql.query_names():
        q = sql.load(name)
        values = {p.name: params[p.name] for p in q.params}
        rows_out = len(wh.run(name, values))  # warm-up, and the result size
        median = timed(lambda n=name, v=values: wh.run(n, v), args.repeat)
        bound = {k: (v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v)
                 for k, v in values.items()}  # fmt: skip
        scanned = profile(wh, sql.duckdb_sql(q), bound)
        fsql = "SELECT " + " + ".join(f"(SELECT count(*) FROM {_scan(f)})" for f in floor_sql[name])
        cur = wh.cursor()
        cur.execute(fsql).fetchall()
        floor_ms = timed(lambda c=cur, s=fsql: c.execute(s).fetchall(), args.repeat)
        floor_rows = profile(wh, fsql, {})
        cur.close()
        print(
            f"{name:26} {median * 1000:10.1f} {scanned:13,} {floor_ms * 1000:9.1f} "
            f"{floor_rows:11,} {median / floor_ms:8.1f} {rows_out:9,}"
        )
    wh.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
