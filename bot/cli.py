"""`jobs-bot` command line: run | demo | ask | check-config | seed | load | export | query.

A thin layer: parse arguments, call one function, turn known errors into one clear line.
Imports happen inside each command so `jobs-bot --help` stays fast and nothing runs at
import time.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from bot.errors import UserError

DEFAULT_DB = os.environ.get("JOBS_BOT_DB", "jobs-bot.duckdb")
DEFAULT_CONFIG = "jobs-bot.yml"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jobs-bot",
        description="Databricks job failures, SLA breaches and cost anomalies, in Slack.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("demo", help="local Slack sandbox + embedded warehouse + the bot")
    s.add_argument("--port", type=int, default=3333, help="sandbox web page port (0 = any)")
    s.add_argument("--db", default=None, help="warehouse file (default: a fresh demo account)")
    s.add_argument("--config", default=None, help="config YAML (default: built-in demo config)")
    s.add_argument("--seed", type=int, default=7, help="demo account seed")

    s = sub.add_parser("run", help="production: Socket Mode (default) or HTTP mode")
    s.add_argument("--config", default=DEFAULT_CONFIG)
    s.add_argument("--http", type=int, metavar="PORT", default=None, help="serve HTTP on PORT")

    s = sub.add_parser("ask", help='answer a /jobs command in the terminal: ask "/jobs failing"')
    s.add_argument("text", help='the command, e.g. "/jobs failing 24h"')
    s.add_argument("--at", default=None, help="ISO time to treat as now")
    s.add_argument("--db", default=DEFAULT_DB)
    s.add_argument("--config", default=None)
    s.add_argument("--user", default="U0ASKCLI", help="Slack user id asking")
    s.add_argument("--json", action="store_true", help="print the Block Kit payload")

    s = sub.add_parser("check-config", help="validate a config file")
    s.add_argument("file", nargs="?", default=DEFAULT_CONFIG)

    s = sub.add_parser("seed", help="generate a demo account into a warehouse file")
    s.add_argument("--db", default=DEFAULT_DB)
    s.add_argument("--jobs", type=int, default=60)
    s.add_argument("--days", type=int, default=30)
    s.add_argument("--workspaces", type=int, default=3)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--end", default=None, help="ISO time the account ends at (default: now)")

    s = sub.add_parser("load", help="load an export of system tables (one file per table)")
    s.add_argument("dir")
    s.add_argument("--db", default=DEFAULT_DB)

    s = sub.add_parser("export", help="write every system table of a warehouse file to DIR")
    s.add_argument("dir")
    s.add_argument("--db", default=DEFAULT_DB)
    s.add_argument("--format", choices=["parquet", "jsonl"], default="parquet")

    s = sub.add_parser("query", help="run a named query (see --list)")
    s.add_argument("name", nargs="?")
    s.add_argument("--list", action="store_true", help="list the queries and their params")
    s.add_argument("--param", action="append", default=[], metavar="K=V")
    s.add_argument("--at", default=None, help="ISO time to treat as now")
    s.add_argument("--db", default=DEFAULT_DB)
    s.add_argument("--format", choices=["table", "json"], default="table")
    return p


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "check-config":
        from bot.config import check_file

        problems = check_file(args.file)
        for line in problems:
            print(line)
        if problems:
            return 1
        print(f"{args.file}: OK")
        return 0
    if cmd == "seed":
        from bot.sandbox.demo_account import seed_command

        return seed_command(
            db=args.db,
            jobs=args.jobs,
            days=args.days,
            workspaces=args.workspaces,
            seed=args.seed,
            end=args.end,
        )
    if cmd == "load":
        from bot.warehouse.loader import load_command

        return load_command(directory=args.dir, db=args.db)
    if cmd == "export":
        from bot.warehouse.loader import export_command

        return export_command(directory=args.dir, db=args.db, fmt=args.format)
    if cmd == "query":
        from bot.warehouse.commands import query_command

        return query_command(
            name=args.name,
            list_only=args.list,
            params=args.param,
            at=args.at,
            db=args.db,
            fmt=args.format,
        )
    if cmd == "demo":
        from bot.sandbox.demo import demo_command

        return demo_command(port=args.port, db=args.db, config=args.config, seed=args.seed)
    if cmd == "run":
        from bot.slack.runner import run_command

        return run_command(config=args.config, http_port=args.http)
    if cmd == "ask":
        from bot.service_cli import ask_command

        return ask_command(
            text=args.text,
            at=args.at,
            db=args.db,
            config=args.config,
            user=args.user,
            as_json=args.json,
        )
    raise AssertionError(cmd)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return _dispatch(args)
    except UserError as e:
        print(f"jobs-bot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
