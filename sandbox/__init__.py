"""Local stand-ins for the outside world, for `jobs-bot demo` and the tests: a Slack
(`sandbox.slack`), a demo account generator (`sandbox.demo_account`) and the demo's own config.
Outside the product package and installed with the `demo` extra; `bot/` never imports it
except the `demo` subcommand, lazily."""

from __future__ import annotations

from pathlib import Path

DEMO_CONFIG = str(Path(__file__).with_name("demo_config.yml"))
