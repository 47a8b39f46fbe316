"""`jobs-bot` command line: run | demo | ask | check-config | seed | load | export | query.

A thin layer: each subcommand family is one module with `add(subparsers)` (its arguments) and
`run(args)` (call one function, print what it returns). Known errors become one clear line.
Imports of the heavy parts happen inside `run`, so `jobs-bot --help` stays fast and nothing
runs at import time.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bot.cli import ask, audit, check_config, demo, doctor, query, replay, run, tables
from bot.errors import UserError

_FAMILIES = (demo, run, ask, check_config, tables, query, audit, doctor, replay)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jobs-bot",
        description="Databricks job failures, SLA breaches and cost anomalies, in Slack.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in _FAMILIES:
        family.add(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # Their INFO lines (every scheduled tick, every HTTP request) bury what matters.
        for noisy in ("apscheduler", "databricks.sdk", "urllib3", "aiohttp.access"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UserError as e:
        print(f"jobs-bot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
