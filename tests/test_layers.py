"""The layer rules import-linter cannot express (it sees `databricks.sql` and `databricks.sdk`
as one external package): which modules of bot/ may import which Databricks library."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"


def _importers(prefix: str) -> set[str]:
    """Modules of bot/ (dotted) that import `prefix` or anything under it, at any depth."""
    found: set[str] = set()
    for path in BOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from databricks import sql` imports databricks.sql.
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            if any(n == prefix or n.startswith(prefix + ".") for n in names):
                rel = path.relative_to(BOT.parent).with_suffix("")
                found.add(".".join(rel.parts).removesuffix(".__init__"))
    return found


def test_only_the_warehouse_imports_the_databricks_sql_connector() -> None:
    assert _importers("databricks.sql") == {"bot.warehouse.databricks_backend"}


def test_only_jobs_api_imports_the_databricks_sdk() -> None:
    users = _importers("databricks.sdk")
    assert users and all(m.startswith("bot.jobs_api") for m in users), users


def test_the_scanner_finds_imports_inside_functions() -> None:
    # The backends import their drivers lazily; a scanner that missed that would pass vacuously.
    assert any(m.startswith("bot.warehouse") for m in _importers("duckdb"))
    assert "bot.cli.demo" not in _importers("sandbox")  # loaded by name, on purpose
