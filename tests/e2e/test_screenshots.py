"""Screenshots for the README from the sandbox page in Chromium: the real app answering on the
demo account. Each picture is taken only after checking that what it shows is right."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browserkit import screenshot_dir
from tests.e2e.conftest import Demo, Stack

DOCS = screenshot_dir()

pytestmark = pytest.mark.browser


def _type_and_wait(browser: Any, stack: Stack, channel: str, command: str, marker: str) -> Any:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{stack.sb.base_url}/?channel={channel}")
    page.wait_for_selector("body.ready")
    page.locator("#composer-input").fill(command)
    page.locator("#composer-input").press("Enter")
    answer = page.locator("#messages .msg.ephemeral", has_text=marker)
    answer.wait_for()
    assert errors == []
    return page, answer


def _shoot(page: Any, answer: Any, name: str) -> None:
    # Long answers: show their top (header, summary, worst first) rather than the tail.
    answer.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.mouse.move(1270, 890)  # no hover highlight in the picture
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / name))
    page.context.close()


def test_failing_screenshot(stack: Stack, demo: Demo, browser: Any) -> None:
    page, answer = _type_and_wait(browser, stack, "C02ALERTS", "/jobs failing 24h", "worst:")
    shown = answer.inner_text()
    assert "Only visible to you" in shown
    worst = demo.story.failing[0]
    assert f"worst: {worst.job.name}" in shown
    for f in demo.story.failing_designed():
        assert f.job.name in shown and f"{f.streak} failures in a row" in shown
    assert answer.locator("a.link", has_text=worst.job.name).count() == 1
    assert answer.locator("button", has_text="Share in channel").count() == 1
    assert answer.locator("button", has_text="Rerun failed tasks").count() >= 3
    _shoot(page, answer, "failing.png")


def test_status_screenshot(stack: Stack, demo: Demo, browser: Any) -> None:
    late = demo.story.late[0].job
    page, answer = _type_and_wait(
        browser, stack, "C01GENERAL", f"/jobs status {late.name}", "Latest runs"
    )
    assert answer.locator(".block-header").first.inner_text().endswith(late.name)
    shown = answer.inner_text()
    for word in ("Success 7d", "Duration p50 / p90", "Cost 30d", "SLA", "Met"):
        assert word in shown
    assert "<!date" not in shown  # dates are rendered, not shown raw
    _shoot(page, answer, "status.png")


def test_cost_screenshot(stack: Stack, browser: Any) -> None:
    page, answer = _type_and_wait(browser, stack, "C07FINANCE", "/jobs cost 7d by team", "Top")
    shown = answer.inner_text()
    assert "Cost · last 7d by tag:team" in shown
    assert "vs the previous 7d" in shown
    for team in ("data-eng", "ml-platform", "analytics"):
        assert team in shown
    _shoot(page, answer, "cost.png")
