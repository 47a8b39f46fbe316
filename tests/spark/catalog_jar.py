"""The one Java class the Spark conformance suite needs, written as class-file bytes.

The query files name tables by three parts, `system.lakeflow.jobs`, and must run on Spark
unchanged. Spark resolves `system.<schema>.<table>` only through a catalog plugin registered
as `spark.sql.catalog.system`: a class with a public no-argument constructor. Of the catalogs
pyspark ships, V2SessionCatalog needs the session catalog passed to its constructor, and
JDBCTableCatalog keeps its tables in a JDBC database (Derby), which has no STRUCT, MAP or ARRAY
columns. `DelegatingCatalogExtension` (spark-catalyst) implements every catalog method by
forwarding to a delegate, but it is abstract. So the suite defines the empty subclass

    public class jobsbot.SystemCatalog extends DelegatingCatalogExtension {}

and, once the session is up, hands it the session catalog as its delegate. Then
`system.lakeflow.jobs` is the session catalog's table `lakeflow.jobs`; and since the plugin's
name() is its delegate's (`spark_catalog`), Spark treats it as the session catalog and reads
the tables as ordinary parquet tables.

The class is emitted here rather than compiled because the test machines get Debian's
openjdk-17-jre-headless, which has no javac; a class with one constructor that calls super()
is 250 bytes of a well-documented format (JVM spec, chapter 4), so nothing is downloaded.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

CLASS_NAME = "jobsbot.SystemCatalog"
_SUPER = "org/apache/spark/sql/connector/catalog/DelegatingCatalogExtension"


def _utf8(text: str) -> bytes:
    raw = text.encode()
    return b"\x01" + struct.pack(">H", len(raw)) + raw


def class_bytes() -> bytes:
    """The class file: constant pool, public class, one public no-arg constructor."""
    pool = [
        b"\x07" + struct.pack(">H", 2),  # 1 Class -> 2
        _utf8(CLASS_NAME.replace(".", "/")),  # 2
        b"\x07" + struct.pack(">H", 4),  # 3 Class -> 4 (the superclass)
        _utf8(_SUPER),  # 4
        b"\x0a" + struct.pack(">HH", 3, 6),  # 5 Methodref super.<init>()V
        b"\x0c" + struct.pack(">HH", 7, 8),  # 6 NameAndType <init> ()V
        _utf8("<init>"),  # 7
        _utf8("()V"),  # 8
        _utf8("Code"),  # 9
    ]
    # aload_0; invokespecial #5; return  (no branches, so no StackMapTable is needed)
    code = bytes([0x2A, 0xB7, 0x00, 0x05, 0xB1])
    code_attr = struct.pack(">HHI", 1, 1, len(code)) + code + struct.pack(">HH", 0, 0)
    constructor = struct.pack(">HHHH", 0x0001, 7, 8, 1) + struct.pack(">HI", 9, len(code_attr))
    return b"".join(
        [
            b"\xca\xfe\xba\xbe",
            struct.pack(">HH", 0, 52),  # class-file version 52 (Java 8): any JVM 8+ loads it
            struct.pack(">H", len(pool) + 1),
            *pool,
            struct.pack(">HHH", 0x0021, 1, 3),  # ACC_PUBLIC | ACC_SUPER, this, super
            struct.pack(">HH", 0, 0),  # no interfaces, no fields
            struct.pack(">H", 1),
            constructor,
            code_attr,
            struct.pack(">H", 0),  # no class attributes
        ]
    )


def write_jar(folder: Path) -> Path:
    """A jar holding the class, for `spark.driver.extraClassPath`."""
    jar = folder / "jobsbot-system-catalog.jar"
    with zipfile.ZipFile(jar, "w") as z:
        z.writestr(CLASS_NAME.replace(".", "/") + ".class", class_bytes())
    return jar
