"""`jobs-bot demo` and `jobs-bot seed`: the local stand-ins for Slack and Databricks. They live
in the `sandbox` package (the `demo` extra), imported here lazily: the product runs without it,
and a missing extra is one clear line, not a traceback."""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType

from bot.cli.ask import DEFAULT_DB
from bot.errors import UserError


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("demo", help="local Slack sandbox + embedded warehouse + the bot")
    s.add_argument("--port", type=int, default=3333, help="sandbox web page port (0 = any)")
    s.add_argument("--db", default=None, help="warehouse file (default: a fresh demo account)")
    s.add_argument("--config", default=None, help="config YAML (default: the demo's own)")
    s.add_argument("--seed", type=int, default=7, help="demo account seed")
    s.set_defaults(handler=demo)

    s = sub.add_parser("seed", help="generate a demo account into a warehouse file")
    s.add_argument("--db", default=DEFAULT_DB)
    s.add_argument("--jobs", type=int, default=60)
    s.add_argument("--days", type=int, default=30)
    s.add_argument("--workspaces", type=int, default=3)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--end", default=None, help="ISO time the account ends at (default: now)")
    s.set_defaults(handler=seed)


def _sandbox(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and (e.name.startswith("sandbox") or e.name == "aiohttp"):
            raise UserError(
                "the demo needs the `demo` extra: pip install 'jobs-bot[demo]' "
                "(or run ./jobs-bot demo from a clone, which installs it)"
            ) from None
        raise


def demo(args: argparse.Namespace) -> int:
    run_demo = _sandbox("sandbox.demo").demo_command
    return int(run_demo(port=args.port, db=args.db, config=args.config, seed=args.seed))


def seed(args: argparse.Namespace) -> int:
    seed_command = _sandbox("sandbox.demo_account").seed_command
    return int(
        seed_command(
            db=args.db,
            jobs=args.jobs,
            days=args.days,
            workspaces=args.workspaces,
            seed=args.seed,
            end=args.end,
        )
    )
