"""Golden cases for answer variants: an empty short window while jobs are failing now."""

from __future__ import annotations

from typing import Any

from bot.service.views import FailingView, template_data

EVIL = "<!channel> *boom* <http://evil|click> &amp;"

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "failing_empty_but_failing_now": (
        "failing.json.j2",
        template_data(
            FailingView(
                window="30m",
                window_phrase="in the last 30m",
                window_title="last 30m",
                jobs=(),
                count=0,
                failing_now=("nightly_sales", EVIL, "ventes_journalières 📦"),
                failing_now_count=7,
            )
        ),
    ),
}
