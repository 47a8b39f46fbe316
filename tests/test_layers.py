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


def _lint_imports_on_a_copy(tmp_path: Path, inject: dict[str, str]) -> str:
    """Run the project's import-linter contracts on a copy of bot/ and sandbox/ in which the
    given modules (dotted name → source) have been added; returns its report."""
    import shutil
    import subprocess
    import sys

    root = BOT.parent
    for package in ("bot", "sandbox"):
        shutil.copytree(
            root / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")
    for dotted, source in inject.items():
        (tmp_path / Path(*dotted.split("."))).with_suffix(".py").write_text(source)
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
    )
    return done.stdout + done.stderr


def test_the_layer_contracts_refuse_a_new_module_that_breaks_them(tmp_path: Path) -> None:
    # A package nobody listed when the contracts were written is covered all the same.
    report = _lint_imports_on_a_copy(
        tmp_path,
        {
            "bot.newthing": "import duckdb\nimport sqlalchemy\n",
            "bot.service.sneaky": "from bot.slack import app\nfrom bot.store import database\n",
            "bot.monitors.impure": "from bot.store import records\n",
        },
    )
    assert "bot.newthing -> duckdb" in report, report
    assert "bot.newthing -> sqlalchemy" in report, report
    assert "bot.service.sneaky -> bot.slack" in report, report
    assert "bot.service.sneaky -> bot.store.database" in report, report
    assert "bot.monitors.impure -> bot.store" in report, report
    assert "broken" in report.lower()


def test_the_layer_contracts_hold_on_the_tree_as_it_is(tmp_path: Path) -> None:
    report = _lint_imports_on_a_copy(tmp_path, {})
    assert "0 broken" in report, report
