"""A local Apache Spark SQL engine holding the system tables, for the conformance suite.

One SparkSession (local, ANSI on, session time zone UTC, one shuffle partition, no UI), the
tables of bot/warehouse/schema.py created in Spark's session catalog as parquet tables with
the DuckDB types mapped to Spark's (STRUCT, MAP and ARRAY included), reachable by their
Databricks names through the `system` catalog plugin (tests/spark/catalog_jar.py). Worlds
are built with the DuckDB fixture helpers and copied across as Arrow tables, so both engines
hold the very same rows.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from bot.warehouse import schema, sql
from bot.warehouse.duckdb_backend import DuckDBWarehouse
from tests.spark.catalog_jar import CLASS_NAME, write_jar

_SCALARS = {
    "VARCHAR": "STRING",
    "INTEGER": "INT",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP",
    "DATE": "DATE",
}


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def spark_type(duck: str) -> str:
    """A DuckDB column type of schema.py as a Spark SQL type."""
    t = duck.strip()
    if t.endswith("[]"):
        return f"ARRAY<{spark_type(t[:-2])}>"
    upper = t.upper()
    if upper in _SCALARS:
        return _SCALARS[upper]
    if re.fullmatch(r"DECIMAL\(\d+,\s*\d+\)", upper):
        return upper.replace(" ", "")
    if upper.startswith("MAP(") and t.endswith(")"):
        key, value = _split_top(t[4:-1])
        return f"MAP<{spark_type(key)}, {spark_type(value)}>"
    if upper.startswith("STRUCT(") and t.endswith(")"):
        fields = []
        for part in _split_top(t[7:-1]):
            name, kind = part.split(None, 1)
            fields.append(f"`{name.strip(chr(34))}`: {spark_type(kind)}")
        return f"STRUCT<{', '.join(fields)}>"
    raise ValueError(f"no Spark type for DuckDB type {duck!r}")


def java_available() -> str | None:
    """Why Spark cannot start here, or None when a `java` is on PATH or in JAVA_HOME."""
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return None
    if shutil.which("java"):
        return None
    return "no Java runtime (java on PATH or JAVA_HOME); Spark needs Java 17"


class SparkEngine:
    """The session and the tables; `load` replaces the rows, `run` runs one query file."""

    def __init__(self, workdir: Path) -> None:
        from pyspark.sql import SparkSession

        jar = write_jar(workdir)
        self.spark = (
            SparkSession.builder.master("local[1]")
            .appName("jobs-bot-conformance")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            # Databricks SQL warehouses run with ANSI mode on: overflow, bad casts and division
            # by zero are errors there, so they must be errors here.
            .config("spark.sql.ansi.enabled", "true")
            # The bot pins its Databricks sessions to UTC; to_date(ts) depends on it.
            .config("spark.sql.session.timeZone", "UTC")
            # C1 only and a serial GC: a short-lived JVM on a small machine warms up sooner.
            .config(
                "spark.driver.extraJavaOptions",
                "-Duser.timezone=UTC -XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
            )
            # Tiny tables: one partition per shuffle, no adaptive re-planning, less overhead.
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.default.parallelism", "1")
            .config("spark.sql.adaptive.enabled", "false")
            # Generating and compiling Java for each plan costs more than running a few
            # rows interpreted; the results are the same either way.
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
            .config("spark.sql.warehouse.dir", str(workdir / "spark-warehouse"))
            .config("spark.driver.extraClassPath", str(jar))
            .config("spark.sql.catalog.system", CLASS_NAME)
            .config("spark.driver.memory", "1g")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("OFF")
        jss = self.spark._jsparkSession
        manager = jss.sessionState().catalogManager()
        manager.catalog("system").setDelegateCatalog(manager.v2SessionCatalog())
        self._filled: set[str] = set()
        for name in sorted({t.schema for t in schema.TABLES}):
            self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {name}")
        for t in schema.TABLES:
            cols = ", ".join(f"`{c.name}` {spark_type(c.type)}" for c in t.columns)
            self.spark.sql(f"CREATE TABLE IF NOT EXISTS {t.local_name} ({cols}) USING parquet")

    def load(self, wh: DuckDBWarehouse) -> None:
        """Make every system table hold exactly the rows the DuckDB warehouse holds."""
        for t in schema.TABLES:
            table = wh.connection.execute(f"SELECT * FROM {t.local_name}").to_arrow_table()
            if table.num_rows == 0:
                if t.local_name in self._filled:
                    self.spark.sql(f"TRUNCATE TABLE {t.local_name}")
                    self._filled.discard(t.local_name)
                continue
            # DuckDB hands out naive timestamps holding UTC; say so, so that no time zone
            # (the JVM's, Python's) gets a chance to shift them on the way in.
            for i, f in enumerate(table.schema):
                if pa.types.is_timestamp(f.type) and f.type.tz is None:
                    table = table.set_column(
                        i, f.name, table.column(i).cast(pa.timestamp("us", "UTC"))
                    )
            self.spark.createDataFrame(table).write.insertInto(t.local_name, overwrite=True)
            self._filled.add(t.local_name)

    def run(
        self, name: str, params: Mapping[str, Any]
    ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        """The query file's Databricks text, unchanged, with its params bound as named
        markers. Returns ([(column, Spark type)], rows as Python values)."""
        query = sql.load(name)
        args = sql.check_params(query, params)
        df = self.spark.sql(query.text, args=args)
        types = [(f.name, f.dataType.simpleString()) for f in df.schema.fields]
        return types, df.toArrow().to_pylist()

    def stop(self) -> None:
        self.spark.stop()
