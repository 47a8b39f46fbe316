"""Shared test fixtures: one headless Debian Chromium for every browser test, and one real
PostgreSQL server per test process for everything that runs on it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# The shared helpers assert too (tests/support/ask.py, chart.py, ...): rewritten like test
# modules, so a failing check shows its values. Registered before they are imported.
pytest.register_assert_rewrite("tests.support")

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.demo import Demo, make_demo  # noqa: E402
from tests.support.postgres import PostgresUnavailable, start_postgres  # noqa: E402


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. "
            "Install it with `apt-get install chromium` (./run-tests does this when run as root)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """JOBS_BOT_TEST_POSTGRES_URL, else a throwaway cluster started once per test process.
    Skipped (with the reason) where none can be started — but in CI that is a failure."""
    given = os.environ.get("JOBS_BOT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    try:
        server = start_postgres()
    except PostgresUnavailable as problem:
        # In CI a skipped engine would pass silently; there it must be a failure.
        if _in_ci():
            pytest.fail(f"PostgreSQL is required in CI (CI is set): {problem}")
        pytest.skip(f"no PostgreSQL for these tests: {problem}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The small demo account (tests/support/demo.py), generated once per test process."""
    return make_demo(tmp_path_factory.mktemp("demo"))
