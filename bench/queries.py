"""Benchmark of the query layer on the embedded warehouse (run by hand, not in CI).

Seeds the benchmark-scale demo account (5000 jobs, 90 days) unless the file exists, then
runs every query several times and prints, per query: the median time, the rows DuckDB
scanned (its profiler's total_rows_scanned), and the ratio to the engine's floor for that
query: a bare count(*) over the same tables and time ranges the query reads.

With --before REF (default HEAD) each query file's text at that git revision runs too, in
the same process and interleaved with today's text, so the two columns are comparable on a
busy machine; `cmd` marks the queries a slash command waits for (targets: <= 10x the floor
and a median under 300 ms).

    .venv/bin/python bench/queries.py [--db PATH] [--jobs 5000] [--days 90] [--repeat 5]
                                      [--before REF | --no-before]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.warehouse import sql, transpile
from bot.warehouse.duckdb_backend import DuckDBWarehouse

END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# What /jobs commands wait for (bot/service: answers, cost, failing, jobs, running, sla); the
# rest run on schedules (digest, reports, replay, lateness) or in `jobs-bot doctor`.
SLASH = frozenset({
    "failing_jobs", "job_lookup", "job_recent_runs", "job_run_stats", "job_duration_trend",
    "job_cost", "run_cost", "runs_in_progress", "job_durations", "sla_inputs", "cost_by",
    "cost_total", "cost_daily", "cost_anomaly_candidates", "waste", "workspaces",
    "cost_tag_keys",
})  # fmt: skip


def _ts(value: datetime) -> str:
    return f"TIMESTAMP '{value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=' ')}'"


def _date(value: Any) -> str:
    return f"DATE '{value.isoformat()}'"


def floors(p: dict[str, Any]) -> dict[str, list[str]]:
    """Per query: count(*) scans of the tables and ranges it reads (its engine floor)."""
    now = p["now"]
    tl, ttl, usage = "lakeflow.job_run_timeline", "lakeflow.job_task_run_timeline", "billing.usage"
    day = p["day"]
    midnight = datetime.combine(day, datetime.min.time())
    probes = {
        f"probe_{t.replace('.', '_')}": [t]
        for t in ("access.workspaces_latest", "billing.list_prices", "billing.usage",
                  "compute.clusters", "compute.node_timeline", "lakeflow.job_run_timeline",
                  "lakeflow.job_task_run_timeline", "lakeflow.jobs")
    }  # fmt: skip
    return probes | {
        "failing_jobs": [
            f"{tl} WHERE period_end_time <= {_ts(now)}",
            f"{ttl} WHERE period_end_time <= {_ts(now)}"
            f" AND period_end_time > {_ts(now - timedelta(days=90))}",
            "lakeflow.jobs",
        ],  # fmt: skip
        "job_durations": [f"{tl} WHERE period_end_time > {_ts(now - timedelta(days=30))}"],
        "job_routing": ["lakeflow.jobs"],
        "workspaces": ["access.workspaces_latest"],
        "replay_moments": [f"{tl} WHERE period_end_time >= {_ts(p['since'])}"],
        "runs_ended": [
            f"{tl} WHERE period_end_time >= {_ts(p['since'] - timedelta(days=3))}",
            "lakeflow.jobs",
        ],  # fmt: skip
        "scheduled_jobs": [
            f"{tl} WHERE period_end_time >= {_ts(p['since'] - timedelta(days=3))}",
            "lakeflow.jobs",
        ],  # fmt: skip
        "report_jobs": [
            f"{tl} WHERE period_end_time >= {_ts(p['prev_since'])}",
            f"{usage} WHERE usage_start_time >= {_ts(p['prev_since'])}",
            "lakeflow.jobs",
        ],  # fmt: skip
        "job_lookup": ["lakeflow.jobs"],
        "job_recent_runs": [f"{tl} WHERE period_start_time >= {_ts(now - timedelta(days=90))}"],
        "job_run_stats": [f"{tl} WHERE period_end_time > {_ts(now - timedelta(days=32))}"],
        "job_duration_trend": [f"{tl} WHERE period_end_time >= {_ts(now - timedelta(days=31))}"],
        "job_cost": [f"{usage} WHERE usage_date >= {_date((now - timedelta(days=31)).date())}"],
        "runs_in_progress": [f"{tl} WHERE period_end_time > {_ts(now - timedelta(days=32))}"],
        "sla_inputs": [f"{tl} WHERE period_end_time >= {_ts(now - timedelta(days=p['days'] + 2))}"],
        "cost_by": [f"{usage} WHERE usage_start_time >= {_ts(p['prev_since'])}", "lakeflow.jobs"],
        "cost_total": [f"{usage} WHERE usage_start_time >= {_ts(p['prev_since'])}"],
        "cost_daily": [f"{usage} WHERE usage_start_time >= {_ts(p['since'])}"],
        "cost_tag_keys": [f"{usage} WHERE usage_start_time >= {_ts(p['since'])}"],
        "run_cost": [usage],
        "cost_anomaly_candidates": [
            f"{usage} WHERE usage_date >= {_date(day - timedelta(days=28))}",
            f"{tl} WHERE period_start_time >= {_ts(midnight - timedelta(days=15))}",
        ],
        "waste": [
            f"{usage} WHERE usage_start_time >= {_ts(p['since'])}",
            f"{tl} WHERE period_end_time >= {_ts(p['since'])}",
            f"{ttl} WHERE period_start_time >= {_ts(p['since'])}",
            f"compute.node_timeline WHERE start_time >= {_ts(p['since'])}",
        ],
        "digest_summary": [
            f"{tl} WHERE period_end_time >= {_ts(midnight)}",
            f"{usage} WHERE usage_date >= {_date(day - timedelta(days=7))}",
        ],
    }


def _scan(source: str) -> str:
    # A predicate statistics cannot decide, so DuckDB really reads the rows instead of
    # answering count(*) from row-group metadata (which would make the floor meaningless).
    glue = " AND " if " WHERE " in source else " WHERE "
    column = "sku_name" if source.startswith("billing.list_prices") else "workspace_id"
    return f"{source}{glue}hash({column}) <> 0"


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
        # As /jobs cost and /jobs anomalies bind them (bot/service/cost.py).
        "cut_previous": True,
        "prev_until": None,
        "min_z": 3.5,
        "idle_cpu_percent": 5.0,
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


def old_text(name: str, ref: str) -> sql.Query | None:
    """The query file as it was at git revision `ref`, or None where it did not exist."""
    root = Path(__file__).resolve().parents[1]
    got = subprocess.run(
        ["git", "show", f"{ref}:queries/{name}.sql"], cwd=root, capture_output=True, text=True
    )
    return sql.parse_header(name, got.stdout) if got.returncode == 0 else None


def _bind(q: sql.Query, params: dict[str, Any]) -> dict[str, Any]:
    return {
        p.name: (v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v)
        for p in q.params
        for v in (params[p.name],)
    }


def _text(q: sql.Query) -> str:
    return transpile.to_duckdb(q.text, frozenset(p.name for p in q.params if p.type == "TIMESTAMP"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "jobs-bot-bench.duckdb"))
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before", default="HEAD", help="git revision of the old query texts")
    ap.add_argument("--no-before", action="store_true", help="time today's texts only")
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
    before = None if args.no_before else args.before
    header = (
        f"{'query':24} {'cmd':>3} {'before ms':>10} {'after ms':>9} {'floor ms':>9} "
        f"{'before x':>9} {'after x':>8} {'scanned after':>14} {'floor rows':>11} {'rows':>7}"
    )
    print(f"before = queries/ at {before or '(not run)'}, after = the working tree")
    print(header)
    print("-" * len(header))
    for name in sql.query_names():
        q = sql.load(name)
        old = old_text(name, before) if before else None
        new_sql, new_values = _text(q), _bind(q, params)
        old_sql = _text(old) if old else None
        old_values = _bind(old, params) if old else {}
        cur = wh.cursor()
        rows_out = len(cur.execute(new_sql, new_values).fetchall())  # warm-up, result size
        if old_sql:
            cur.execute(old_sql, old_values).fetchall()
        samples: dict[str, list[float]] = {"new": [], "old": []}
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            for kind, text, values in (("old", old_sql, old_values), ("new", new_sql, new_values)):
                if text is None:
                    continue
                t0 = time.perf_counter()
                cur.execute(text, values).fetchall()
                samples[kind].append(time.perf_counter() - t0)
        new_ms = statistics.median(samples["new"]) * 1000
        old_ms = statistics.median(samples["old"]) * 1000 if samples["old"] else None
        scanned = profile(wh, new_sql, new_values)
        floor_ms = floor_rows = None
        if name in floor_sql:
            fsql = "SELECT " + " + ".join(
                f"(SELECT count(*) FROM {_scan(f)})" for f in floor_sql[name]
            )
            cur.execute(fsql).fetchall()
            floor_ms = timed(lambda c=cur, s=fsql: c.execute(s).fetchall(), args.repeat) * 1000
            floor_rows = profile(wh, fsql, {})
        cur.close()

        def ratio(ms: float | None, floor: float | None = floor_ms) -> str:
            return f"{ms / floor:9.1f}" if ms is not None and floor else f"{'-':>9}"

        print(
            f"{name:24} {'*' if name in SLASH else '':>3} "
            f"{(f'{old_ms:10.1f}' if old_ms is not None else f'{chr(45):>10}')} {new_ms:9.1f} "
            f"{(f'{floor_ms:9.1f}' if floor_ms else f'{chr(45):>9}')} {ratio(old_ms)} "
            f"{ratio(new_ms)[1:]} {scanned:14,} "
            f"{(f'{floor_rows:11,}' if floor_rows is not None else f'{chr(45):>11}')} "
            f"{rows_out:7,}",
            flush=True,
        )
    wh.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
