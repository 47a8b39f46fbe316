"""Rendering messages: the Jinja2 environment for `templates/*.json.j2`, its filters, and
`render()` which turns a template plus plain data into a Block Kit message dict.

Rules for templates (DESIGN.md rule 4):
- Text from Databricks or users goes through `mrkdwn` and only then through `tojson`:
  ``"text": {{ ("*" ~ (job.name | mrkdwn) ~ "* failed") | tojson }}``.
- `tojson` here is plain JSON. Jinja's built-in one writes `<` as `\\u003c`, which looks
  escaped in the template output but decodes straight back to `<` — a live `<!channel>` in
  Slack. Ours leaves `<` visible so what the template emits is what Slack receives.
- List items carry `"block_id": "item-<key>"` (or `item-<key>.<part>`) so long lists can be
  cut with "…and N more" (see bot.render.limits).

Pure: no network, no database; "now" comes from the injected clock.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from bot.clock import Clock, SystemClock
from bot.render import formatting, mrkdwn
from bot.render.limits import RenderError, enforce

__all__ = ["RenderError", "Renderer", "default_templates_dir", "render"]


def default_templates_dir() -> Path:
    """The repo's `templates/` (editable install) or the copy packed into the wheel."""
    package = Path(__file__).resolve().parent.parent  # bot/
    for candidate in (package / "_templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    return package.parent / "templates"


def tojson(value: Any) -> str:
    """JSON for embedding in a template; `<`, `>` and `&` are left as they are (see module doc)."""
    return json.dumps(value, ensure_ascii=False)


class Renderer:
    """A Jinja2 environment bound to a templates folder, a display timezone and a clock."""

    def __init__(
        self,
        templates_dir: str | Path | None = None,
        *,
        tz: str = "UTC",
        currency: str = "USD",
        clock: Clock | None = None,
    ) -> None:
        self.templates_dir = Path(templates_dir) if templates_dir else default_templates_dir()
        self.tz = tz
        self.currency = currency
        self.clock: Clock = clock or SystemClock()
        self.env = self._environment()

    def render(self, template_name: str, /, **data: Any) -> dict[str, Any]:
        """Render `template_name` with `data`, parse the JSON and fit it to Block Kit limits."""
        try:
            template = self.env.get_template(template_name)
        except jinja2.TemplateNotFound:
            raise RenderError(f"no template {template_name!r} in {self.templates_dir}") from None
        return self._finish(template_name, template.render(**data))

    def render_string(self, source: str, /, **data: Any) -> dict[str, Any]:
        """Like `render` for template text given inline (previews, tests)."""
        return self._finish("<string>", self.env.from_string(source).render(**data))

    def _finish(self, name: str, output: str) -> dict[str, Any]:
        try:
            message = json.loads(output)
        except json.JSONDecodeError as e:
            lines = output.splitlines()
            near = lines[e.lineno - 1].strip() if 0 < e.lineno <= len(lines) else ""
            raise RenderError(
                f"{name} did not produce valid JSON ({e.msg} at line {e.lineno}): {near[:200]}"
            ) from None
        if not isinstance(message, dict):
            raise RenderError(f"{name} must produce a JSON object, not {type(message).__name__}")
        return enforce(message)

    def _environment(self) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.templates_dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # output is JSON, not HTML; escaping is the filters' job
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters.update(
            mrkdwn=mrkdwn.escape,
            tojson=tojson,
            truncate_text=mrkdwn.truncate_text,
            codeblock=mrkdwn.codeblock,
            link=mrkdwn.link,
            mention=mrkdwn.user_mention,
            slack_date=self._slack_date,
            duration=formatting.duration,
            money=self._money,
            pct=formatting.pct,
            ago=self._ago,
            relative=self._ago,
            sparkline=formatting.sparkline,
        )
        return env

    def _slack_date(
        self, value: datetime | None, token: str = "{date_short_pretty} at {time}"
    ) -> str:
        return mrkdwn.slack_date(value, self.tz, token)

    def _money(self, value: float | None, currency: str | None = None, decimals: int = 2) -> str:
        return formatting.money(value, currency or self.currency, decimals)

    def _ago(self, value: datetime | None, now: datetime | None = None) -> str:
        return formatting.ago(value, now or self.clock.now())


@functools.lru_cache(maxsize=4)
def _default_renderer(templates_dir: str | None) -> Renderer:
    return Renderer(templates_dir)


def render(template_name: str, /, **data: Any) -> dict[str, Any]:
    """Render with the repo's templates, UTC display and the system clock.

    Services that know the configured timezone and the injected clock build a `Renderer`.
    """
    return _default_renderer(None).render(template_name, **data)
