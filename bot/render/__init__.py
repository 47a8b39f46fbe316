"""Turning plain data into messages: the template `Renderer` (Jinja2 → Block Kit), Block Kit
limits (`limits`), mrkdwn escaping (`mrkdwn`), number/time formatting (`formatting`) and
Block Kit as terminal text (`text`). Pure: no network, no database, an injected clock."""

from bot.render.limits import RenderError
from bot.render.renderer import Renderer, default_templates_dir, render

__all__ = ["RenderError", "Renderer", "default_templates_dir", "render"]
