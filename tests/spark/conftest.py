"""One Spark session per test session, even across pytest-xdist workers.

Starting Spark costs ~10 s and a JVM, so the first worker that needs it runs every case of
the conformance suite on Spark, under a file lock, and leaves the results (pickled) in the
temp folder the workers share; the other worker waits for the lock and reads them. Without
Java the suite is skipped outside CI with the reason; in CI (CI set) that is a failure, since
a skipped engine would pass silently."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.warehouse import sql
from bot.warehouse.duckdb_backend import DuckDBWarehouse
from tests.spark.engine import java_available
from tests.support.wh_world import World
from tests.support.worlds import CASES, WORLDS, Case, empty_case


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "spark: runs the query files on a local Apache Spark SQL engine (needs Java)"
    )


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def all_cases() -> list[Case]:
    """Every world case, plus each query file on empty tables."""
    empties = [
        empty_case(n, {p.name: p.type for p in sql.load(n).params}) for n in sql.query_names()
    ]
    return [*CASES, *empties]


def case_key(case: Case) -> str:
    return f"{case.query}[{case.world}:{case.label}]"


def build_world(name: str) -> DuckDBWarehouse:
    wh = DuckDBWarehouse.open(None)
    WORLDS[name](World(wh))
    return wh


def _run_on_spark(workdir: Path) -> dict[str, Any]:
    from tests.spark.engine import SparkEngine

    engine = SparkEngine(workdir)
    results: dict[str, Any] = {}
    try:
        cases = all_cases()
        for world in dict.fromkeys(c.world for c in cases):  # each world loaded once
            wh = build_world(world)
            try:
                engine.load(wh)
            finally:
                wh.close()
            for case in (c for c in cases if c.world == world):
                try:
                    results[case_key(case)] = ("ok", *engine.run(case.query, case.params))
                except Exception as e:  # noqa: BLE001 (every failure is a finding to report)
                    results[case_key(case)] = ("error", f"{type(e).__name__}: {e}")
    finally:
        engine.stop()
    return results


@pytest.fixture(scope="session")
def spark_results(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[dict[str, Any]]:
    problem = java_available()
    if problem:
        if _in_ci():
            pytest.fail(f"the Spark conformance suite is required in CI (CI is set): {problem}")
        pytest.skip(f"no Spark conformance run: {problem}")
    if worker_id == "master":  # no xdist: this process is the whole session
        yield _run_on_spark(tmp_path_factory.mktemp("spark"))
        return
    shared = tmp_path_factory.getbasetemp().parent  # one folder per session, all workers
    done = shared / "spark-results.pickle"
    with open(shared / "spark.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            results = _run_on_spark(tmp_path_factory.mktemp("spark"))
            done.write_bytes(pickle.dumps(results))
    yield pickle.loads(done.read_bytes())
